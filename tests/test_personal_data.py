"""A person's data on request: admins find every comment by an email address, export
them as JSON, erase them (text kept as a notice or deleted); nothing stays findable by
the address; the decision is recorded; every other role is refused."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text, cast, func, or_, select

from discussion.accounts import staff
from discussion.extensions import db
from discussion.mail import subscriptions
from discussion.models import (
    Comment,
    CommentState,
    Erasure,
    MailAddress,
    MailSubscription,
    Moderator,
    OutboxMail,
    Role,
)
from tests.helpers import PASSWORD, csrf_token, login, make_comment, make_publication

EMAIL = "Ann.Reader@Example.org"
PAGE = "/moderation/personal-data"


@pytest.fixture
def site(app: Flask, admin: Moderator) -> dict:
    """Ann's comments (one answered by Bob, one answered only by herself), Bob's, and
    Ann's mail wishes."""
    publication = make_publication(title="Budget")
    other = make_publication(title="Water")
    top = make_comment(
        publication, body=f"Write to me at {EMAIL.lower()}.", email=EMAIL, name="Ann"
    )
    bob = make_comment(
        publication, parent=top, body="Answering Ann.", email="bob@example.org", name="Bob"
    )
    own = make_comment(
        other, body="Mine.", email=EMAIL.lower(), name="Ann", state=CommentState.PENDING
    )
    own_reply = make_comment(other, parent=own, body="Me again.", email=EMAIL, name="Ann R.")
    key = app.config["SECRET_KEY"]
    address = MailAddress(address_hash=subscriptions.address_hash(EMAIL, key))
    db.session.add(address)
    db.session.flush()
    db.session.add(
        MailSubscription(
            address_id=address.id, comment_id=top.id, root_id=top.id, email=EMAIL, outcome=True
        )
    )
    db.session.add(OutboxMail(kind="outcome", recipient=EMAIL.lower(), payload={"comment": top.id}))
    db.session.commit()
    return {"top": top.id, "bob": bob.id, "own": own.id, "own_reply": own_reply.id}


def _find(client: FlaskClient, email: str = EMAIL):
    return client.post(PAGE, data={"email": email, "csrf_token": csrf_token(client, PAGE)})


def _erase(client: FlaskClient, mode: str, **extra: str):
    data = {"email": EMAIL, "mode": mode, "confirm": "y", "note": "Request 2026-17"}
    data.update(extra)
    data["csrf_token"] = csrf_token(client, PAGE)
    return client.post(PAGE + "/erase", data=data)


def findable(email: str) -> list[str]:
    """Every row of every table with a text column holding the address (any case)."""
    needle = f"%{email.lower()}%"
    hits = []
    for table in db.metadata.sorted_tables:
        columns = [
            c
            for c in table.columns
            if isinstance(c.type, String | Text) or c.type.__class__.__name__ == "JSON"
        ]
        if not columns:
            continue
        condition = or_(*(func.lower(cast(c, Text)).like(needle) for c in columns))
        count = db.session.scalar(select(func.count()).select_from(table).where(condition))
        if count:
            hits.append(f"{table.name}: {count}")
    return hits


def test_find_every_comment_by_an_address(client: FlaskClient, site: dict, admin) -> None:
    login(client, "chief")
    page = _find(client, EMAIL.upper()).get_data(as_text=True)
    assert "3 comments written with ANN.READER@EXAMPLE.ORG" in page
    assert "Answering Ann." not in page
    assert "Me again." in page and "Mine." in page


def test_a_bad_address_is_refused_and_kept(client: FlaskClient, site: dict, admin) -> None:
    login(client, "chief")
    response = _find(client, "not an address")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a whole email address" in page and 'value="not an address"' in page


def test_export_as_json(client: FlaskClient, site: dict, admin) -> None:
    login(client, "chief")
    response = client.post(
        PAGE + "/export", data={"email": EMAIL, "csrf_token": csrf_token(client, PAGE)}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert [c["text"] for c in data["comments"]] == [
        f"Write to me at {EMAIL.lower()}.",
        "Mine.",
        "Me again.",
    ]
    assert data["comments"][1]["state"] == "pending"
    assert data["comments"][0]["publication_title"] == "Budget"
    assert len(data["mail_subscriptions"]) == 1


@pytest.mark.parametrize("mode", ["redact", "delete"])
def test_erasure_leaves_nothing_findable_by_the_address(
    client: FlaskClient, site: dict, admin, mode: str
) -> None:
    login(client, "chief")
    assert findable(EMAIL)  # the fixture holds the address in comments, mail tables
    response = _erase(client, mode)
    assert response.status_code == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "Erased 3 comments" in page
    assert findable(EMAIL) == []
    db.session.expire_all()
    remaining = {c.id: c for c in db.session.scalars(select(Comment))}
    bob = remaining[site["bob"]]
    assert bob.body_text == "Answering Ann." and bob.parent_id == site["top"]  # kept, in place
    top = remaining[site["top"]]
    assert top.body_text == "Removed at the author's request."
    assert (top.name, top.email, top.ip_hash, top.ip_address) == ("Removed", None, None, None)
    if mode == "redact":
        assert remaining[site["own"]].body_text == "Removed at the author's request."
    else:
        assert site["own"] not in remaining and site["own_reply"] not in remaining
    for model in (MailSubscription, MailAddress, OutboxMail):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    erasure = db.session.scalar(select(Erasure))
    assert (erasure.mode, erasure.comments, erasure.note) == (mode, 3, "Request 2026-17")
    assert erasure.admin.username == "chief"
    assert "Request 2026-17" in page and "chief" in page
    assert "1 erasure for this address was recorded before" in _find(client).get_data(as_text=True)


def test_erasure_needs_the_box_ticked_and_a_mode(client: FlaskClient, site: dict, admin) -> None:
    login(client, "chief")
    response = _erase(client, "redact", confirm="")
    assert response.status_code == 400
    assert "Tick the box to confirm the erasure" in response.get_data(as_text=True)
    assert _erase(client, "shred").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0
    assert findable(EMAIL)


def test_forms_need_their_csrf_token(app: Flask, client: FlaskClient, site: dict, admin) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    login(client, "chief")
    response = client.post(PAGE + "/erase", data={"email": EMAIL, "mode": "delete", "confirm": "y"})
    assert response.status_code == 400
    assert findable(EMAIL)


@pytest.mark.parametrize("role", [None, Role.MODERATOR, Role.EDITOR])
@pytest.mark.parametrize(
    ("method", "url"),
    [("get", PAGE), ("post", PAGE), ("post", PAGE + "/export"), ("post", PAGE + "/erase")],
)
def test_only_admins(
    client: FlaskClient, site: dict, role: Role | None, method: str, url: str
) -> None:
    if role is not None:
        staff.create_moderator("someone", PASSWORD, role)
        db.session.commit()
        login(client, "someone")
    token = csrf_token(client, "/auth/login" if role is None else "/")  # sign-in, sign-out
    data = {"email": EMAIL, "mode": "delete", "confirm": "y", "csrf_token": token}
    response = getattr(client, method)(url, data=data if method == "post" else None)
    if role is None:
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    else:
        assert response.status_code == 403
    assert findable(EMAIL)
