"""What readers get during each fault, and how soon the site recovers (figures for
bench/README.md). The fault suite (tests/faults/) asserts the behaviour; this measures it.

    .venv/bin/python bench/faults.py [--outage 5]

Runs the app under gunicorn (gunicorn.conf.py, 2 workers) with the fault suite's own
services: a PostgreSQL server made for the run (stopped and started), a Redis server of
its own, nginx with deploy/nginx.conf. Loopback only; about two minutes.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import proxy  # noqa: E402
from processes import stop as stop_server  # noqa: E402

from tests.faults.support import (  # noqa: E402
    ARTICLE,
    Answer,
    Redis,
    Site,
    comment_form,
    fetch,
    session_cookie,
    temporary_postgres,
)


class Load:
    """Threads each repeating one request until stopped, every answer kept with its time."""

    def __init__(self, **kinds: Callable[[int], Answer]) -> None:
        self.kinds = kinds
        self.answers: dict[str, list[tuple[float, Answer]]] = {k: [] for k in kinds}
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(k,)) for k in kinds]

    def _run(self, kind: str) -> None:
        n = 0
        while not self.stopping.is_set():
            self.answers[kind].append((time.monotonic(), self.kinds[kind](n)))
            n += 1
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(60)

    def share(self, kind: str, start: float, end: float, ok: set[int]) -> str:
        window = [a for t, a in self.answers[kind] if start <= t - a.seconds and t <= end]
        if not window:
            return "no requests"
        good = sum(a.status in ok for a in window)
        statuses = sorted({a.status for a in window})
        return f"{good / len(window):.0%} of {len(window)} (statuses {statuses})"


def postgres_restart(workdir: Path, outage: float) -> None:
    with temporary_postgres() as postgres:
        site = Site(postgres.url, workdir / "pg")
        site.workdir.mkdir()
        site.prepare()
        site.start()
        nginx, port = proxy.start_nginx(workdir / "pg", site.port, 1024)
        try:
            page = fetch(site.url + ARTICLE).text
            posted = fetch(site.url + ARTICLE + "/comments", comment_form(page, "before"))
            cookie = session_cookie(posted)
            via = f"http://127.0.0.1:{port}"
            load = Load(
                anonymous=lambda n: fetch(site.url + ARTICLE),
                nginx=lambda n: fetch(via + ARTICLE),
                session=lambda n: fetch(site.url + ARTICLE, cookie=cookie),
                post=lambda n: fetch(
                    site.url + ARTICLE + "/comments", comment_form(page, f"outage {n}")
                ),
            )
            with load:
                time.sleep(2)
                postgres.stop()
                down = time.monotonic()
                time.sleep(outage)
                postgres.start()
                up = time.monotonic()
                recovered = None
                while recovered is None and time.monotonic() - up < 30:
                    if fetch(site.url + ARTICLE, cookie=cookie).status == 200:
                        recovered = time.monotonic() - up
                    time.sleep(0.01)
                time.sleep(1)
            print(f"\nPostgreSQL stopped for {up - down:.1f} s (pg_ctl stop -m fast … start)")
            print(f"  anonymous readers, gunicorn: {load.share('anonymous', down, up, {200})}")
            print(f"  anonymous readers, nginx:    {load.share('nginx', down, up, {200})}")
            print(f"  readers with a session:      {load.share('session', down, up, {200})}")
            print(f"  comment POSTs answered 503:  {load.share('post', down, up, {503})}")
            print(f"  first 200 for a session reader after the server is up: {recovered:.2f} s")
            acknowledged = [a for _, a in load.answers["post"] if a.status == 303]
            stored = postgres.count(
                "SELECT count(*) FROM comments WHERE body_text LIKE %s", "outage %"
            )
            print(f"  comments acknowledged {len(acknowledged)}, stored {stored}")
            _tracebacks(site)
        finally:
            stop_server(nginx)
            site.stop()


def redis_outage(workdir: Path, outage: float) -> None:
    redis = Redis()
    redis.start()
    site = Site(
        f"sqlite:///{workdir / 'redis.sqlite3'}",
        workdir / "redis",
        {
            "RATELIMIT_ENABLED": "true",
            "RATELIMIT_STORAGE_URI": redis.url,
            "CACHE_TYPE": "RedisCache",
            "CACHE_REDIS_URL": redis.url,
        },
    )
    site.workdir.mkdir()
    try:
        site.prepare()
        site.start()
        page = fetch(site.url + ARTICLE).text
        load = Load(
            session=lambda n: fetch(site.url + ARTICLE, cookie="session=x"),
            post=lambda n: fetch(site.url + ARTICLE + "/comments", comment_form(page, f"r {n}")),
        )
        with load:
            time.sleep(2)
            redis.stop()
            down = time.monotonic()
            time.sleep(outage)
            redis.start()
            up = time.monotonic()
            returned = None
            while returned is None and time.monotonic() - up < 60:
                if redis.keys("LIMITS*") and redis.keys("flask_cache_*"):
                    returned = time.monotonic() - up
                time.sleep(0.1)
        print(f"\nRedis stopped for {up - down:.1f} s")
        print(f"  readers with a session:   {load.share('session', down, up, {200})}")
        print(f"  comment POSTs (303/429):  {load.share('post', down, up, {303, 429})}")
        print(f"  limits and cache back in Redis after: {returned or float('nan'):.1f} s")
        _tracebacks(site)
    finally:
        site.stop()
        redis.stop()


def _tracebacks(site: Site) -> None:
    """How many tracebacks the server logged, and the end of the first."""
    log = site.log
    print(f"  tracebacks in the server log: {log.count('Traceback')}")
    if "Traceback" in log:
        start = log.rindex("\n", 0, log.index("Traceback")) + 1
        print("    " + "\n    ".join(log[start:].splitlines()[:60]))


def _dribble(port: int, count: int, seconds: float) -> threading.Event:
    stop = threading.Event()

    def one() -> None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                for byte in f"GET {ARTICLE} HTTP/1.1\r\nHost: x\r\nX-Slow: {'a' * 200}".encode():
                    if stop.is_set():
                        return
                    s.send(bytes([byte]))
                    time.sleep(seconds)
        except OSError:
            pass

    for _ in range(count):
        threading.Thread(target=one, daemon=True).start()
    return stop


def _readers(url: str, count: int = 300) -> str:
    answers = [fetch(url + ARTICLE, cookie="session=x", timeout=5) for _ in range(count)]
    times = sorted(a.seconds for a in answers)
    ok = sum(a.status == 200 for a in answers)
    return (
        f"{ok / len(answers):.0%} answered within 5 s, p50 {times[len(times) // 2] * 1000:.1f} ms, "
        f"p99 {times[int(len(times) * 0.99) - 1] * 1000:.1f} ms"
    )


def slow_clients(workdir: Path, dribblers: int) -> None:
    site = Site(f"sqlite:///{workdir / 'slow.sqlite3'}", workdir / "slow", {"PROXY_COUNT": "1"})
    site.workdir.mkdir()
    site.prepare()
    site.start()
    nginx, port = proxy.start_nginx(workdir / "slow", site.port, 1024)
    try:
        via = f"http://127.0.0.1:{port}"
        print("\nSlow clients (a byte every 0.2 s), 300 readers with a session, one at a time")
        print(f"  nginx, alone:                 {_readers(via)}")
        stop = _dribble(port, dribblers, 0.2)
        time.sleep(1)
        print(f"  nginx, {dribblers} slow clients:      {_readers(via)}")
        stop.set()
        time.sleep(1)
        stop = _dribble(site.port, 8, 0.2)
        time.sleep(1)
        print(f"  gunicorn alone, 8 slow clients: {_readers(site.url, 20)}")
        stop.set()
    finally:
        stop_server(nginx)
        site.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=5.0, help="seconds each service is down")
    parser.add_argument("--dribblers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as directory:
        workdir = Path(directory)
        workdir.chmod(0o755)
        postgres_restart(workdir, args.outage)
        redis_outage(workdir, args.outage)
        slow_clients(workdir, args.dribblers)


if __name__ == "__main__":
    main()
