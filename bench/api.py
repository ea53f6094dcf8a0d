"""Benchmark: anonymous thread reads through the API against the article page, and
comment counts for 50 pages of another site at a time, measured in one run.

    .venv/bin/python bench/api.py                         # SQLite
    .venv/bin/python bench/api.py --database postgresql   # PostgreSQL on 127.0.0.1:5432

Makes a fresh database with `flask demo-data` (2,000 publications, 10,000 comments; the
article `demo-comments-200` has 200 approved comments), registers 50 pages of
https://www.example.org as the pages of 50 publications (as the embed does), starts the
app under gunicorn (2 sync workers) and drives each scenario with wrk (2 threads, 16
connections, loopback). "Shared" rows are what first-time readers and anonymous API
clients get; "through Flask" rows pass the page cache (a new query string for the
article, a bearer token for the API), so every request reaches the app. Needs wrk.
About a minute and a half.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_check import prepare_database, server_env
from processes import ROOT, free_port, gunicorn, start, stop
from run import PYTHON, UNIQUE_SCRIPT, WORKERS, Result, fetch, wrk

EXTERNAL = "https://www.example.org/stories/{n}"
COUNTED = 50

REGISTER = """
import hashlib, sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
with engine.begin() as c:
    ids = [r[0] for r in c.execute(sa.text(
        "SELECT id FROM publications WHERE slug NOT LIKE 'demo-comments-%' ORDER BY id LIMIT :n"
    ), {"n": int(sys.argv[3])})]
    for n, pid in enumerate(ids):
        url = sys.argv[2].format(n=n)
        c.execute(sa.text(
            "INSERT INTO publication_urls (url_hash, url, publication_id, created_at)"
            " VALUES (:h, :u, :p, CURRENT_TIMESTAMP)"
        ), {"h": hashlib.sha256(url.encode()).hexdigest(), "u": url, "p": pid})
print(len(ids))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--duration", type=int, default=8, help="seconds per scenario")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    d = args.duration
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = prepare_database(args.database, workdir)
        env = {**server_env(url), "FLASK_EMBED_ORIGINS": '["https://www.example.org"]'}
        flask = [PYTHON, "-m", "flask", "--app", "discussion"]
        demo = [*flask, "demo-data", "--publications", "2000", "--comments", "10000"]
        subprocess.run(demo, env=env, cwd=ROOT, check=True, capture_output=True)
        registered = subprocess.run(
            [PYTHON, "-c", REGISTER, url, EXTERNAL, str(COUNTED)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert registered == str(COUNTED), registered
        port = free_port()
        app = start(gunicorn(PYTHON, "discussion:create_app()", port, WORKERS), env, port)
        base = f"http://127.0.0.1:{port}"
        try:
            article = "/publications/demo-comments-200"
            thread = "/api/v1/publications/demo-comments-200/comments"
            page_size = len(fetch(base + article)[0].encode())
            json_size = len(fetch(base + thread)[0].encode())
            counts = "/api/v1/counts?" + "&".join(
                "url=" + quote(EXTERNAL.format(n=n), safe="") for n in range(COUNTED)
            )
            answer = fetch(base + counts)[0]
            assert answer.count('": ') >= COUNTED, answer[:200]
            token = {"Authorization": "Bearer bench-anonymous"}  # not a staff token: public read
            unique = workdir / "unique.lua"
            unique.write_text(UNIQUE_SCRIPT % {"path": article + "?"})

            page = wrk(f"article page, 200 comments ({page_size} B), shared", base + article, d)
            api = wrk(f"API thread, 200 comments ({json_size} B), shared", base + thread, d)
            api.note = f"{api.rps / page.rps:.0%} of the article page"
            page_flask = wrk("article page, through Flask", base, d, script=unique)
            api_flask = wrk("API thread, through Flask", base + thread, d, headers=token)
            api_flask.note = f"{api_flask.rps / page_flask.rps:.0%} of the article page"
            shared = wrk(f"counts for {COUNTED} URLs, shared", base + counts, d)
            direct = wrk(
                f"counts for {COUNTED} URLs, through Flask", base + counts, d, headers=token
            )
            one = wrk(
                f"counts for {COUNTED} URLs, through Flask, server time",
                base + counts,
                d,
                headers=token,
                single=True,
            )
            results += [page, api, page_flask, api_flask, shared, direct, one]
        finally:
            stop(app)
    print(f"\n{args.database}: {WORKERS} gunicorn workers, wrk {d} s per row")
    print("| scenario | req/s | p50 ms | p99 ms | errors | note |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {r.note} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
