"""What "N new comments — show" costs: readers with an article open, polling its count.

    flock /tmp/heavy.lock .venv/bin/python bench/live.py                # SQLite
    flock /tmp/heavy.lock .venv/bin/python bench/live.py --database postgresql

Makes a fresh database (the seed and ``demo-data``), starts the app under gunicorn with 2
sync workers and, in one run, measures with wrk (loopback only):

1. the article page's rate, anonymous readers, 16 connections (what the server can do);
2. the count endpoint's rate the same way;
3. the simulated watchers: ``--watchers`` readers each asking every
   ``COMMENT_POLL_SECONDS`` (the page's setting), from a paced client (each poll on a
   fresh connection); the gunicorn workers' CPU time over the window (from /proc) as a
   share of the 2 workers' capacity, and the polls answered;
4. the article page's rate again while the watchers poll, beside (1);
5. with nginx installed, (3) again through ``deploy/nginx.conf``: the app's CPU share
   when nginx's shared cache answers the polls.

The script asks without cookies (``credentials: "omit"``), so every poll can be answered
by the shared caches; the benchmark's requests carry none either. About two minutes.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proxy
from load_check import prepare_database, server_env
from processes import ROOT, free_port, gunicorn, start, stop
from run import wrk

from discussion import config

PYTHON = sys.executable
WORKERS = 2
SLUG = "khamenei-rejects-us-talks-on-twitter"  # the seed's USIP article
THREADS = 20  # the watchers' client threads
TICKS = os.sysconf("SC_CLK_TCK")


def worker_cpu_seconds(master: subprocess.Popen) -> float:
    """User and system CPU seconds of gunicorn's master and workers so far."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == master.pid or ppid == master.pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


class Watchers:
    """``rate`` polls a second of ``url``, spread over ``THREADS`` threads, each poll on a
    fresh connection that sends at once (as a browser does; a connection left idle would
    hold a sync worker, which nginx never lets happen)."""

    def __init__(self, url: str, rate: float) -> None:
        self.url, self.rate = urlsplit(url), rate
        self.done = self.errors = 0
        self.stopping = threading.Event()

    def _poll(self, offset: float) -> None:
        interval = THREADS / self.rate
        next_at = time.monotonic() + offset
        while not self.stopping.is_set():
            pause = next_at - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            next_at += interval
            connection = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=10)
            try:
                connection.request("GET", self.url.path, headers={"Accept": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    self.done += 1
                else:
                    self.errors += 1
            except OSError:
                self.errors += 1
            finally:
                connection.close()

    def run(self, seconds: float) -> float:
        """Poll for ``seconds``; the polls answered per second."""
        threads = [
            threading.Thread(target=self._poll, args=(i / self.rate,), daemon=True)
            for i in range(THREADS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        self.stopping.set()
        for thread in threads:
            thread.join()
        return self.done / (time.monotonic() - started)


def watched(
    url: str, rate: float, seconds: int, master: subprocess.Popen
) -> tuple[float, int, float]:
    """Polls answered per second, errors, and the share of the 2 workers' CPU capacity the
    app spent meanwhile."""
    before, started = worker_cpu_seconds(master), time.monotonic()
    crowd = Watchers(url, rate)
    served = crowd.run(seconds)
    used, elapsed = worker_cpu_seconds(master) - before, time.monotonic() - started
    return served, crowd.errors, used / (elapsed * min(WORKERS, os.cpu_count() or 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--poll-seconds", type=float, default=config.COMMENT_POLL_SECONDS)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    d, rate = args.duration, args.watchers / args.poll_seconds
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = prepare_database(args.database, workdir)
        env = server_env(url)
        subprocess.run(
            [
                PYTHON,
                "-m",
                "flask",
                "--app",
                "discussion",
                "demo-data",
                "--publications",
                "200",
                "--comments",
                "5000",
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        port = free_port()
        app = start(gunicorn(PYTHON, "discussion:create_app()", port, WORKERS), env, port)
        base = f"http://127.0.0.1:{port}"
        article, count = f"{base}/publications/{SLUG}", f"{base}/publications/{SLUG}/comments/count"
        try:
            for target in (article, count):  # warm both processes' caches
                for _ in range(20):
                    urllib.request.urlopen(target, timeout=10).read()
            alone = wrk("article page (anonymous), 16 connections", article, d)
            polled = wrk("count endpoint, 16 connections", count, d)
            served, errors, share = watched(count, rate, d, app)
            rows += [
                (alone.name, f"{alone.rps:,.0f} req/s (p99 {alone.p99_ms:.1f} ms)"),
                (polled.name, f"{polled.rps:,.0f} req/s (p99 {polled.p99_ms:.1f} ms)"),
                (
                    f"{args.watchers:,} watchers every {args.poll_seconds:g} s, direct",
                    f"{served:,.0f} polls/s answered, {errors} errors; the app's CPU "
                    f"{share:.1%} of its 2 workers; {served / polled.rps:.1%} of the "
                    f"endpoint's rate",
                ),
            ]
            beside: list[tuple[float, int, float]] = []
            background = threading.Thread(
                target=lambda: beside.append(watched(count, rate, d + 2, app))
            )
            background.start()
            time.sleep(1)
            with_watchers = wrk("article page while they poll, 16 connections", article, d)
            background.join()
            rows.append(
                (
                    with_watchers.name,
                    f"{with_watchers.rps:,.0f} req/s, {with_watchers.rps / alone.rps:.0%} of "
                    f"its rate alone (p99 {with_watchers.p99_ms:.1f} ms); the watchers got "
                    f"{beside[0][0]:,.0f} polls/s, {beside[0][1]} errors",
                )
            )
            if proxy.available():
                nginx, nginx_port = proxy.start_nginx(workdir, port, 1000)
                try:
                    through = f"http://127.0.0.1:{nginx_port}/publications/{SLUG}/comments/count"
                    served, errors, share = watched(through, rate, d, app)
                    rows.append(
                        (
                            f"{args.watchers:,} watchers through nginx",
                            f"{served:,.0f} polls/s answered, {errors} errors; the app's CPU "
                            f"{share:.1%} of its 2 workers",
                        )
                    )
                finally:
                    stop(nginx)
            else:
                rows.append(("through nginx", "skipped: nginx is not installed"))
        finally:
            stop(app)
    print(
        f"\n{args.database}, gunicorn {WORKERS} sync workers, {os.cpu_count()} cores, "
        f"{d} s per scenario; watchers: {args.watchers} polling every "
        f"{args.poll_seconds:g} s = {rate:.0f} polls/s from {THREADS} client threads\n"
    )
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
