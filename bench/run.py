"""Benchmark: the app against the framework ceiling and Isso, measured in one run.

    .venv/bin/python bench/run.py                         # SQLite
    .venv/bin/python bench/run.py --database postgresql   # PostgreSQL on 127.0.0.1:5432
    .venv/bin/python bench/run.py --scenario story --servers "-w 2" "-w 4"
    .venv/bin/python bench/run.py --scenario posts        # comment POST against Isso's
    .venv/bin/python bench/run.py --scenario posts --sqlite-synchronous FULL NORMAL

``--scenario story`` runs only "when a story breaks" (bench/story.py): readers of the
200-comment article alone and while comments pour in and a moderator approves, through
gunicorn and through deploy/nginx.conf, plus the article for a reader with a pending
comment and for a moderator against the ceiling; once for each ``--servers`` entry
(extra gunicorn flags, e.g. "-w 4" or "-k gthread --threads 4"), on a database of 2,000
publications and 10,000 comments unless told otherwise.

Makes a fresh database with 10,000 publications and 100,000 comments, starts the app,
a minimal Flask app (the ceiling) and Isso under gunicorn with 2 sync workers each, and
drives each scenario with wrk (2 threads, 16 connections, loopback only). Reports
requests/s, p50, p99, errors and ratios to both baselines; "server time" rows use one
connection, so latency is the time the server takes. Needs wrk (apt-get install wrk);
Isso is installed into bench/.isso-venv on first use. About five minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import proxy
import story
from load_check import prepare_database, server_env
from processes import ROOT, free_port, gunicorn, start, stop

BENCH = ROOT / "bench"
PYTHON = sys.executable
ISSO_VENV = BENCH / ".isso-venv"
WORKERS = 2
THREADS, CONNECTIONS = 2, 16


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    size: int = 0
    note: str = ""


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def wrk(
    name: str,
    url: str,
    duration: int,
    *,
    script: Path | None = None,
    headers: dict[str, str] | None = None,
    single: bool = False,
) -> Result:
    """Run wrk and parse its report (requests/s, latency percentiles, errors)."""
    args = [
        "wrk",
        "--latency",
        "-d",
        f"{duration}s",
        "-t",
        "1" if single else str(THREADS),
        "-c",
        "1" if single else str(CONNECTIONS),
    ]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    note = m.group(1) if (m := re.search(r"ACKED (\d+)", out)) else ""
    return Result(name, rps, p50, p99, errors, note=note)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """A page and the session cookie it set."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode(), session_cookie(response.headers)


def session_cookie(headers: Any) -> str:
    """``session=…`` from a response's Set-Cookie headers."""
    for value in headers.get_all("Set-Cookie") or []:
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return ""


POST_SCRIPT = """
local threads = {}
local counter = 0
setup = function(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
init = function(args) acked = 0 end
request = function()
  counter = counter + 1
  local body = "name=Bench&csrf_token=%(token)s&body=%(tag)s-" .. tid .. "-" .. counter
  return wrk.format("POST", "%(path)s", {
    ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "%(cookie)s"}, body)
end
response = function(status, headers, body)
  if status == %(ok)d then acked = acked + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("acked") end
  io.write("ACKED " .. total .. "\\n")
end
"""

UNIQUE_SCRIPT = """
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "%(path)sn=" .. n)
end
"""

ISSO_POST_SCRIPT = """
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"text": "isso bench ' .. counter .. ' ' .. math.random(1e9) ..
    '", "author": "Bench", "title": "Bench"}'
  return wrk.format("POST", "/new?uri=%2Fbench-post", {["Content-Type"] = "application/json"}, body)
end
"""


def isso_python() -> str:
    python = ISSO_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(ISSO_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "isso", "gunicorn"], check=True)
    return str(python)


def start_isso(workdir: Path, port: int) -> subprocess.Popen:
    config = workdir / "isso.cfg"
    config.write_text(
        "[general]\n"
        f"dbpath = {workdir / 'isso.db'}\n"
        f"host = http://127.0.0.1:{port}/\n"
        "[guard]\nenabled = false\n"
        "[moderation]\nenabled = false\n"
    )
    env = {**os.environ, "ISSO_SETTINGS": str(config)}
    return start(gunicorn(isso_python(), "isso.run", port, WORKERS), env, port, "/info")


