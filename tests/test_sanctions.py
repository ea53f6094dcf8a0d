"""Sanctions on authors: blocks and pre-moderation by email or address, notes, the panel."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import (
    AuthorNote,
    Comment,
    CommentState,
    Moderator,
    OutboxMail,
    Sanction,
    utcnow,
)
from tests.helpers import csrf_token, login, make_publication, post_comment, queue_token

THANKS = "Thank you. Your comment awaits moderation"
PUBLISHED = "Thank you. Your comment is published."


@pytest.fixture
def signed_in(app: Flask, moderator: Moderator) -> FlaskClient:
    staff = app.test_client()
    login(staff, "mod")
    return staff


def newest() -> Comment:
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def sanction(staff: FlaskClient, comment_id: int, **fields: str):
    data = {
        "csrf_token": queue_token(staff),
        "next": "/moderation/",
        "action": "block",
        "kind": "email",
        "duration": "day",
        **fields,
    }
    return staff.post(f"/moderation/comments/{comment_id}/sanction", data=data)


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_a_blocked_email_is_refused_with_the_usual_words_and_recorded(
    app: Flask, client: FlaskClient, signed_in: FlaskClient
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, name="Troll", email="Troll@Example.org", body="First")
    first = newest()
    assert first.state is CommentState.APPROVED
    response = sanction(signed_in, first.id, duration="week")
    assert response.status_code == 303
    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert "Email blocked until" in page

    reply = post_comment(
        client,
        publication.slug,
        name="Troll",
        email=" troll@example.ORG ",
        body="Again",
        notify_outcome="y",
    )
    assert reply.status_code == 303
    shown = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert THANKS in shown and "blocked" not in shown.lower()  # no hint for spammers
    refused = newest()
    assert refused.body_text == "Again" and refused.state is CommentState.REJECTED
    assert [h.rule for h in refused.holds] == ["blocked"]
    assert db.session.scalar(select(Sanction.refused)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 0  # no mail

    post_comment(client, publication.slug, name="Other", email="other@example.org", body="Hi")
    assert newest().state is CommentState.APPROVED  # everyone else is unaffected


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_a_blocked_address_and_its_lifting(
    app: Flask, client: FlaskClient, signed_in: FlaskClient
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, name="Anon", body="No email")
    first = newest()
    sanction(signed_in, first.id, kind="address", duration="good")
    post_comment(client, publication.slug, name="New name", email="new@example.org", body="Hi")
    assert newest().state is CommentState.REJECTED

    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    post_comment(other, publication.slug, name="Neighbour", body="Different address")
    assert newest().state is CommentState.APPROVED

    made = db.session.scalar(select(Sanction))
    assert made.until is None  # for good
    lift = signed_in.post(
        f"/moderation/sanctions/{made.id}/lift",
        data={
            "csrf_token": queue_token(signed_in),
            "next": f"/moderation/comments/{first.id}/author",
        },
    )
    assert lift.headers["Location"] == f"/moderation/comments/{first.id}/author"
    assert "Lifted: sanction" in signed_in.get(lift.headers["Location"]).get_data(as_text=True)
    post_comment(client, publication.slug, name="Anon", body="Welcome back")
    assert newest().state is CommentState.APPROVED


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_an_author_always_held_and_an_expired_sanction(
    app: Flask, client: FlaskClient, signed_in: FlaskClient
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, name="Ada", email="ada@example.org", body="One")
    sanction(signed_in, newest().id, action="premoderate")
    post_comment(client, publication.slug, name="Ada", email="ada@example.org", body="Two")
    held = newest()
    assert held.state is CommentState.PENDING
    assert held.holds[0].rule == "author_premoderation"
    assert "always held for moderation until" in held.holds[0].detail
    page = signed_in.get("/moderation/").get_data(as_text=True)
    assert "<strong>Author always held</strong>" in page

    made = db.session.scalar(select(Sanction))
    made.until = utcnow() - timedelta(minutes=1)  # the day is over
    db.session.commit()
    post_comment(client, publication.slug, name="Ada", email="ada@example.org", body="Three")
    assert newest().state is CommentState.APPROVED


def test_notes_and_the_author_panel(
    app: Flask, client: FlaskClient, signed_in: FlaskClient
) -> None:
    publication = make_publication(title="Border talks")
    for body in ("Alpha", "Beta"):
        post_comment(client, publication.slug, name="Ada", email="ada@example.org", body=body)
    comment = newest()
    saved = signed_in.post(
        f"/moderation/comments/{comment.id}/note",
        data={
            "csrf_token": queue_token(signed_in),
            "next": "/moderation/",
            "text": "Argues <b>hard</b>; has been fair so far.",
        },
    )
    assert saved.status_code == 303
    queue = signed_in.get("/moderation/").get_data(as_text=True)
    assert queue.count("Argues &lt;b&gt;hard&lt;/b&gt;; has been fair so far.") == 2  # both rows
    panel = signed_in.get(f"/moderation/comments/{comment.id}/author").get_data(as_text=True)
    assert "ada@example.org" in panel and "Alpha" in panel and "Beta" in panel
    assert panel.count("Border talks") >= 4  # by email and by address, two each
    assert "Argues &lt;b&gt;hard&lt;/b&gt;" in panel
    assert "No sanction on this email or address." in panel


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "email"}, "Not done: that comment has no email."),
        ({"duration": "year"}, "Not done: Not a valid choice."),
        ({"kind": "phone"}, "Not done: Not a valid choice."),
    ],
)
def test_a_sanction_that_cannot_be_made_says_why(
    app: Flask, client: FlaskClient, signed_in: FlaskClient, fields: dict, message: str
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, name="Anon", body="No email")
    response = sanction(signed_in, newest().id, **fields)
    assert response.status_code == 303
    assert message in signed_in.get("/moderation/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Sanction)) == 0


def test_an_empty_note_is_refused(app: Flask, client: FlaskClient, signed_in: FlaskClient) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, name="Ada", body="Hi")
    signed_in.post(
        f"/moderation/comments/{newest().id}/note",
        data={"csrf_token": queue_token(signed_in), "text": "   "},
    )
    assert "Note not saved" in signed_in.get("/moderation/").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuthorNote)) == 0


def test_only_moderators_reach_sanctions(
    app: Flask, client: FlaskClient, editor: Moderator
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, name="Ada", email="ada@example.org", body="Hi")
    comment_id = newest().id
    panel = f"/moderation/comments/{comment_id}/author"
    anonymous = app.test_client()
    assert anonymous.get(panel).status_code == 302  # to the sign-in page
    token = csrf_token(anonymous, "/auth/login")
    posted = anonymous.post(
        f"/moderation/comments/{comment_id}/sanction",
        data={"csrf_token": token, "action": "block", "kind": "email", "duration": "day"},
    )
    assert posted.status_code == 302
    desk = app.test_client()
    login(desk, "ed")
    assert desk.get(panel).status_code == 403
    token = csrf_token(desk, "/desk/")
    posted = desk.post(
        f"/moderation/comments/{comment_id}/sanction",
        data={"csrf_token": token, "action": "block", "kind": "email", "duration": "day"},
    )
    assert posted.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Sanction)) == 0
