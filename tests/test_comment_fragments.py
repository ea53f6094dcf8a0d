"""The article's thread reads only its publication's comments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from discussion.extensions import db
from discussion.models import Comment, CommentState, Publication
from tests.helpers import make_comment, make_publication


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
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "root_id IN" in statement:
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        client.get(f"/publications/{publication.slug}")
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    plan = " ".join(
        row[-1]
        for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters
        )
    )
    assert "ix_comments_state_id" not in plan, plan
    assert "ix_comments_thread" in plan or "ix_comments_root_id" in plan, plan
