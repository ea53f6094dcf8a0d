"""Server time of the moderation queue and of a decision at 100,000 comments.

    .venv/bin/python bench/moderation_queue.py                        # SQLite, in a temp dir
    .venv/bin/python bench/moderation_queue.py --database postgresql  # database queue_bench

Builds the data with ``demo.generate`` (10,000 publications, 100,000 comments in every
state), signs a moderator in and times requests in the process with Flask's test client
(server time: routing, queries, templates; no network). Each scenario runs ``--requests``
times after a warm-up; p50, p99 and max in milliseconds. The baseline is the sign-in page
(no query, no session), measured in the same run.
"""

from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from discussion import create_app, demo  # noqa: E402
from discussion.accounts import staff  # noqa: E402
from discussion.extensions import cache, db  # noqa: E402
from discussion.models import Comment, CommentState, Role  # noqa: E402

MIGRATIONS = str(ROOT / "discussion" / "migrations")
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PASSWORD = "bench password 1"


def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'queue.sqlite3'}"
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS queue_bench"))
        connection.execute(text("CREATE DATABASE queue_bench"))
    admin.dispose()
    return f"{PG_SERVER}/queue_bench"


def build(url: str, publications: int, comments: int) -> Flask:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "RATELIMIT_ENABLED": False,
            "SECURE_COOKIES": False,
        }
    )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        started = time.monotonic()
        demo.generate(publications, comments)
        db.session.commit()
        demo.analyze()
        staff.create_moderator("bench", PASSWORD, Role.ADMIN)
        db.session.commit()
        print(
            f"data: {publications} publications, {comments} comments "
            f"in {time.monotonic() - started:.0f} s"
        )
    return app


def sign_in(client: FlaskClient) -> str:
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post(
        "/auth/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token}
    )
    queue = client.get("/moderation/").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', queue).group(1)


def timed(name: str, run: Callable[[int], None], requests: int, warm: int = 10) -> dict:
    for n in range(warm):
        run(n)
    samples = []
    for n in range(warm, warm + requests):
        started = time.perf_counter()
        run(n)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    row = {
        "name": name,
        "p50": statistics.median(samples),
        "p99": samples[min(len(samples) - 1, round(len(samples) * 0.99) - 1)],
        "max": samples[-1],
    }
    print(
        f"{name:<48} p50 {row['p50']:7.1f}  p99 {row['p99']:7.1f}  max {row['max']:7.1f} ms",
        flush=True,
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--publications", type=int, default=10_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        url = database_url(args.database, Path(workdir))
        app = build(url, args.publications, args.comments)
        client = app.test_client()
        with app.app_context():
            token = sign_in(client)
            pending = list(
                db.session.scalars(
                    select(Comment.id)
                    .where(Comment.state == CommentState.PENDING)
                    .order_by(Comment.id.desc())
                    .limit(3 * (args.requests + 10))
                )
            )
            deep = db.session.scalar(select(func.max(Comment.id)))
            busy = db.session.scalar(
                text(
                    "SELECT publication_id FROM comments GROUP BY publication_id "
                    "ORDER BY count(*) DESC LIMIT 1 OFFSET 4"
                )
            )
        deep_after = int(deep * 0.6)
        tabs = ["pending", "reported", "approved", "rejected", "spam", "all"]

        anonymous = app.test_client()

        def get(path: str, by: FlaskClient = client) -> None:
            response = by.get(path)
            assert response.status_code == 200, (path, response.status_code)

        def post(path: str) -> None:
            response = client.post(
                path,
                data={
                    "csrf_token": token,
                    "next": "/moderation/?status=pending",
                    "seen": "pending",
                },
                headers={"Accept": "application/json"},
            )
            assert response.status_code == 200, (path, response.get_data(as_text=True))

        decided = iter(pending)
        rows = [
            timed("baseline: sign-in page", lambda n: get("/auth/login", anonymous), args.requests),
            timed("queue: pending, first page", lambda n: get("/moderation/"), args.requests),
            timed(
                "queue: each tab in turn, first page",
                lambda n: get(f"/moderation/?status={tabs[n % 6]}"),
                args.requests,
            ),
            timed(
                "queue: pending, 60 % deep",
                lambda n: get(f"/moderation/?after={deep_after}"),
                args.requests,
            ),
            timed(
                "queue: one publication's pending",
                lambda n: get(f"/moderation/?publication={busy}"),
                args.requests,
            ),
            timed(
                "queue: each tab, menu cache just expired",
                lambda n: (cache.clear(), get(f"/moderation/?status={tabs[n % 6]}")),
                args.requests,
            ),
            timed(
                "decision: approve (JSON)",
                lambda n: post(f"/moderation/comments/{next(decided)}/approve"),
                args.requests,
            ),
            timed(
                "decision: spam (JSON)",
                lambda n: post(f"/moderation/comments/{next(decided)}/spam"),
                args.requests,
            ),
        ]
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    print(f"\n| scenario | p50 ms | p99 ms | max ms |  ({args.database})")
    for row in rows:
        print(f"| {row['name']} | {row['p50']:.1f} | {row['p99']:.1f} | {row['max']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
