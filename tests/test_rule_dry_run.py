"""Trying a rule change on the last 30 days' comments before saving it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from discussion.extensions import db
from discussion.models import CommentState, Decision, Moderator
from discussion.moderation import settings
from tests.helpers import csrf_token, login, make_comment, make_publication

RULES = {
    "max_links": "2",
    "reports_to_hide": "3",
    "trusted_domains": "",
    "suspect_words": "",
    "banned_words": "",
}


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_a_preview_counts_and_shows_what_would_change_and_saves_nothing(
    app: Flask, admin: Moderator, clock: list[datetime]
) -> None:
    clock[0] = datetime(2024, 2, 10, tzinfo=UTC)  # comments are made on 1 February 2024
    publication = make_publication()
    bought = make_comment(publication, body="Buy crypto now")
    db.session.add(
        Decision(
            comment_id=bought.id,
            moderator_id=admin.id,
            from_state=CommentState.PENDING,
            to_state=CommentState.APPROVED,
        )
    )
    make_comment(publication, body="Crypto is a fine topic", minutes=1)
    make_comment(publication, body="Hello there", minutes=2)
    make_comment(publication, state=CommentState.PENDING, body="Plain words", minutes=3)
    db.session.commit()
    staff = app.test_client()
    login(staff, "chief")
    data = {
        **RULES,
        "suspect_words": "crypto",
        "banned_words": "hello",
        "csrf_token": csrf_token(staff, "/moderation/rules"),
        "preview": "1",
    }
    response = staff.post("/moderation/rules", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "What these rules would have done (not saved)" in page
    assert "On the 4 comments of the last 30 days" in page
    assert '<th scope="row">More held for moderation</th><td>2</td>' in page
    assert '<th scope="row">More rejected or spam</th><td>1</td>' in page
    assert '<th scope="row">Fewer held</th><td>0</td>' in page
    assert "approved by a moderator</th><td>1</td>" in page
    assert "(approved → pending; now approved): “Buy crypto now”" in page
    assert "Suspect word: Matched: Crypto" in page
    assert 'name="suspect_words"' in page and "crypto</textarea>" in page  # kept as typed
    assert settings.current()["suspect_words"] == []  # nothing saved


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_a_preview_with_errors_shows_them_and_runs_nothing(app: Flask, admin: Moderator) -> None:
    staff = app.test_client()
    login(staff, "chief")
    data = {**RULES, "max_links": "-4", "csrf_token": csrf_token(staff, "/moderation/rules")}
    response = staff.post("/moderation/rules", data={**data, "preview": "1"})
    assert response.status_code == 400
    assert "would have done" not in response.get_data(as_text=True)


def test_only_admins_preview(app: Flask, moderator: Moderator) -> None:
    staff = app.test_client()
    login(staff, "mod")
    token = csrf_token(staff, "/moderation/")
    response = staff.post("/moderation/rules", data={**RULES, "csrf_token": token, "preview": "1"})
    assert response.status_code == 403