def seed_isso(port: int, comments: list[str]) -> None:
    for text in comments:
        body = json.dumps({"text": text, "author": "Reader", "title": "Bench"}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/new?uri=%2Fbench-200",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).read()


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    children = Path(f"/proc/{master.pid}/task/{master.pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=int, default=8, help="seconds per scenario")
    parser.add_argument("--scenario", choices=["full", "story", "posts"], default="full")
    parser.add_argument(
        "--servers",
        nargs="+",
        default=[f"-w {WORKERS}"],
        help='extra gunicorn flags, one set per run of the scenario (e.g. "-w 2" "-w 4")',
    )
    parser.add_argument("--publications", type=int)
    parser.add_argument("--comments", type=int)
    parser.add_argument(
        "--sqlite-synchronous",
        nargs="+",
        default=[""],
        help="posts on SQLite: one run per SQLITE_SYNCHRONOUS value (FULL, NORMAL)",
    )
    args = parser.parse_args()
    if args.sqlite_synchronous != [""] and (args.scenario, args.database) != ("posts", "sqlite"):
        parser.error("--sqlite-synchronous is for --scenario posts on SQLite")
    small = args.scenario != "full"
    args.publications = args.publications or (2000 if small else 10000)
    args.comments = args.comments or (10000 if small else 100000)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    d = args.duration
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = prepare_database(args.database, workdir, "discussion_bench_run")
        env = server_env(url)
        flask = [PYTHON, "-m", "flask", "--app", "discussion"]
        subprocess.run(
            [
                *flask,
                "demo-data",
                "--publications",
                str(args.publications),
                "--comments",
                str(args.comments),
            ],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [*flask, "create-moderator", "bench", "--password", "bench-password-1"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        if args.scenario == "story":
            return story_scenario(args, workdir, url, env)
        if args.scenario == "posts":
            return posts_scenario(args, workdir, url, env)
        app_port, ceiling_port, isso_port = free_port(), free_port(), free_port()
        app = start(app_server(app_port, args.servers[0]), env, app_port)
        ceiling = start(
            gunicorn(PYTHON, "ceiling:app", ceiling_port, WORKERS),
            {**os.environ, "PYTHONPATH": str(BENCH)},
            ceiling_port,
            "/10",
        )
        isso = start_isso(workdir, isso_port)
        base = f"http://127.0.0.1:{app_port}"
        try:
            # The peer: Isso serving one thread of 200 comments as JSON, and accepting posts.
            texts = [
                f"Comment {i}: a *reader's* view on the talks, see http://example.org/{i}"
                for i in range(200)
            ]
            seed_isso(isso_port, texts)
            isso_get = wrk(
                "Isso: thread of 200 comments (JSON)",
                f"http://127.0.0.1:{isso_port}/?uri=%2Fbench-200",
                d,
            )
            script = workdir / "isso_post.lua"
            script.write_text(ISSO_POST_SCRIPT)
            isso_post = wrk(
                "Isso: new comment POST", f"http://127.0.0.1:{isso_port}", d, script=script
            )
            results += [isso_get, isso_post]

            # Article pages, each against the ceiling at the same size.
            sizes = {}
            for n in (0, 20, 200, 2000):
                path = f"/publications/demo-comments-{n}"
                size = sizes[n] = len(fetch(base + path)[0].encode())
                ceil = wrk(f"ceiling: {size} bytes", f"http://127.0.0.1:{ceiling_port}/{size}", d)
                ours = wrk(f"article, {n} approved comments", base + path, d)
                ours.size, ceil.size = size, size
                ours.note = f"ceiling {ceil.rps:.0f} rps"
                results += [ceil, ours]

            results.append(comment_post(base, workdir, url, d))

            # Listings and the moderation queue, under load and alone (server time).
            index = {
                "index page 1": "/publications/",
                "index, type+topic filter": "/publications/?type=analysis&topic=global-policy",
            }
            for name, path in index.items():
                results.append(wrk(name, base + path, d))
                results.append(
                    wrk(f"  server time: {name}", base + path, max(d // 2, 3), single=True)
                )
                # Listings are shared like articles; a new URL each time is a miss, so
                # this row is the time Flask takes to build the page.
                script = workdir / "unique.lua"
                script.write_text(UNIQUE_SCRIPT % {"path": path + ("&" if "?" in path else "?")})
                results.append(
                    wrk(
                        f"  server time through Flask: {name}",
                        base,
                        max(d // 2, 3),
                        script=script,
                        single=True,
                    )
                )
            login_page, session = fetch(base + "/auth/login")
            login_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
            opener = urllib.request.build_opener(NoRedirect)
            response = opener.open(
                urllib.request.Request(
                    base + "/auth/login",
                    data=(
                        f"username=bench&password=bench-password-1&csrf_token={quote(login_token)}"
                    ).encode(),
                    headers={"Cookie": session},
                )
            )
            moderator = {"Cookie": session_cookie(response.headers)}
            deep = subprocess.run(
                [
                    PYTHON,
                    "-c",
                    "import sys, sqlalchemy as sa; e = sa.create_engine(sys.argv[1]);"
                    'print(e.connect().execute(sa.text("SELECT id FROM comments WHERE '
                    "state = 'pending' ORDER BY id DESC LIMIT 1 OFFSET 40000\")).scalar())",
                    url,
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            queue = {
                "moderation queue, first page": "/moderation/",
                "moderation queue, 40,000 deep": f"/moderation/?after={deep}",
            }
            for name, path in queue.items():
                results.append(wrk(name, base + path, d, headers=moderator))
                results.append(
                    wrk(
                        f"  server time: {name}",
                        base + path,
                        max(d // 2, 3),
                        headers=moderator,
                        single=True,
                    )
                )
            if proxy.available():
                nginx, nginx_port = proxy.start_nginx(workdir, app_port, sizes[200])
                try:
                    through = f"http://127.0.0.1:{nginx_port}"
                    for _ in range(3):  # a cold entry makes concurrent readers wait on
                        fetch(through + "/publications/demo-comments-200")  # its lock
                    static = wrk(
                        f"nginx: static file, {sizes[200]} bytes", through + "/static/page.html", d
                    )
                    proxied = wrk(
                        "article, 200 comments, through nginx (deploy/nginx.conf)",
                        through + "/publications/demo-comments-200",
                        d,
                    )
                    proxied.note = f"{proxied.rps / static.rps:.0%} of nginx static"
                    results += [static, proxied]
                    delays = [
                        proxy.approval_delay(
                            through,
                            "demo-comments-20",
                            lambda: approve_one(through, base, url, moderator),
                        )
                        for _ in range(5)
                    ]
                finally:
                    stop(nginx)
            else:
                delays = []
                print("nginx is not installed (apt-get install nginx): proxy scenarios skipped")
            rss = worker_rss_mb(app)
        finally:
            for process in (app, ceiling, isso):
                stop(process)

    report(args, results, isso_get, isso_post, rss, delays)
    return 0


def app_server(port: int, flags: str) -> list[str]:
    """The app's gunicorn command line with extra flags (a later ``-w`` wins)."""
    command = gunicorn(PYTHON, "discussion:create_app()", port, WORKERS)
    return [*command[:-1], *shlex.split(flags), command[-1]]


def comment_post(base: str, workdir: Path, url: str, d: int) -> Result:
    """wrk posting comments as fast as the app takes them; 303s and rows stored."""
    # Comment POST: one reader's session and token, a unique text per request.
    page, cookie = fetch(base + "/publications/demo-comments-20")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    tag = f"bench-{secrets.token_hex(4)}"
    script = workdir / "post.lua"
    script.write_text(
        POST_SCRIPT
        % {
            "token": quote(token),
            "tag": tag,
            "cookie": cookie,
            "ok": 303,
            "path": "/publications/demo-comments-20/comments",
        }
    )
    post = wrk("comment POST (moderation and rules on)", base, d, script=script)
    stored = subprocess.run(
        [
            PYTHON,
            "-c",
            "import sys, sqlalchemy as sa; e = sa.create_engine(sys.argv[1]);"
            "c = e.connect(); print(*c.execute(sa.text('SELECT count(*), count(DISTINCT "
            "body_text) FROM comments WHERE body_text LIKE :p'), {'p': sys.argv[2] + '%'})"
            ".one())",
            url,
            tag,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    post.note = f"303s {post.note}, stored {stored[0]} ({stored[1]} distinct)"
    return post


def story_scenario(args: argparse.Namespace, workdir: Path, url: str, env: dict) -> int:
    """When a story breaks (bench/story.py), once per ``--servers`` entry: through
    gunicorn alone and through nginx, then the readers with a session against the ceiling."""
    d = args.duration
    lines = [
        "| server | scenario | rate | p99 | notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    readers: list[tuple[str, list[Result]]] = []
    memory: list[str] = []
    for n, flags in enumerate(args.servers):
        app_port, ceiling_port = free_port(), free_port()
        app = start(app_server(app_port, flags), env, app_port)
        ceiling_flags = shlex.split(flags)
        ceiling = start(
            [
                *gunicorn(PYTHON, "ceiling:app", ceiling_port, WORKERS)[:-1],
                *ceiling_flags,
                "ceiling:app",
            ],
            {**os.environ, "PYTHONPATH": str(BENCH)},
            ceiling_port,
            "/10",
        )
        base = f"http://127.0.0.1:{app_port}"
        try:
            size = len(fetch(f"{base}/publications/{story.ARTICLE}")[0].encode())
            lines += story.rows(
                f"gunicorn {flags}", story.run(base, url, d, wrk, server_pid=app.pid)
            )
            readers.append(
                (flags, story.reader_rows(base, f"http://127.0.0.1:{ceiling_port}", size, d, wrk))
            )
            memory.append(
                f"gunicorn {flags}: " + ", ".join(f"{mb:.0f} MB" for mb in worker_rss_mb(app))
            )
        finally:
            stop(app)
            stop(ceiling)
        if not proxy.available():
            print("nginx is not installed (apt-get install nginx): proxy runs skipped")
            continue
        # Through nginx the app runs as deploy/nginx.conf says: asking nginx for a changed
        # article afresh (FLASK_PROXY_REFRESH_URL).
        refresh_port = free_port()
        nginx, nginx_port = proxy.start_nginx(workdir / f"n{n}", app_port, size, refresh_port)
        through = f"http://127.0.0.1:{nginx_port}"
        try:
            refresh = {
                "FLASK_PROXY_REFRESH_URL": f"http://127.0.0.1:{refresh_port}",
                "FLASK_SITE_URL": through,
            }
            app = start(app_server(app_port, flags), {**env, **refresh}, app_port)
            try:
                lines += story.rows(
                    f"nginx + gunicorn {flags}",
                    story.run(through, url, d, wrk, server_pid=app.pid),
                )
            finally:
                stop(app)
        finally:
            stop(nginx)
    print(
        f"\n{args.database}: {args.publications} publications, {args.comments} comments; "
        f"readers: wrk {THREADS} threads, {CONNECTIONS} connections, {d} s each; "
        f"{story.POSTS_PER_SECOND} posts/s from {story.POSTERS} clients, "
        f"{story.APPROVALS_PER_SECOND} approvals/s\n"
    )
    print("\n".join(lines))
    print("\n| server | page, reader | req/s | p50 ms | p99 ms | errors | vs ceiling |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for flags, results in readers:
        for r in results:
            if r.name.startswith("ceiling"):  # at the size of the rows below it
                ceiling_rps = r.rps
            print(
                f"| gunicorn {flags} | {r.name} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
                f"| {r.errors} | {r.rps / ceiling_rps:.2f}x |"
            )
    print("\nworker resident memory after the runs: " + "; ".join(memory))
    return 0


def posts_scenario(args: argparse.Namespace, workdir: Path, url: str, env: dict) -> int:
    """Comment POST alone against Isso's, once per ``--servers`` entry."""
    isso_port = free_port()
    isso = start_isso(workdir, isso_port)
    try:
        script = workdir / "isso_post.lua"
        script.write_text(ISSO_POST_SCRIPT)
        isso_post = wrk(
            "Isso: new comment POST", f"http://127.0.0.1:{isso_port}", args.duration, script=script
        )
    finally:
        stop(isso)
    print(f"\n{args.database}: Isso under gunicorn -w {WORKERS}\n")
    print("| server | req/s | p50 ms | p99 ms | errors | vs Isso | note |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| Isso | {isso_post.rps:.0f} | {isso_post.p50_ms:.2f} | {isso_post.p99_ms:.2f} "
        f"| {isso_post.errors} | | |"
    )
    for flags in args.servers:
        for synchronous in args.sqlite_synchronous:
            port = free_port()
            durability = {"FLASK_SQLITE_SYNCHRONOUS": synchronous} if synchronous else {}
            app = start(app_server(port, flags), {**env, **durability}, port)
            try:
                post = comment_post(f"http://127.0.0.1:{port}", workdir, url, args.duration)
            finally:
                stop(app)
            label = f"gunicorn {flags}" + (f", synchronous={synchronous}" if synchronous else "")
            print(
                f"| {label} | {post.rps:.0f} | {post.p50_ms:.2f} | {post.p99_ms:.2f} "
                f"| {post.errors} | {post.rps / isso_post.rps:.2f}x | {post.note} |"
            )
    return 0


def approve_one(through: str, base: str, url: str, moderator: dict[str, str]) -> int:
    """Post a comment through the proxy, approve it on the app; its id."""
    slug = "demo-comments-20"
    page, _ = fetch(f"{through}/publications/{slug}")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    tag = f"approval-{secrets.token_hex(6)}"
    opener = urllib.request.build_opener(NoRedirect)
    opener.open(
        urllib.request.Request(
            f"{through}/publications/{slug}/comments",
            data=f"name=Bench&body={tag}&csrf_token={quote(token)}".encode(),
        )
    )
    comment_id = int(
        subprocess.run(
            [
                PYTHON,
                "-c",
                "import sys, sqlalchemy as sa; e = sa.create_engine(sys.argv[1]);"
                "print(e.connect().execute(sa.text('SELECT id FROM comments WHERE body_text = :t'),"
                " {'t': sys.argv[2]}).scalar_one())",
                url,
                tag,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    queue, _ = fetch(base + "/moderation/", headers=moderator)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', queue).group(1)
    opener.open(
        urllib.request.Request(
            f"{base}/moderation/comments/{comment_id}/approve",
            data=f"csrf_token={quote(token)}".encode(),
            headers=moderator,
        )
    )
    return comment_id


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None

    def http_error_303(self, req, fp, code, msg, headers):  # type: ignore[no-untyped-def]
        return fp


def report(args, results, isso_get, isso_post, rss, delays) -> None:  # type: ignore[no-untyped-def]
    print(
        f"\n{args.database}: {args.publications} publications, {args.comments} comments; "
        f"gunicorn {WORKERS} sync workers each; wrk {THREADS} threads, {CONNECTIONS} "
        f"connections, {args.duration} s (server time: 1 connection)\n"
    )
    print("| scenario | req/s | p50 ms | p99 ms | errors | vs ceiling | vs Isso | note |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    ceilings = {r.size: r.rps for r in results if r.name.startswith("ceiling")}
    for r in results:
        vs_ceiling = (
            f"{r.rps / ceilings[r.size]:.0%}" if r.size and not r.name.startswith("ceiling") else ""
        )
        peer = isso_post if "POST" in r.name else isso_get
        vs_isso = f"{r.rps / peer.rps:.1f}x" if not r.name.startswith(("Isso", "ceiling")) else ""
        print(
            f"| {r.name} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | "
            f"{vs_ceiling} | {vs_isso} | {r.note} |"
        )
    if delays:
        print(
            "approval visible through nginx, the app without a refresh address (the story "
            "scenario runs it with one) after: "
            + ", ".join(f"{seconds * 1000:.0f} ms" for seconds in delays)
        )
    print("worker resident memory after the run: " + ", ".join(f"{mb:.0f} MB" for mb in rss))


if __name__ == "__main__":
    sys.exit(main())
