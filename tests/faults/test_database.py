"""The database stops answering: PostgreSQL restarted, SQLite locked or its disk full.

Readers keep what was cached, everyone else gets a 503 that keeps their text, nothing
acknowledged with a 303 is lost, and the site recovers by itself.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import request_finished
from sqlalchemy import text

from discussion import create_app
from discussion.extensions import db
from discussion.web import database

from .support import (
    ARTICLE,
    Answer,
    Postgres,
    Site,
    comment_form,
    fetch,
    fill,
    form_token,
    session_cookie,
)

NOT_SAVED = "may not have been saved"


def _pending_reader(url: str, tag: str) -> tuple[str, str]:
    """A reader who posted (so has a session): their cookie and the page's form."""
    page = fetch(url + ARTICLE).text
    posted = fetch(url + ARTICLE + "/comments", comment_form(page, f"{tag} first"))
    assert posted.status == 303, posted.text
    return session_cookie(posted), page


def test_a_postgresql_restart_keeps_readers_reading_and_loses_nothing(
    serve, postgres: Postgres
) -> None:
    site = serve(postgres.url)
    tag = uuid.uuid4().hex[:10]
    cookie, page = _pending_reader(site.url, tag)
    # Every worker has the shared page: requests at once keep both sync workers busy.
    with ThreadPoolExecutor(8) as pool:
        primed = list(pool.map(lambda _: fetch(site.url + ARTICLE).status, range(32)))
    assert set(primed) == {200}

    acknowledged: list[str] = []
    answers: dict[str, list[Answer]] = {"anonymous": [], "session": [], "post": []}
    stop = threading.Event()

    def read(kind: str, cookie: str = "") -> None:
        while not stop.is_set():
            answers[kind].append(fetch(site.url + ARTICLE, cookie=cookie, timeout=15))
            time.sleep(0.02)

    def post() -> None:
        n = 0
        while not stop.is_set():
            body = f"{tag} number {n}"
            answer = fetch(site.url + ARTICLE + "/comments", comment_form(page, body), timeout=15)
            answers["post"].append(answer)
            if answer.status == 303:
                acknowledged.append(body)
            elif answer.status == 503:
                assert body in answer.text  # the reader's text is on the page
            n += 1
            time.sleep(0.05)

    threads = [
        threading.Thread(target=read, args=("anonymous",)),
        threading.Thread(target=read, args=("session", cookie)),
        threading.Thread(target=post),
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        with postgres.down():
            time.sleep(1)  # the pool's connections are now dead
            outage = {k: len(v) for k, v in answers.items()}
            time.sleep(4)
            during = {k: v[outage[k] :] for k, v in answers.items()}
        back = time.monotonic()
        recovered = None
        while time.monotonic() - back < 30:
            answer = fetch(site.url + ARTICLE, cookie=cookie, timeout=15)
            if answer.status == 200:
                recovered = time.monotonic() - back
                break
            time.sleep(0.1)
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)

    statuses = {k: {a.status for a in v} for k, v in answers.items()}
    assert not any(500 in s or 0 in s for s in statuses.values()), (statuses, site.log)
    # Cached pages carried the anonymous readers through; the rest was told to retry.
    seen = {k: [a.status for a in v] for k, v in during.items()}
    assert {a.status for a in during["anonymous"]} == {200}, (seen, site.log)
    assert {a.status for a in during["session"]} == {503}, (seen, site.log)
    assert {a.status for a in during["post"]} == {503}, (seen, site.log)
    unavailable = during["post"][0]
    assert unavailable.headers["retry-after"] == "5"
    assert NOT_SAVED in unavailable.text
    # The pool came back by itself, within seconds of the server.
    assert recovered is not None and recovered < 10, site.log
    # The log tells of the outage once per process, not once per refused request.
    log = site.log
    assert 1 <= log.count("database unavailable, answering 503") <= 2, log
    assert log.count("database reachable again") >= 1, log
    assert fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} after")).status == 303
    acknowledged.append(f"{tag} after")
    # Every acknowledged comment is stored, once.
    for body in acknowledged:
        assert postgres.count("SELECT count(*) FROM comments WHERE body_text = %s", body) == 1
    site.no_tracebacks()


