"""Time and profile, in the process, the article page of a reader with a session.

Usage (a database made as ``run.py --scenario story`` makes it: ``flask demo-data``):

    FLASK_SQLALCHEMY_DATABASE_URI=sqlite:///... FLASK_SECRET_KEY=... \\
        .venv/bin/python bench/reader_profile.py [--who pending|approved|moderator|shared] \\
        [--profile]

A new visitor posts a comment to ``demo-comments-200`` (pending; ``approved``: then the
moderator ``bench`` approves it), or ``bench`` signs in; then the article (newest first
for ``approved``) is read with that session ``--runs`` times through the whole WSGI
stack (the process's page cache included), one request at a time.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import time

os.environ.setdefault("FLASK_RATELIMIT_ENABLED", "false")
os.environ.setdefault("FLASK_SECURE_COOKIES", "false")

from discussion import create_app

ARTICLE = "/publications/demo-comments-200"


def _token(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _login(client) -> None:
    login = client.get("/auth/login").get_data(as_text=True)
    answer = client.post(
        "/auth/login",
        data={"username": "bench", "password": "bench-password-1", "csrf_token": _token(login)},
    )
    assert answer.status_code in (302, 303), answer.status_code


def _approve(app, page: str) -> None:
    """The moderator ``bench`` approves the reader's pending comment shown on ``page``."""
    comment_id = re.search(r'comment--pending[^"]*" id="comment-(\d+)"', page).group(1)
    moderator = app.test_client()
    _login(moderator)
    queue = moderator.get("/moderation/").get_data(as_text=True)
    answer = moderator.post(
        f"/moderation/comments/{comment_id}/approve",
        data={"csrf_token": _token(queue), "seen": "pending"},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.status_code
    time.sleep(app.config["SHARED_PAGE_SECONDS"] + 0.1)  # the kept copies have expired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--who", choices=["pending", "approved", "moderator", "shared"], default="pending"
    )
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    app = create_app()
    client = app.test_client()
    page = client.get(ARTICLE).get_data(as_text=True)
    if args.who in ("pending", "approved"):
        answer = client.post(
            f"{ARTICLE}/comments",
            data={"name": "Waiting", "body": f"pending {time.time()}", "csrf_token": _token(page)},
        )
        assert answer.status_code == 303, answer.status_code
        client.get(answer.headers["Location"])  # the notice, once
        if args.who == "approved":
            _approve(app, client.get(ARTICLE).get_data(as_text=True))
    elif args.who == "moderator":
        _login(client)
    else:
        client = app.test_client(use_cookies=False)
    # An approved comment is the newest: on the first page newest first.
    address = f"{ARTICLE}?sort=newest" if args.who == "approved" else ARTICLE
    for _ in range(20):  # warm: templates compiled, the body kept
        body = client.get(address).get_data()
    if args.who == "approved":  # their comment on the page, with its edit link
        assert b"Edit or delete" in body, "the approved comment is not on the page"
    print(f"{args.who}: {len(body)} bytes")
    times = []
    profiler = cProfile.Profile() if args.profile else None
    if profiler:
        profiler.enable()
    for _ in range(args.runs):
        started = time.perf_counter()
        client.get(address).get_data()
        times.append((time.perf_counter() - started) * 1000)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
    times.sort()
    print(
        f"{args.runs} GETs: median {statistics.median(times):.2f} ms, "
        f"p90 {times[int(len(times) * 0.9)]:.2f}, p99 {times[int(len(times) * 0.99)]:.2f}"
    )


if __name__ == "__main__":
    main()
