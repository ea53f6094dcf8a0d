"""Moderator accounts, signing in and out, and who may reach what."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.accounts import staff
from discussion.extensions import db
from discussion.models import CommentState, Moderator, Role
from tests.helpers import PASSWORD, csrf_token, login, make_comment, make_publication


def test_create_moderator_with_a_password(app: Flask, runner) -> None:
    result = runner.invoke(args=["create-moderator", "ana", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    ana = staff.find("ana")
    assert ana is not None and ana.role is Role.MODERATOR
    assert ana.password_hash.startswith("scrypt:") and PASSWORD not in ana.password_hash


def test_create_moderator_prompts_hidden_and_confirmed(app: Flask, runner) -> None:
    result = runner.invoke(
        args=["create-moderator", "ben", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output  # hidden input is not echoed
    assert staff.find("ben").role is Role.ADMIN


@pytest.mark.parametrize(
    ("args", "message"),
    [(["mod", "--password", "short"], "at least 10"), (["mod", "--password", PASSWORD], "taken")],
)
def test_create_moderator_refusals(app: Flask, runner, moderator, args, message) -> None:
    result = runner.invoke(args=["create-moderator", *args])
    assert result.exit_code != 0 and message in result.output


def test_sign_in_and_out(app: Flask, client: FlaskClient, moderator: Moderator) -> None:
    response = login(client, "mod")
    assert response.status_code == 303 and response.headers["Location"] == "/moderation/"
    assert client.get("/moderation/").status_code == 200
    assert client.get("/auth/logout").status_code == 405  # never by GET
    token = csrf_token(client, "/moderation/")
    assert client.post("/auth/logout").status_code == 400  # no CSRF token
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/moderation/").status_code == 302


def test_wrong_password_is_refused_clearly(app: Flask, client: FlaskClient, moderator) -> None:
    response = login(client, "mod", "wrong password!")
    assert response.status_code == 401
    assert "do not match an account" in response.get_data(as_text=True)
    response = login(client, "nobody", PASSWORD)
    assert response.status_code == 401


def test_deactivated_accounts_cannot_sign_in(app: Flask, client: FlaskClient, moderator) -> None:
    moderator.active = False
    db.session.commit()
    assert login(client, "mod").status_code == 401


@pytest.mark.parametrize(
    ("next_url", "lands"),
    [
        ("/moderation/?status=spam", "/moderation/?status=spam"),
        ("https://evil.example/", "/moderation/"),
        ("//evil.example/", "/moderation/"),
        ("/\\evil.example", "/moderation/"),
        ("javascript:alert(1)", "/moderation/"),
    ],
)
def test_next_redirects_only_within_the_site(
    app: Flask, client: FlaskClient, moderator, next_url: str, lands: str
) -> None:
    token = csrf_token(client, "/auth/login")
    response = client.post(
        "/auth/login",
        data={"username": "mod", "password": PASSWORD, "csrf_token": token, "next": next_url},
    )
    assert response.headers["Location"] == lands


def test_anonymous_users_are_sent_to_sign_in(app: Flask, client: FlaskClient) -> None:
    for url in [
        "/moderation/",
        "/moderation/rules",
        "/moderation/accounts",
        "/moderation/publications",
    ]:
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?next=")
    comment = make_comment(make_publication(), state=CommentState.PENDING)
    response = client.post(f"/moderation/comments/{comment.id}/approve")
    assert (response.status_code, response.headers["Location"]) == (303, "/moderation/")
    assert client.get("/moderation/").headers["Location"].startswith("/auth/login?next=")
    db.session.refresh(comment)
    assert comment.state is CommentState.PENDING


@pytest.mark.parametrize(
    "url", ["/moderation/rules", "/moderation/accounts", "/moderation/publications"]
)
def test_moderators_cannot_reach_admin_pages(
    app: Flask, client: FlaskClient, moderator, admin, url: str
) -> None:
    login(client, "mod")
    assert client.get(url).status_code == 403
    token = csrf_token(client, "/moderation/")
    assert client.post(url, data={"csrf_token": token}).status_code == 403
    other = app.test_client()
    login(other, "chief")
    assert other.get(url).status_code == 200


@pytest.mark.config(
    RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_ACCOUNT="3/minute", RATELIMIT_LOGIN_ADDRESS="100/minute"
)
def test_repeated_failures_for_an_account_are_refused_and_logged(
    app: Flask, client: FlaskClient, moderator, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger=app.logger.name)
    for _ in range(3):
        assert login(client, "mod", "wrong password!").status_code == 401
    response = login(client, "mod", PASSWORD)  # even the right password, for now
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.get_data(as_text=True)
    assert any("failed sign-in for 'mod'" in r.getMessage() for r in caplog.records)
    assert any("refused" in r.getMessage() for r in caplog.records)
    # Another account from the same address is not locked by this one.
    staff.create_moderator("other", PASSWORD)
    db.session.commit()
    assert login(app.test_client(), "other").status_code == 303


@pytest.mark.config(
    RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_ACCOUNT="100/minute", RATELIMIT_LOGIN_ADDRESS="3/minute"
)
def test_repeated_failures_from_an_address_are_refused(
    app: Flask, client: FlaskClient, moderator
) -> None:
    for name in ("a", "b", "c"):
        login(client, name, "wrong password!")
    assert login(client, "mod").status_code == 429


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_LOGIN_ACCOUNT="2/minute")
def test_successful_sign_ins_do_not_count(app: Flask, moderator) -> None:
    for _ in range(4):
        assert login(app.test_client(), "mod").status_code == 303


def test_control_characters_in_the_username_are_a_field_error(
    app: Flask, client: FlaskClient, moderator
) -> None:
    response = login(client, "mo\x00d")
    assert response.status_code == 400
    assert "invisible control characters" in response.get_data(as_text=True)
