"""Faults injected for real against the app served by gunicorn with gunicorn.conf.py.

Each test gets services of its own, so stopping them disturbs nothing else on the
machine: a PostgreSQL server made with the server's own commands (initdb, pg_ctl) in a
temporary directory, a Redis server on a port of its own, a size-limited tmpfs. Every
service a test stops is started again in a ``finally`` block, and thrown away at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from processes import free_port  # noqa: E402

ARTICLE = "/publications/khamenei-rejects-us-talks-on-twitter"
PG_BIN = max(
    Path("/usr/lib/postgresql").glob("*/bin"),
    key=lambda path: float(path.parent.name) if path.parent.name[:1].isdigit() else 0.0,
    default=None,
)


def wait_for_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


# --- HTTP as a reader's browser does it ---------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer at all (refused, reset, timed out)
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def fetch(
    url: str,
    form: dict[str, str] | None = None,
    cookie: str = "",
    timeout: float = 15,
    *,
    json_body: dict[str, str] | None = None,
) -> Answer:
    """One GET (or form or JSON POST) on a fresh connection; never raises."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None or json_body is not None:
        if json_body is not None:
            body, headers["Content-Type"] = json.dumps(json_body), "application/json"
        else:
            body = urlencode(form or {})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Origin"] = f"{parts.scheme}://{parts.netloc}"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    try:
        connection.request("GET" if body is None else "POST", path, body, headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return Answer(
            response.status,
            text,
            {k.lower(): v for k, v in response.getheaders()},
            time.monotonic() - started,
        )
    except OSError:
        return Answer(0, seconds=time.monotonic() - started)
    finally:
        connection.close()


def form_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def comment_form(page: str, body: str, name: str = "Ada") -> dict[str, str]:
    """The article's comment form filled in, with the page's token."""
    return {
        "csrf_token": form_token(page),
        "parent_id": "",
        "name": name,
        "email": "",
        "website": "",
        "body": body,
    }


def session_cookie(answer: Answer) -> str:
    match = re.search(r"session=([^;]+)", answer.headers.get("set-cookie", ""))
    return f"session={match.group(1)}" if match else ""


# --- the app under gunicorn -------------------------------------------------------------


@dataclass
class Site:
    """gunicorn (gunicorn.conf.py, 2 workers) on a seeded database of its own."""

    database_url: str
    workdir: Path
    settings: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return (self.workdir / "server.log").read_text(errors="replace")

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FLASK_SQLALCHEMY_DATABASE_URI": self.database_url,
            "FLASK_SECRET_KEY": "faults-" + secrets.token_hex(16),
            "FLASK_SECURE_COOKIES": "false",
            "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_MEDIA_ROOT": str(self.workdir / "media"),
            "FLASK_MAIL_FILE_PATH": str(self.workdir / "mail"),
            **{f"FLASK_{k}": v for k, v in self.settings.items()},
        }

    def flask(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "discussion", *args],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"flask {args} failed:\n{result.stdout}{result.stderr}"
        return result.stdout

    def prepare(self) -> None:
        self.flask("db", "upgrade")
        self.flask("seed")

    def start(self) -> None:
        self.port = self.port or free_port()
        self.log_file = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{self.port}"],
            env=self.env(),
            cwd=ROOT,
            start_new_session=True,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if fetch(self.url + "/healthz", timeout=2).status == 200:
                return
            assert self.process.poll() is None, f"gunicorn exited:\n{self.log}"
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer:\n{self.log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def no_tracebacks(self) -> None:
        """No request ended in an exception and no worker failed: nothing reached Flask's
        500 handler ("Exception on /path") or escaped into gunicorn."""
        log = self.log
        failures = ("Exception on ", "Error handling request", "Exception in worker", "Swallowing")
        for failure in failures:
            assert failure not in log, log


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """``serve(database_url, **settings)``: a started Site, stopped after the test."""
    sites: list[Site] = []

    def start(database_url: str, **settings: str) -> Site:
        site = Site(database_url, tmp_path / f"site{len(sites)}", dict(settings))
        site.workdir.mkdir()
        sites.append(site)
        site.prepare()
        site.start()
        return site

    yield start
    for site in sites:
        site.stop()


# --- services of the test's own -----------------------------------------------------------


def _has_account(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _as_postgres_user() -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the postgres account."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Service:
    """A server a test stops and starts."""

    def stop(self) -> None: ...

    def start(self) -> None: ...

    @contextmanager
    def down(self) -> Iterator[None]:
        """Stopped within the block, started again after it, whatever happens inside."""
        self.stop()
        try:
            yield
        finally:
            self.start()


@dataclass
class Postgres(Service):
    """A PostgreSQL server of the test's own (initdb, pg_ctl), on 127.0.0.1."""

    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/faults"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.directory / "data"),
                "-l",
                str(self.directory / "server.log"),
                "-w",
                "-t",
                "60",
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=90,
        )

    def create(self) -> None:
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "initdb"),
                "-D",
                str(self.directory / "data"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        with (self.directory / "data" / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.directory}'\nfsync = off\n"
            )
        self._ctl("start")
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE faults")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")

    def start(self) -> None:
        self._ctl("start")

    def count(self, sql: str, *params: object) -> int:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=faults"
        ) as connection:
            return connection.execute(sql, params).fetchone()[0]


@contextmanager
def temporary_postgres() -> Iterator[Postgres]:
    """A PostgreSQL server made for the block and thrown away after it."""
    directory = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    directory.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = Postgres(directory)
    try:
        server.create()
        yield server
    finally:
        subprocess.run(
            [
                *_as_postgres_user(),
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(directory / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    if PG_BIN is None or not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL's server programs are not installed (.ci/run installs them)")
    if os.geteuid() == 0 and not _has_account("postgres"):
        pytest.skip("running as root needs the postgres account for initdb (Debian's package)")
    with temporary_postgres() as server:
        yield server


@dataclass
class Redis(Service):
    """A Redis server of the test's own, keeping nothing on disk."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def keys(self, pattern: str) -> list[bytes]:
        import redis

        return redis.Redis(port=self.port, socket_timeout=2).keys(pattern)


@pytest.fixture
def redis_server() -> Iterator[Redis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    server = Redis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 64 MB tmpfs, mounted for the test and unmounted after it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root (CI runs as root)")
    mount = Path(tempfile.mkdtemp(prefix="faults-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        mount.rmdir()
        pytest.skip(f"this machine refuses to mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def fill(directory: Path) -> Path:
    """Fill the file system holding ``directory`` to the last byte; returns the filler."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 20, 4096, 1):
            try:
                while out.write(b"\0" * size):
                    pass
            except OSError:
                pass
    return filler
