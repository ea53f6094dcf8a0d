"""What "N new comments — show" costs: readers with an article open, polling its count.

    flock /tmp/heavy.lock .venv/bin/python bench/live.py                # SQLite
    flock /tmp/heavy.lock .venv/bin/python bench/live.py --database postgresql

Makes a fresh database (the seed and ``demo-data``), starts the app under gunicorn with 2
sync workers and, in one run, measures with wrk (loopback only):

1. the article page's rate, anonymous readers, 16 connections (what the server can do);
2. the count endpoint's rate the same way;
3. the simulated watchers: ``--watchers`` readers each asking every
   ``COMMENT_POLL_SECONDS`` (the page's setting), as wrk connections that wait between
   requests; the gunicorn workers' CPU time over the window (from /proc) as a share of
   the 2 workers' capacity, and the requests served;
4. the article page's rate again while the watchers poll, beside (1);
5. with nginx installed, (3) again through ``deploy/nginx.conf``: the app's CPU share
   when nginx's shared cache answers the polls.

The script asks without cookies (``credentials: "omit"``), so every poll can be answered
by the shared caches; wrk's requests carry no cookies either. About two minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proxy
from load_check import prepare_database, server_env
from processes import ROOT, free_port, gunicorn, start, stop
from run import Result, wrk

from discussion import config

PYTHON = sys.executable
WORKERS = 2
SLUG = "khamenei-rejects-us-talks-on-twitter"  # the seed's USIP article
CONNECTIONS = 50  # the watchers' connections (each poll waits its turn on one)
TICKS = os.sysconf("SC_CLK_TCK")

PACED = """
request = function()
  return wrk.format("GET", "%(path)s", {["Accept"] = "application/json"})
end
delay = function() return %(delay)d end
"""


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


def watchers(
    name: str, url: str, rate: float, duration: int, master: subprocess.Popen, workdir: Path
) -> tuple[Result, float]:
    """Poll ``url`` at ``rate`` requests/s for ``duration`` s; the result and the share of
    the workers' CPU capacity spent meanwhile."""
    delay_ms = max(1, round(CONNECTIONS * 1000 / rate))
    script = workdir / "paced.lua"
    path = "/" + url.split("/", 3)[3]
    script.write_text(PACED % {"path": path, "delay": delay_ms})
    before, started = worker_cpu_seconds(master), time.monotonic()
    result = wrk_paced(name, url, duration, script)
    used, elapsed = worker_cpu_seconds(master) - before, time.monotonic() - started
    return result, used / (elapsed * min(WORKERS, os.cpu_count() or 1))


def wrk_paced(name: str, url: str, duration: int, script: Path) -> Result:
    """wrk with the pacing script over ``CONNECTIONS`` connections."""
    out = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{duration}s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    ).stdout
    rps = float(out.split("Requests/sec:")[1].split()[0])
    errors = int(out.split("Non-2xx or 3xx responses:")[1].split()[0]) if "Non-2xx" in out else 0
    return Result(name, rps, 0.0, 0.0, errors)


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
            watched, share = watchers(
                f"{args.watchers} watchers every {args.poll_seconds:g} s",
                count,
                rate,
                d,
                app,
                workdir,
            )
            beside: list[Result] = []
            background = threading.Thread(
                target=lambda: beside.append(
                    watchers("watchers (background)", count, rate, d + 2, app, workdir)[0]
                )
            )
            background.start()
            time.sleep(1)
            with_watchers = wrk("article page while they poll, 16 connections", article, d)
            background.join()
            rows += [
                (alone.name, f"{alone.rps:,.0f} req/s (p99 {alone.p99_ms:.1f} ms)"),
                (polled.name, f"{polled.rps:,.0f} req/s (p99 {polled.p99_ms:.1f} ms)"),
                (
                    watched.name,
                    f"{watched.rps:,.0f} req/s served, {watched.errors} errors; "
                    f"workers' CPU {share:.1%} of 2 workers; "
                    f"{watched.rps / polled.rps:.1%} of the endpoint's rate, "
                    f"{watched.rps / alone.rps:.1%} of the article page's",
                ),
                (
                    with_watchers.name,
                    f"{with_watchers.rps:,.0f} req/s "
                    f"({with_watchers.rps / alone.rps:.0%} of the rate alone)",
                ),
            ]
            if proxy.available():
                nginx, nginx_port = proxy.start_nginx(workdir, port, 1000)
                try:
                    through = f"http://127.0.0.1:{nginx_port}/publications/{SLUG}/comments/count"
                    proxied, proxied_share = watchers(
                        f"{args.watchers} watchers through nginx", through, rate, d, app, workdir
                    )
                    rows.append(
                        (
                            proxied.name,
                            f"{proxied.rps:,.0f} req/s served, "
                            f"{proxied.errors} errors; app workers' CPU "
                            f"{proxied_share:.1%} of 2 workers",
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
        f"{args.poll_seconds:g} s = {rate:.0f} req/s over {CONNECTIONS} connections\n"
    )
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