def test_the_server_going_away_while_a_page_renders_still_answers_the_page(
    tmp_path: Path, postgres: Postgres
) -> None:
    """PostgreSQL stops between a request's last query and the end of its transaction
    (a restart while the page renders): the rollback at the end of the request fails,
    yet the reader gets the page built, not a 500."""
    Site(postgres.url, tmp_path, {}).prepare()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": postgres.url,
            "SECRET_KEY": "going-away-" + uuid.uuid4().hex,
            "SITE_URL": "http://127.0.0.1",
        }
    )

    def end_the_connection(_app: object, **_extra: object) -> None:
        backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert postgres.count("SELECT pg_terminate_backend(%s, 10000)", backend)

    with request_finished.connected_to(end_the_connection, app):
        answer = app.test_client().get(ARTICLE)
    assert answer.status_code == 200
    assert "Tell us what you think" in answer.text
    # The next request is served as usual.
    assert app.test_client().get(ARTICLE + "?sort=oldest").status_code == 200


def test_a_connection_dropped_while_idle_in_the_pool_is_replaced_without_asking(
    tmp_path: Path, postgres: Postgres
) -> None:
    """The server ends a pooled connection between requests (a restart, an administrator):
    the next request gets a new connection and its page, not a 503. A live connection is
    checked out without a word to the server (a ping would be a round trip each time)."""
    Site(postgres.url, tmp_path, {}).prepare()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": postgres.url,
            "SECRET_KEY": "dropped-" + uuid.uuid4().hex,
            "SITE_URL": "http://127.0.0.1",
        }
    )

    def one_pooled_connection() -> Any:
        """The pool's only connection, used once (a fresh one is never pinged)."""
        db.engine.dispose()
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            return connection.connection.driver_connection

    with app.app_context():
        dropped = one_pooled_connection()
        backend = dropped.info.backend_pid
    assert postgres.count("SELECT pg_terminate_backend(%s, 10000)", backend)
    answer = app.test_client().get(ARTICLE + "?sort=oldest")
    assert answer.status_code == 200, answer.text
    assert dropped.closed  # checked out first, found dropped, given up

    sent = tmp_path / "trace"
    with app.app_context(), sent.open("wb") as trace:
        live = one_pooled_connection()
        live.pgconn.trace(trace.fileno())
        try:
            with db.engine.connect() as connection:
                assert connection.connection.driver_connection is live
        finally:
            live.pgconn.untrace()
    assert sent.read_bytes() == b""


def test_staff_actions_during_an_outage_change_nothing(serve, postgres: Postgres) -> None:
    site = serve(postgres.url)
    site.flask("create-moderator", "mo", "--password", "correct horse battery", "--role", "admin")
    tag = uuid.uuid4().hex[:10]
    _pending_reader(site.url, tag)
    login = fetch(site.url + "/auth/login")
    credentials = {"username": "mo", "password": "correct horse battery"}
    signed_in = fetch(
        site.url + "/auth/login",
        {**credentials, "csrf_token": form_token(login.text)},
        cookie=session_cookie(login),
    )
    assert signed_in.status in (302, 303), signed_in.text
    cookie = session_cookie(signed_in)
    queue = fetch(site.url + "/moderation/", cookie=cookie)
    assert tag in queue.text
    comment_id = postgres.count("SELECT id FROM comments WHERE body_text = %s", f"{tag} first")
    form = {"csrf_token": form_token(queue.text), "seen": "pending"}
    with postgres.down():
        assert fetch(site.url + "/moderation/", cookie=cookie).status == 503
        # Error pages that would ask the database (the signed-in account in the layout,
        # old addresses on a 404, the page a refused form came from) answer 503 too.
        assert fetch(site.url + "/no-such-page", cookie=cookie).status == 503
        assert fetch(site.url + "/no-such-page").status == 503
        forged = fetch(site.url + ARTICLE + "/comments", {"csrf_token": "x", "body": tag})
        assert forged.status == 503 and tag in forged.text
        refused = fetch(
            site.url + f"/moderation/comments/{comment_id}/approve", form, cookie=cookie
        )
        # The password of the sign-in form is never written back into a page.
        login_refused = fetch(
            site.url + "/auth/login",
            {**credentials, "csrf_token": form_token(login.text)},
            cookie=session_cookie(login),
        )
    assert refused.status == 503, refused.text
    assert "correct horse battery" not in login_refused.text and login_refused.status == 503
    assert 'value="mo"' in login_refused.text
    pending = "SELECT count(*) FROM comments WHERE id = %s AND state = 'pending'"
    assert postgres.count(pending, comment_id) == 1  # not approved by the refused action
    site.no_tracebacks()


