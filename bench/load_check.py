"""Load and crash check: many clients posting at once must lose nothing and never see a 5xx.

Starts the app under gunicorn (4 workers by default) on a fresh database, lets 16
clients post 2,000 comments between them, and checks: no 5xx, and every comment
that was acknowledged (303) is stored exactly once. With ``--kill`` the server is
killed with SIGKILL halfway and started again; then every acknowledged comment must
still be there, the database must pass its integrity check and the site must serve.

    .venv/bin/python bench/load_check.py --database sqlite
    .venv/bin/python bench/load_check.py --database postgresql --kill

Loopback only; bounded by --timeout. Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from processes import ROOT, free_port, gunicorn, start, stop

PYTHON = sys.executable
SLUG = "khamenei-rejects-us-talks-on-twitter"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def prepare_database(kind: str, workdir: Path, name: str = "discussion_load_check") -> str:
    """A fresh, migrated, seeded database (on PostgreSQL, ``name``); returns its URL."""
    if kind == "sqlite":
        url = f"sqlite:///{workdir / 'load.sqlite3'}"
    else:
        import sqlalchemy as sa

        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(sa.text(f"CREATE DATABASE {name}"))
        engine.dispose()
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    for command in (["db", "upgrade"], ["seed"]):
        subprocess.run(
            [PYTHON, "-m", "flask", "--app", "discussion", *command],
            env=server_env(url),
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
    return url


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": url,
        "FLASK_SECRET_KEY": SECRET,
        "FLASK_RATELIMIT_ENABLED": "false",
        "FLASK_SECURE_COOKIES": "false",
    }


SECRET = secrets.token_hex(32)


class Server:
    """The app under gunicorn in its own process group, so SIGKILL takes every worker."""

    def __init__(self, url: str, port: int, workers: int) -> None:
        self.url, self.port, self.workers = url, port, workers
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = gunicorn(PYTHON, "discussion:create_app()", self.port, self.workers)
        self.process = start(argv, server_env(self.url), self.port)

    def kill(self) -> None:
        assert self.process
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process:
            stop(self.process)


class Client(threading.Thread):
    """One reader's browser: a session, a CSRF token, comments posted one after another."""

    def __init__(self, run: Run) -> None:
        super().__init__(daemon=True)
        self.run_ = run
        self.conn: http.client.HTTPConnection | None = None
        self.cookie = ""
        self.token = ""

    def connect(self) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", self.run_.port, timeout=30)
        self.conn.request("GET", f"/publications/{SLUG}", headers={"Cookie": self.cookie})
        response = self.conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        self.token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)

    def run(self) -> None:
        while (n := self.run_.next_number()) is not None:
            body = f"load-check {self.run_.tag} comment {n}"
            try:
                if self.conn is None:
                    self.connect()
                assert self.conn
                self.conn.request(
                    "POST",
                    f"/publications/{SLUG}/comments",
                    body=urlencode(
                        {"name": f"Client {self.name}", "body": body, "csrf_token": self.token}
                    ),
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Cookie": self.cookie,
                    },
                )
                response = self.conn.getresponse()
                response.read()
                cookie = response.getheader("Set-Cookie")
                if cookie:
                    self.cookie = cookie.split(";", 1)[0]
                self.run_.record(body, response.status)
            except (OSError, http.client.HTTPException, AttributeError):
                # Connection refused or cut (the server was killed): not acknowledged.
                self.run_.record(body, 0)
                self.conn = None
                time.sleep(0.05)


class Run:
    """Shared state of one load run."""

    def __init__(self, total: int, port: int) -> None:
        self.total, self.port = total, port
        self.tag = secrets.token_hex(4)
        self.lock = threading.Lock()
        self.issued = 0
        self.results: dict[str, int] = {}

    def next_number(self) -> int | None:
        with self.lock:
            if self.issued >= self.total:
                return None
            self.issued += 1
            return self.issued

    def record(self, body: str, status: int) -> None:
        with self.lock:
            self.results[body] = status

    def acknowledged(self) -> int:
        with self.lock:
            return sum(1 for s in self.results.values() if s == 303)


def stored_counts(url: str, prefix: str) -> Counter[str]:
    """How many times each comment text starting with ``prefix`` is stored."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT body_text, count(*) FROM comments WHERE body_text LIKE :p "
                "GROUP BY body_text"
            ),
            {"p": prefix + "%"},
        ).all()
    engine.dispose()
    return Counter({body: n for body, n in rows})


def integrity(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        if url.startswith("sqlite"):
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            orphans = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            result = "ok" if check == "ok" and not orphans else f"{check}; {len(orphans)} orphans"
        else:
            orphans = conn.execute(
                sa.text(
                    "SELECT count(*) FROM comments c LEFT JOIN publications p "
                    "ON p.id = c.publication_id WHERE p.id IS NULL"
                )
            ).scalar()
            conn.execute(sa.text("SELECT count(*) FROM comments")).scalar()
            result = "ok" if orphans == 0 else f"{orphans} orphans"
    engine.dispose()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill", action="store_true", help="SIGKILL the server halfway")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = prepare_database(args.database, Path(tmp))
        port = free_port()
        server = Server(url, port, args.workers)
        server.start()
        run = Run(args.comments, port)
        clients = [Client(run) for _ in range(args.clients)]
        started = time.monotonic()
        for client in clients:
            client.start()
        killed_at = None
        try:
            deadline = started + args.timeout
            while any(c.is_alive() for c in clients) and time.monotonic() < deadline:
                if args.kill and killed_at is None and run.acknowledged() >= args.comments // 2:
                    server.kill()
                    killed_at = run.acknowledged()
                    time.sleep(0.5)
                    server.start()
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            timed_out = any(c.is_alive() for c in clients)
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            probe.request("GET", f"/publications/{SLUG}")
            serves = probe.getresponse().status == 200
        finally:
            server.stop()

        statuses = Counter(run.results.values())
        stored = stored_counts(url, f"load-check {run.tag} ")
        acked = [b for b, s in run.results.items() if s == 303]
        missing = [b for b in acked if stored[b] == 0]
        doubled = [b for b, n in stored.items() if n > 1]
        unacked_stored = sum(1 for b, s in run.results.items() if s != 303 and stored[b])
        check = integrity(url)

    errors_5xx = sum(n for s, n in statuses.items() if s >= 500)
    print(f"database        {args.database}")
    print(f"workers/clients {args.workers}/{args.clients}")
    print(
        f"comments sent   {len(run.results)} in {elapsed:.1f} s "
        f"({len(run.results) / elapsed:.0f}/s)"
    )
    print(f"statuses        {dict(sorted(statuses.items()))}  (0 = connection refused/cut)")
    if args.kill:
        print(f"killed after    {killed_at} acknowledged")
        print(f"unacknowledged but stored  {unacked_stored}")
    print(f"acknowledged    {len(acked)}; missing {len(missing)}; stored twice {len(doubled)}")
    print(f"integrity       {check}; serves after: {serves}")
    ok = (
        not timed_out
        and errors_5xx == 0
        and not missing
        and not doubled
        and check == "ok"
        and serves
        and (args.kill or len(acked) == args.comments)
    )
    print("RESULT          " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
