"""Staff API tokens (made once, stored hashed, scoped, revocable, last use) and the
moderation API they open, guarded as the screens are."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.accounts import staff
from discussion.api import tokens
from discussion.extensions import db
from discussion.models import ApiToken, CommentState, Decision, Hold, Role, TokenScope
from tests.helpers import PASSWORD, csrf_token, login, make_comment, make_publication


def person(name: str, role: Role = Role.MODERATOR):  # type: ignore[no-untyped-def]
    made = staff.create_moderator(name, PASSWORD, role)
    db.session.commit()
    return made


def token_for(owner, scope: TokenScope = TokenScope.DECIDE) -> str:  # type: ignore[no-untyped-def]
    secret = tokens.create(owner, owner, name="Tool", scope=scope).secret
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def decide(client: FlaskClient, comment_id: int, secret: str, **fields: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/moderation/comments/{comment_id}/decisions", json=fields, headers=bearer(secret)
    )


def test_a_token_is_shown_once_and_stored_only_as_a_hash(app: Flask, client) -> None:
    mo = person("mo")
    login(client, "mo")
    url = f"/moderation/accounts/{mo.id}/tokens"
    page = client.post(
        url,
        data={"name": "Newsletter desk", "scope": "read", "csrf_token": csrf_token(client, url)},
    )
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-token"[^>]*value="([^"]+)"', page.get_data(as_text=True))[1]
    [stored] = db.session.scalars(db.select(ApiToken)).all()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.token_hash, stored.prefix, stored.name}
    assert stored.scope is TokenScope.READ and stored.last_used_at is None
    again = client.get(url).get_data(as_text=True)
    assert secret not in again and "Newsletter desk" in again and "Never" in again
    assert client.get("/api/v1/moderation/queue", headers=bearer(secret)).status_code == 200
    db.session.refresh(stored)
    assert stored.last_used_at is not None
    assert stored.prefix in client.get(url).get_data(as_text=True)


def test_a_revoked_token_stops_working(app: Flask, client) -> None:
    mo = person("mo")
    secret = token_for(mo)
    [token] = db.session.scalars(db.select(ApiToken)).all()
    login(client, "mo")
    url = f"/moderation/accounts/{mo.id}/tokens"
    revoked = client.post(f"{url}/{token.id}/revoke", data={"csrf_token": csrf_token(client, url)})
    assert revoked.status_code == 303
    response = client.get("/api/v1/moderation/queue", headers=bearer(secret))
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_only_the_person_or_an_admin_manages_tokens(app: Flask, client) -> None:
    mo, other = person("mo"), person("other")
    person("boss", Role.ADMIN)
    token_for(other)
    [token] = db.session.scalars(db.select(ApiToken)).all()
    assert client.get(f"/moderation/accounts/{mo.id}/tokens").status_code == 302  # sign in
    login(client, "mo")
    assert client.get(f"/moderation/accounts/{other.id}/tokens").status_code == 403
    url = f"/moderation/accounts/{mo.id}/tokens"
    refused = client.post(
        f"/moderation/accounts/{other.id}/tokens/{token.id}/revoke",
        data={"csrf_token": csrf_token(client, url)},
    )
    assert refused.status_code == 403
    assert db.session.get(ApiToken, token.id).revoked_at is None
    admin = FlaskClient(app, use_cookies=True)
    login(admin, "boss")
    assert admin.get(f"/moderation/accounts/{other.id}/tokens").status_code == 200
    with pytest.raises(tokens.TokenError):
        tokens.create(other, mo, name="x", scope=TokenScope.READ)


def test_the_queue_lists_held_comments_with_their_reasons(app: Flask, client) -> None:
    p = make_publication()
    held = make_comment(p, state=CommentState.PENDING, email="e@example.org", body="buy now")
    db.session.add(Hold(comment_id=held.id, rule="suspect_words", detail="Suspect word: buy"))
    make_comment(p, minutes=1)
    db.session.commit()
    secret = token_for(person("mo"), TokenScope.READ)
    body = client.get("/api/v1/moderation/queue", headers=bearer(secret)).json
    [item] = body["items"]
    assert item["id"] == held.id and item["email"] == "e@example.org"
    assert item["holds"] == [{"rule": "suspect_words", "detail": "Suspect word: buy"}]
    assert set(item["actions"]) == {"approve", "reject", "spam"}
    assert body["counts"]["pending"] == 1 and body["counts"]["approved"] == 1
    approved = client.get("/api/v1/moderation/queue?status=approved", headers=bearer(secret))
    assert len(approved.json["items"]) == 1
    searched = client.get("/api/v1/moderation/queue?q=buy&status=all", headers=bearer(secret))
    assert [i["id"] for i in searched.json["items"]] == [held.id]
    assert searched.json["counts"]["pending"] == 1 and searched.json["counts"]["all"] == 1


def test_decisions_are_recorded_as_on_the_screens(app: Flask, client) -> None:
    p = make_publication()
    c = make_comment(p, state=CommentState.PENDING)
    mo = person("mo")
    secret = token_for(mo)
    answer = decide(client, c.id, secret, action="reject", reason="off-topic", note="Not here")
    assert answer.status_code == 200, answer.json
    assert answer.json["to_state"] == "rejected" and answer.json["moderator"] == "mo"
    db.session.refresh(c)
    assert c.state is CommentState.REJECTED
    decision = db.session.scalar(db.select(Decision).where(Decision.comment_id == c.id))
    assert decision.reason == "off-topic" and decision.moderator_id == mo.id
    assert decide(client, c.id, secret, action="restore").json["to_state"] == "pending"
    assert decide(client, c.id, secret, action="spam").json["to_state"] == "spam"
    assert decide(client, c.id, secret, action="restore").status_code == 200
    assert decide(client, c.id, secret, action="approve").json["to_state"] == "approved"
    public = client.get(f"/api/v1/publications/{p.slug}/comments").json
    assert [i["id"] for i in public["items"]] == [c.id]


def test_a_stale_or_impossible_decision_is_a_conflict(app: Flask, client) -> None:
    p = make_publication()
    c = make_comment(p, state=CommentState.PENDING)
    secret = token_for(person("mo"))
    assert decide(client, c.id, secret, action="approve").status_code == 200
    stale = decide(client, c.id, secret, action="reject", seen_state="pending")
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert decide(client, c.id, secret, action="restore").status_code == 409
    assert decide(client, 999999, secret, action="approve").status_code == 404
    assert decide(client, 2**40, secret, action="approve").status_code == 404  # beyond any id
    assert decide(client, c.id, secret, action="promote").status_code == 422
    assert decide(client, c.id, secret, action="reject", reason="rude").status_code == 422
    nul = decide(client, c.id, secret, action="reject", note="a\x00b")
    assert nul.status_code == 422 and nul.json["errors"][0]["field"] == "note"
    db.session.refresh(c)
    assert c.state is CommentState.APPROVED


def test_each_wrong_role_and_scope_is_refused(app: Flask, client) -> None:
    p = make_publication()
    c = make_comment(p, state=CommentState.PENDING)
    editor, reader = person("ed", Role.EDITOR), person("ro")
    inactive = person("gone")
    editor_token, read_token = token_for(editor), token_for(reader, TokenScope.READ)
    inactive_token = token_for(inactive)
    inactive.active = False
    db.session.commit()
    queue = "/api/v1/moderation/queue"
    assert client.get(queue).status_code == 401  # anonymous
    assert client.get(queue, headers={"Authorization": "Bearer dsc_forged"}).status_code == 401
    assert client.get(queue, headers={"Authorization": "Basic bW86eA=="}).status_code == 401
    assert client.get(queue, headers=bearer(editor_token)).status_code == 403
    assert client.get(queue, headers=bearer(inactive_token)).status_code == 401
    assert client.get(queue, headers=bearer(read_token)).status_code == 200
    assert decide(client, c.id, read_token, action="approve").status_code == 403
    assert decide(client, c.id, editor_token, action="approve").status_code == 403
    assert (
        client.post(
            f"/api/v1/moderation/comments/{c.id}/decisions", json={"action": "approve"}
        ).status_code
        == 401
    )
    db.session.refresh(c)
    assert c.state is CommentState.PENDING
    admin_token = token_for(person("boss", Role.ADMIN))
    assert decide(client, c.id, admin_token, action="approve").status_code == 200
    # a signed-in moderator's session cookie does not open the API: tokens only
    person("mo")
    login(client, "mo")
    assert client.get(queue).status_code == 401
