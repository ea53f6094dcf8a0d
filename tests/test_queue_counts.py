"""The queue's tab counts, kept by the database whoever changes a comment."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import delete, func, insert, select, text, update

from discussion.extensions import db
from discussion.models import Comment, CommentState, Publication
from discussion.moderation import queue
from tests.helpers import make_comment, make_publication

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)


def counted(publication_id: int | None = None) -> dict[str, int]:
    """What the tabs would show, counted the slow way."""
    stmt = select(Comment.state, func.count()).group_by(Comment.state)
    reported = select(func.count()).where(Comment.state == A, Comment.open_reports > 0)
    if publication_id is not None:
        stmt = stmt.where(Comment.publication_id == publication_id)
        reported = reported.where(Comment.publication_id == publication_id)
    found = {state.value: n for state, n in db.session.execute(stmt)}
    result = {s: found.get(s, 0) for s in ("pending", "approved", "rejected", "spam")}
    result["reported"] = db.session.scalar(reported) or 0
    result["all"] = sum(found.values())
    return result


def test_counts_follow_inserts_changes_reports_and_deletions(app: Flask) -> None:
    one, two = make_publication(), make_publication()
    made = [make_comment(p, state=s) for p in (one, two) for s in (P, P, A, A, R, S) * 3]
    assert queue.counts(queue.QueueQuery()) == counted()
    db.session.execute(update(Comment).where(Comment.id == made[0].id).values(state=A))
    db.session.execute(update(Comment).where(Comment.id == made[2].id).values(open_reports=2))
    db.session.execute(  # a second report changes nothing the tabs show
        update(Comment).where(Comment.id == made[2].id).values(open_reports=3)
    )
    db.session.execute(
        update(Comment).where(Comment.id == made[3].id).values(publication_id=two.id)
    )
    db.session.execute(delete(Comment).where(Comment.id == made[4].id))
    db.session.commit()
    for publication_id in (None, one.id, two.id):
        tabs = queue.counts(queue.QueueQuery(publication_id=publication_id))
        assert tabs == counted(publication_id)
    assert queue.counts(queue.QueueQuery())["reported"] == 1
    assert queue.pending_count() == counted()["pending"]


def test_deleting_a_publication_takes_its_comments_out_of_the_counts(app: Flask) -> None:
    gone, kept = make_publication(), make_publication()
    for state in (P, A, S):
        make_comment(gone, state=state)
    make_comment(kept, state=P)
    db.session.execute(delete(Publication).where(Publication.id == gone.id))
    db.session.commit()
    assert (
        queue.counts(queue.QueueQuery())
        == counted()
        == {"pending": 1, "approved": 0, "rejected": 0, "spam": 0, "reported": 0, "all": 1}
    )


def test_a_search_counts_the_matching_comments(app: Flask) -> None:
    publication = make_publication()
    make_comment(publication, state=P, body="About the ceasefire")
    make_comment(publication, state=A, body="About the ceasefire too")
    make_comment(publication, state=P, body="Something else")
    reported = make_comment(publication, state=A, body="A reported ceasefire")
    reported.open_reports = 2
    make_comment(publication, state=R, body="Ceasefire!")
    make_comment(publication, state=S, body="Ceasefire, cheap")
    db.session.commit()
    assert queue.counts(queue.QueueQuery(search="ceasefire")) == {
        "pending": 1,
        "reported": 1,
        "approved": 2,
        "rejected": 1,
        "spam": 1,
        "all": 5,
    }


def test_the_publication_menu_lists_the_busiest_of_the_tab(app: Flask) -> None:
    quiet, busy = make_publication(title="Quiet"), make_publication(title="Busy")
    make_comment(quiet, state=P)
    for _ in range(3):
        make_comment(busy, state=P)
    make_comment(quiet, state=A)
    menu = queue.busiest_publications(queue.QueueQuery())
    assert menu == [(busy.id, "Busy", 3), (quiet.id, "Quiet", 1)]
    spam = queue.busiest_publications(queue.QueueQuery(status="spam", publication_id=busy.id))
    assert spam == [(busy.id, "Busy", 0)]  # the chosen one stays in the menu


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_bulk_load_leaves_the_tallies_compact(app: Flask) -> None:
    publication = make_publication()
    row = {
        "publication_id": publication.id,
        "name": "Reader",
        "body_text": "Imported.",
        "body_html": "<p>Imported.</p>",
        "sanitizer_version": 1,
        "state": A,
        "created_at": datetime(2024, 2, 1, tzinfo=UTC),
    }
    db.session.execute(insert(Comment), [row] * 3000)  # 3,000 updates of the tallies
    db.session.commit()

    def pages() -> int:
        return db.session.scalar(text("SELECT pg_relation_size('comment_counts') / 8192"))

    bloated = pages()
    queue.compact_tallies()
    assert pages() < bloated and pages() <= 1
    assert queue.counts(queue.QueueQuery()) == counted() and counted()["approved"] == 3000


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_compacting_the_tallies_never_waits_long_for_a_lock(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with db.engine.connect() as other:  # a transaction reading the tallies, left open
        other.execute(select(func.count()).select_from(text("comment_counts")))
        queue.compact_tallies()  # gives up after COMPACT_WAIT instead of queueing posts
        other.rollback()
    assert "tallies not compacted" in caplog.text
