"""Rules by topic: an admin makes a topic's publications stricter; the hold names it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import Comment, CommentState, Moderator, Topic, TopicRule
from tests.helpers import csrf_token, login, make_publication, post_comment


def newest() -> Comment:
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def topic_id(name: str) -> int:
    return db.session.scalar(select(Topic.id).where(Topic.name == name))


def save(staff: FlaskClient, name: str, **fields: str):
    data = {"csrf_token": csrf_token(staff, "/moderation/topics"), "topic_id": str(topic_id(name))}
    return staff.post("/moderation/topics", data={**data, **fields})


@pytest.fixture
def chief(app: Flask, admin: Moderator) -> FlaskClient:
    staff = app.test_client()
    login(staff, "chief")
    return staff


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_hold_every_comment_on_a_topic(app: Flask, client: FlaskClient, chief: FlaskClient) -> None:
    strict = make_publication(topics=["Violent Extremism", "Youth"])
    other = make_publication(topics=["Youth"])
    response = save(chief, "Violent Extremism", hold_all="y")
    assert response.status_code == 303
    assert "Saved: the rules for Violent Extremism." in chief.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    post_comment(client, strict.slug, body="A calm comment")
    held = newest()
    assert held.state is CommentState.PENDING
    assert [(h.rule, h.detail) for h in held.holds] == [
        ("topic", "Violent Extremism: every comment is held")
    ]
    page = chief.get("/moderation/").get_data(as_text=True)
    assert "<strong>Topic rule</strong>: Violent Extremism: every comment is held" in page
    post_comment(client, other.slug, body="Another calm comment")
    assert newest().state is CommentState.APPROVED


@pytest.mark.config(MODERATION_PREMODERATION=False)
def test_a_topic_s_own_suspect_words(app: Flask, client: FlaskClient, chief: FlaskClient) -> None:
    publication = make_publication(topics=["Gender"])
    save(chief, "Gender", suspect_words="slur one\nSlur Two")
    post_comment(client, publication.slug, body="This has SLUR two in it")
    held = newest()
    assert held.state is CommentState.PENDING
    assert held.holds[0].detail == "Gender: suspect word SLUR two"
    post_comment(client, publication.slug, body="Nothing to see")
    assert newest().state is CommentState.APPROVED

    save(chief, "Gender")  # nothing ticked, no words: the topic's rule goes
    assert db.session.scalar(select(func.count()).select_from(TopicRule)) == 0
    post_comment(client, publication.slug, body="This has slur one")
    assert newest().state is CommentState.APPROVED


def test_only_admins_set_topic_rules(app: Flask, moderator: Moderator) -> None:
    make_publication(topics=["Youth"])
    staff = app.test_client()
    login(staff, "mod")
    assert staff.get("/moderation/topics").status_code == 403
    token = csrf_token(staff, "/moderation/")
    response = staff.post(
        "/moderation/topics",
        data={"csrf_token": token, "topic_id": str(topic_id("Youth")), "hold_all": "y"},
    )
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(TopicRule)) == 0


def test_an_unknown_topic_is_404(app: Flask, chief: FlaskClient) -> None:
    token = csrf_token(chief, "/moderation/topics")
    response = chief.post("/moderation/topics", data={"csrf_token": token, "topic_id": "999"})
    assert response.status_code == 404
