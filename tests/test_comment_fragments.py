"""Rendered threads kept by content: the page is the same as one rendered afresh, a
changed comment renders its thread again and only that one, and the kept HTML stays
within its size; a reader's comments awaiting moderation are kept the same way."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from sqlalchemy import event

from discussion.comments.fragments import Fragments
from discussion.extensions import cache, db
from discussion.models import Comment, CommentState, Publication
from discussion.publications.catalog import touch
from tests.helpers import login, make_comment, make_publication, post_comment


def _threads(publication: Publication, staff_id: int | None = None) -> list[Comment]:
    """Threads of every shape the comment macro draws."""
    first = make_comment(publication, body="First, with replies", minutes=1)
    reply = make_comment(publication, parent=first, body="A reply", name="Replier", minutes=2)
    make_comment(publication, parent=reply, body="A reply to the reply", minutes=3)
    make_comment(publication, parent=first, state=CommentState.PENDING, minutes=4)
    staff = make_comment(publication, body="From the newsroom", minutes=5)
    picked = make_comment(publication, body="Picked by the editors", minutes=6)
    edited = make_comment(publication, body="Edited since", minutes=7)
    gone = make_comment(publication, body="Withdrawn", minutes=8)
    make_comment(publication, parent=gone, body="Still answering it", minutes=9)
    staff.staff_id = staff_id
    picked.featured_at = datetime(2024, 2, 2, tzinfo=UTC)
    edited.edited_at, edited.recommendations = datetime(2024, 2, 3, tzinfo=UTC), 4
    gone.deleted_at = datetime(2024, 2, 4, tzinfo=UTC)
    db.session.commit()
    return [first, staff, picked, edited, gone]


def _fresh_get(app: Flask, client: FlaskClient, url: str) -> str:
    """The page as the app builds it now: no kept body, no kept page; form tokens out
    (a signed-in member's are signed anew each second)."""
    cache.clear()
    app.extensions["page_cache"].clear()
    page = client.get(url).get_data(as_text=True)
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", page)


def test_a_page_of_kept_threads_is_the_page_rendered_afresh(
    app: Flask, client: FlaskClient, moderator: Any
) -> None:
    publication = make_publication()
    first, *_ = _threads(publication, staff_id=moderator.id)
    base = f"/publications/{publication.slug}"
    urls = [base, f"{base}?sort=newest", f"{base}?sort=recommended"]
    kept = app.extensions["comment_fragments"]
    for who in ("reader", "moderator"):  # the reader's threads are kept when staff come
        if who == "moderator":
            login(client, "mod")
        for url in urls:
            app.extensions.pop("comment_fragments")
            afresh = _fresh_get(app, client, url)
            app.extensions["comment_fragments"] = kept
            built, again = _fresh_get(app, client, url), _fresh_get(app, client, url)
            assert built == afresh and again == afresh, (who, url)
            assert "A reply to the reply" in again
    assert len(kept.entries) >= 5
    # A page built for one moderator alone carries their session's token: kept nowhere.
    held = len(kept.entries)
    reply_to = _fresh_get(app, client, f"{base}?reply_to={first.id}")
    assert "Feature as a pick" in reply_to and len(kept.entries) == held


def test_a_kept_thread_is_served_as_kept(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    first, *_ = _threads(publication)
    url = f"/publications/{publication.slug}"
    _fresh_get(app, client, url)
    kept = app.extensions["comment_fragments"]
    for key in list(kept.entries):
        kept.put(key, b'<p class="from-the-keep">kept</p>')
    touch([publication.id])  # a new version: the page is built again, the threads kept
    db.session.commit()
    page = _fresh_get(app, client, url)
    assert page.count('class="from-the-keep"') == len(kept.entries)
    assert f'id="comment-{first.id}"' not in page  # (its text is still in the metadata)


def test_a_changed_comment_renders_its_thread_again_and_only_that_one(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    _threads(publication)
    url = f"/publications/{publication.slug}"
    _fresh_get(app, client, url)
    kept = app.extensions["comment_fragments"]
    before = len(kept.entries)
    reply = db.session.scalar(db.select(Comment).where(Comment.name == "Replier"))
    reply.body_html, reply.recommendations = "<p>Said otherwise now</p>", 2
    touch([publication.id])
    db.session.commit()
    page = _fresh_get(app, client, url)
    assert "Said otherwise now" in page and "A reply to the reply" in page
    assert len(kept.entries) == before + 1  # first's thread, anew; the others as kept
    approved = make_comment(publication, body="Just approved", minutes=20)
    touch([approved.publication_id])
    db.session.commit()
    assert "Just approved" in _fresh_get(app, client, url)
    assert len(kept.entries) == before + 2


@pytest.mark.config(COMMENT_FRAGMENT_BYTES=0)
def test_nothing_is_kept_when_switched_off(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    _threads(publication)
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "comment_fragments" not in app.extensions and "A reply to the reply" in page


def test_kept_threads_stay_within_their_size() -> None:
    kept = Fragments(100)
    for key in (b"a", b"b", b"c"):
        kept.put(key, b"x" * 40)
    assert kept.get(b"a") is None and kept.size == 80  # the oldest went
    assert kept.get(b"b") == b"x" * 40  # used: now the newest
    kept.put(b"d", b"y" * 40)
    assert kept.get(b"c") is None and kept.get(b"b") is not None and kept.size == 80
    kept.put(b"e", b"z" * 101)  # larger than all: not kept, nothing dropped for it
    assert kept.get(b"e") is None and kept.size == 80


def test_a_readers_waiting_comment_renders_once_while_what_it_shows_stays_the_same(
    app: Flask, client: FlaskClient, clock: list[datetime]
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    for host in ("localhost", "alias.example.org"):  # first-time readers: nothing to keep
        app.test_client().get(url, headers={"Host": host})
    assert not app.extensions["comment_fragments"].entries
    assert post_comment(client, publication.slug, body="Waiting here").status_code == 303
    comment = db.session.scalar(db.select(Comment))
    comment.created_at = clock[0]
    db.session.commit()
    rendered: list[str] = []

    def record(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        rendered.append(template.name)

    def parts(page: str) -> list[str]:  # the reader's part of each view
        return re.findall(r'<div class="own-comments".*?</div>', page, re.S)

    with template_rendered.connected_to(record, app):
        views = [client.get(url).get_data(as_text=True) for _ in range(4)]
        assert rendered.count("publications/_reader.html") == 2  # with the notice, then once
        assert "awaits moderation" in views[0] and "awaits moderation" not in views[1]
        assert parts(views[1]) == parts(views[2]) == parts(views[3])
        assert "Waiting here" in parts(views[3])[0] and "Edit or delete" in views[3]
        other = app.test_client()  # another reader's: their own, never this one
        post_comment(other, publication.slug, body="Someone else's")
        other.get(url)
        theirs = other.get(url).get_data(as_text=True)
        assert "Someone else's" in theirs and "Waiting here" not in theirs

        comment.body_html = "<p>Said otherwise</p>"  # an edit: what it shows changed
        db.session.commit()
        assert "Said otherwise" in parts(client.get(url).get_data(as_text=True))[0]
        long = "<p>" + "a" * 400 + "{}" + "a" * 400 + "</p>"  # changed past a row's repr
        for middle in ("Middle", "Centre"):  # (the same length)
            comment.body_html = long.format(middle)
            db.session.commit()
            assert middle in parts(client.get(url).get_data(as_text=True))[0]
        secure = client.get(url, base_url="https://localhost").get_data(as_text=True)
        plain = client.get(url).get_data(as_text=True)
        assert "https://localhost/comments/status/" in secure  # where it was read
        assert "http://localhost/comments/status/" in plain
        comment.body_html = "<p>Said otherwise</p>"
        db.session.commit()
        clock[0] += timedelta(minutes=app.config["COMMENT_EDIT_MINUTES"], seconds=1)
        page = client.get(url).get_data(as_text=True)
        assert "Said otherwise" in page and "Edit or delete" not in page


def test_a_reader_with_nothing_of_theirs_waiting_gets_no_part_rendered(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    assert post_comment(client, publication.slug, body="Mine, approved since").status_code == 303
    client.get(url)  # the notice, once
    comment = db.session.scalar(db.select(Comment))
    comment.state = CommentState.APPROVED
    touch([publication.id])
    db.session.commit()
    rendered: list[str] = []

    def record(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        rendered.append(template.name)

    with template_rendered.connected_to(record, app):
        page = client.get(url).get_data(as_text=True)
    assert "Mine, approved since" in page and "Edit or delete" in page  # theirs, shown
    assert "publications/_reader.html" not in rendered and 'id="your-comments"' not in page


def _read_with(
    client: FlaskClient, publication: Publication, marker: str
) -> tuple[str, list[tuple[str, Any]]]:
    """The article's page, and the statements holding ``marker`` sent to build it."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if marker in statement:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return page, sent


def _sqlite_plan(statement: str, parameters: Any) -> str:
    rows = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
    return " ".join(row[-1] for row in rows)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_replies_of_a_page_are_read_among_its_publications_comments_only(
    app: Flask, client: FlaskClient
) -> None:
    """SQLite's planner counts every top-level comment's NULL root as one value: asked
    for replies by root alone, it walked every approved comment of the site."""
    other = make_publication()
    for minutes in range(30):
        make_comment(other, minutes=minutes)
    publication = make_publication()
    _threads(publication)
    _, [(statement, parameters)] = _read_with(client, publication, "root_id IN")
    plan = _sqlite_plan(statement, parameters)
    assert "ix_comments_state_id" not in plan, plan
    assert "ix_comments_thread" in plan or "ix_comments_root_id" in plan, plan


def test_the_visible_replies_are_counted_the_way_each_databases_planner_reads_them_fast(
    app: Flask, client: FlaskClient
) -> None:
    """PostgreSQL's planner, not told the replies' publications, read every approved
    comment of the site to join them; SQLite's, told them, scanned the publication's
    comments for each comment instead of following its parent."""
    publication = make_publication()
    _threads(publication)
    page, [(statement, parameters)] = _read_with(client, publication, "RECURSIVE")
    assert "Comments (7)" in page  # 4 top-level, 2 replies, 1 under a withdrawn comment
    replies = statement.split("UNION ALL")[1]
    if db.engine.dialect.name == "postgresql":
        assert "comments_1.publication_id IN" in replies, replies
    else:
        plan = _sqlite_plan(statement, parameters)
        assert "SEARCH comments_1 USING INDEX ix_comments_parent_id" in plan, plan
