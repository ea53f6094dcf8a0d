"""Decisions sent by the queue's script: the same POST, answered as JSON when asked."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import Comment, CommentState, Moderator
from tests.helpers import login, make_comment, make_publication, queue_token

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)
JSON = {"Accept": "application/json"}


@pytest.fixture
def signed_in(client: FlaskClient, moderator: Moderator) -> FlaskClient:
    login(client, "mod")
    return client


def send(client: FlaskClient, url: str, **data: str):
    form = {"csrf_token": queue_token(client), "next": "/moderation/?status=pending", **data}
    return client.post(url, data=form, headers=JSON)


def test_a_decision_answers_json_with_the_tab_counts(app: Flask, signed_in: FlaskClient) -> None:
    publication = make_publication()
    first = make_comment(publication, state=P)
    make_comment(publication, state=P, minutes=1)
    response = send(signed_in, f"/moderation/comments/{first.id}/approve", seen="pending")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["state"] == "approved"
    assert body["message"] == "Approved: 1 comment."
    assert body["counts"]["pending"] == 1 and body["counts"]["approved"] == 1
    assert body["undo"] == f"/moderation/comments/{first.id}/undo"
    assert db.session.get(Comment, first.id).state is A


def test_the_counts_follow_the_queue_the_decision_came_from(
    app: Flask, signed_in: FlaskClient
) -> None:
    one, two = make_publication(), make_publication()
    held = make_comment(one, state=P)
    make_comment(two, state=P)
    response = send(
        signed_in,
        f"/moderation/comments/{held.id}/spam",
        next=f"/moderation/?status=pending&publication={one.id}",
    )
    counts = response.get_json()["counts"]
    assert counts["pending"] == 0 and counts["spam"] == 1  # only this publication's


def test_a_conflicting_decision_says_why_and_changes_nothing(
    app: Flask, signed_in: FlaskClient
) -> None:
    comment = make_comment(make_publication(), state=R)
    response = send(signed_in, f"/moderation/comments/{comment.id}/approve", seen="pending")
    assert response.status_code == 409
    body = response.get_json()
    assert body["ok"] is False
    assert "someone decided" in body["message"]
    assert db.session.get(Comment, comment.id).state is R


def test_undo_answers_json(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    send(signed_in, f"/moderation/comments/{comment.id}/reject")
    response = send(signed_in, f"/moderation/comments/{comment.id}/undo")
    assert response.get_json()["state"] == "pending"
    assert response.get_json()["counts"]["rejected"] == 0
    untouched = make_comment(make_publication(), state=P)
    refused = send(signed_in, f"/moderation/comments/{untouched.id}/undo")
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "There is no decision to undo on that comment."


def test_an_expired_token_answers_json_and_changes_nothing(
    app: Flask, signed_in: FlaskClient
) -> None:
    comment = make_comment(make_publication(), state=P)
    response = signed_in.post(
        f"/moderation/comments/{comment.id}/approve", data={"csrf_token": "stale"}, headers=JSON
    )
    assert response.status_code == 400
    assert response.get_json() == {
        "ok": False,
        "expired": True,
        "message": "Nothing was changed: the page had expired. Please try again.",
    }
    assert db.session.get(Comment, comment.id).state is P


def test_a_form_post_still_redirects_with_a_notice(app: Flask, signed_in: FlaskClient) -> None:
    comment = make_comment(make_publication(), state=P)
    data = {"csrf_token": queue_token(signed_in), "next": "/moderation/?status=pending"}
    response = signed_in.post(f"/moderation/comments/{comment.id}/approve", data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/moderation/?status=pending"
    assert "Approved: 1 comment." in signed_in.get("/moderation/").get_data(as_text=True)


def test_the_queue_lists_every_shortcut(app: Flask, signed_in: FlaskClient) -> None:
    make_comment(make_publication(), state=P)
    page = signed_in.get("/moderation/").get_data(as_text=True)
    for key in "jkarsux?":
        assert f"<dt><kbd>{key}</kbd></dt>" in page
    assert 'aria-live="polite"' in page