def test_a_missing_table_is_a_fault_to_fix_not_an_outage(tmp_path: Path) -> None:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}",
            "SECRET_KEY": "not-migrated-" + uuid.uuid4().hex,
            "SITE_URL": "http://127.0.0.1",
        }
    )
    answer = app.test_client().get(ARTICLE)
    assert answer.status_code == 500  # logged with its traceback, not "try again later"
    assert database.outage.since is None


def test_sqlite_locked_beyond_the_busy_timeout_answers_503_with_the_text_kept(
    serve, tmp_path: Path
) -> None:
    database = tmp_path / "locked.sqlite3"
    other_site = "https://www.example.org"
    site = serve(
        f"sqlite:///{database}",
        SQLITE_BUSY_SECONDS="0.5",
        EMBED_ORIGINS=json.dumps([other_site]),
        EMBED_CREATE_PUBLICATIONS="true",
    )
    page = fetch(site.url + ARTICLE).text
    frame = f"/embed/thread?url={quote(other_site + '/news/story')}&title=Story"
    framed_page = fetch(site.url + frame)
    tag = uuid.uuid4().hex[:10]
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        refused = fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} locked"))
        reading = fetch(site.url + ARTICLE)
        api = fetch(
            site.url + "/api/v1/publications/khamenei-rejects-us-talks-on-twitter/comments",
            json_body={"name": "Ada", "body": f"{tag} api"},
        )
        framed = fetch(
            site.url + frame,
            comment_form(framed_page.text, f"{tag} framed"),
            cookie=session_cookie(framed_page),
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert refused.status == 503 and f"{tag} locked" in refused.text
    assert reading.status == 200  # readers are not held up by a writer
    # The API answers a problem document; the embedded thread keeps the text in its frame.
    assert api.status == 503 and api.headers["content-type"] == "application/problem+json"
    assert json.loads(api.text)["type"].endswith("#problem-unavailable")
    assert api.headers["retry-after"] == "5"
    assert framed.status == 503 and f"{tag} framed" in framed.text
    assert other_site in framed.headers["content-security-policy"]
    again = fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} locked"))
    assert again.status == 303
    with sqlite3.connect(database) as check:
        stored = check.execute(
            "SELECT count(*) FROM comments WHERE body_text = ?", (f"{tag} locked",)
        ).fetchone()[0]
    assert stored == 1
    site.no_tracebacks()


def test_sqlite_on_a_full_disk_answers_503_and_writes_nothing_half(serve, small_disk: Path) -> None:
    database = small_disk / "full.sqlite3"
    site = serve(f"sqlite:///{database}")
    page = fetch(site.url + ARTICLE).text
    tag = uuid.uuid4().hex[:10]
    with sqlite3.connect(database) as check:  # new writes must grow the files
        check.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = fill(small_disk)
    try:
        refused = [
            fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} {n} " + "x" * 4000))
            for n in range(5)
        ]
        reading = fetch(site.url + ARTICLE, cookie="session=x")
    finally:
        filler.unlink()
    assert {a.status for a in refused} == {503}, [a.status for a in refused]
    assert all(f"{tag} {n}" in a.text for n, a in enumerate(refused))
    assert reading.status == 200
    again = fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} later"))
    assert again.status == 303
    with sqlite3.connect(database) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        bodies = [
            r[0]
            for r in check.execute(
                "SELECT body_text FROM comments WHERE body_text LIKE ?", (f"{tag}%",)
            )
        ]
    assert bodies == [f"{tag} later"]
    site.no_tracebacks()
