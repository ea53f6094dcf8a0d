"""The moderation rules as a reader meets them, and as an admin sets them."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import Comment, CommentState, Decision, Hold
from discussion.moderation import settings
from tests.helpers import (
    csrf_token,
    login,
    make_comment,
    make_publication,
    post_comment,
    site_admin,
)

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)


def last() -> Comment:
    return db.session.scalar(db.select(Comment).order_by(Comment.id.desc()).limit(1))


def rules_of(comment: Comment) -> list[str]:
    return [
        h.rule
        for h in db.session.scalars(
            db.select(Hold).where(Hold.comment_id == comment.id).order_by(Hold.id)
        )
    ]


def configure(**values) -> None:
    settings.save(values, site_admin())
    db.session.commit()
    settings.forget()


def test_pre_moderation_holds_everything_by_default(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Hello")
    assert last().state is P and rules_of(last()) == ["premoderation"]


def test_without_pre_moderation_a_clean_comment_is_published(
    app: Flask, client: FlaskClient
) -> None:
    configure(premoderation=False)
    publication = make_publication()
    response = post_comment(client, publication.slug, body="Hello")
    comment = last()
    assert comment.state is A
    assert response.headers["Location"].endswith(f"#comment-{comment.id}")
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Your comment is published" in page and f'id="comment-{comment.id}"' in page
    [decision] = db.session.scalars(db.select(Decision)).all()
    assert decision.moderator_id is None and decision.to_state is CommentState.APPROVED


@pytest.mark.parametrize(
    ("values", "fields", "state", "held_by"),
    [
        ({"banned_words": ["scam"]}, {"body": "What a SCAM!"}, R, ["banned_words"]),
        ({"suspect_words": ["café"]}, {"body": "Meet at the CAFE"}, P, ["suspect_words"]),
        ({"suspect_words": ["cafe"]}, {"body": "the cafeteria"}, A, []),
        ({"max_links": 2}, {"body": "http://a.test http://b.test http://c.test"}, P, ["links"]),
        ({"max_links": 2}, {"body": "http://a.test http://b.test"}, A, []),
        (
            {"max_links": 0, "trusted_domains": ["usip.org"]},
            {"body": "See https://www.usip.org/x and https://news.usip.org/y"},
            A,
            [],
        ),
        ({}, {"website": "http://bot.example"}, S, ["honeypot"]),
    ],
)
def test_rules_decide_what_happens_to_a_comment(
    app: Flask, client: FlaskClient, values, fields, state, held_by
) -> None:
    configure(premoderation=False, **values)
    publication = make_publication()
    response = post_comment(client, publication.slug, **fields)
    assert response.status_code == 303
    assert last().state is state
    assert rules_of(last()) == held_by


def test_banned_and_spam_comments_look_pending_to_their_poster(
    app: Flask, client: FlaskClient
) -> None:
    configure(premoderation=False, banned_words=["scam"])
    publication = make_publication()
    post_comment(client, publication.slug, body="scam")
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "awaits moderation" in page


def test_the_same_text_twice_in_a_day_is_held_as_a_duplicate(
    app: Flask, client: FlaskClient
) -> None:
    configure(premoderation=False)
    publication = make_publication()
    post_comment(client, publication.slug, body="Same words", email="a@example.org")
    assert last().state is A
    other = app.test_client()  # same address, another browser
    post_comment(other, publication.slug, body="Same words", name="Someone else")
    assert last().state is P and rules_of(last()) == ["duplicate"]
    post_comment(other, publication.slug, body="Different words")
    assert last().state is A


def test_known_authors_skip_pre_moderation_when_enabled(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    make_comment(publication, email="known@example.org")
    post_comment(client, publication.slug, email="known@example.org")
    assert last().state is P
    # Any address that has an approved comment (tests/test_mail_readers.py: only
    # confirmed ones, the default).
    configure(auto_approve_known_authors=True, known_authors_confirmed_only=False)
    post_comment(client, publication.slug, email="known@example.org", body="Again")
    assert last().state is A
    post_comment(client, publication.slug, email="new@example.org", body="First time")
    assert last().state is P
    configure(suspect_words=["again"])
    post_comment(client, publication.slug, email="known@example.org", body="Again!")
    assert last().state is P and rules_of(last()) == ["suspect_words"]


@pytest.mark.parametrize(
    ("site", "own", "state"),
    [(True, False, A), (False, True, P), (True, None, P), (False, None, A)],
)
def test_per_publication_pre_moderation_overrides_the_site(
    app: Flask, client: FlaskClient, site: bool, own, state
) -> None:
    configure(premoderation=site)
    publication = make_publication()
    publication.premoderation = own
    db.session.commit()
    post_comment(client, publication.slug)
    assert last().state is state


def test_comments_close_after_the_configured_days(app: Flask, client: FlaskClient) -> None:
    configure(close_after_days=30)
    old = make_publication(published=(date.today() - timedelta(days=30)).isoformat())
    fresh = make_publication(published=(date.today() - timedelta(days=29)).isoformat())
    page = client.get(f"/publications/{old.slug}").get_data(as_text=True)
    assert "Comments are closed" in page
    response = post_comment(client, fresh.slug)
    assert response.status_code == 303
    token = csrf_token(client, f"/publications/{fresh.slug}")
    response = client.post(
        f"/publications/{old.slug}/comments",
        data={"name": "A", "body": "Kept text", "csrf_token": token},
    )
    assert response.status_code == 403 and "Kept text" in response.get_data(as_text=True)


def test_old_publications_hold_comments_instead(app: Flask, client: FlaskClient) -> None:
    configure(premoderation=False, moderate_after_days=10)
    old = make_publication(published=(date.today() - timedelta(days=11)).isoformat())
    post_comment(client, old.slug)
    assert last().state is P and rules_of(last()) == ["moderate_after"]


def test_admins_edit_the_rules_in_the_ui(app: Flask, client: FlaskClient, admin) -> None:
    login(client, "chief")
    token = csrf_token(client, "/moderation/rules")
    response = client.post(
        "/moderation/rules",
        data={
            "csrf_token": token,
            "max_links": "5",
            "reports_to_hide": "2",
            "suspect_words": "refund\nBitcoin, refund",
            "banned_words": "",
            "trusted_domains": "",
            "close_after_days": "",
            "moderate_after_days": "14",
        },
    )
    assert response.status_code == 303
    values = settings.current()
    assert values["premoderation"] is False  # unchecked box
    assert values["suspect_words"] == ["refund", "Bitcoin"]
    assert (values["max_links"], values["reports_to_hide"], values["moderate_after_days"]) == (
        5,
        2,
        14,
    )
    page = client.get("/moderation/rules").get_data(as_text=True)
    assert "refund\nBitcoin</textarea>" in page


@pytest.mark.parametrize("field", ["max_links", "reports_to_hide", "close_after_days"])
def test_invalid_rule_settings_are_refused_with_field_errors(
    app: Flask, client: FlaskClient, admin, field
) -> None:
    login(client, "chief")
    data = {
        "csrf_token": csrf_token(client, "/moderation/rules"),
        "max_links": "2",
        "reports_to_hide": "3",
        field: "-4",
    }
    response = client.post("/moderation/rules", data=data)
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert settings.current()["max_links"] == 2


def test_rule_figures_show_how_noisy_each_rule_is(app: Flask, client: FlaskClient, admin) -> None:
    publication = make_publication()
    for state in (A, A, R, P):
        comment = make_comment(publication, state=state)
        comment.holds = [Hold(rule="links", detail="3 links", matches=[])]
    db.session.commit()
    login(client, "chief")
    page = client.get("/moderation/rules").get_data(as_text=True)
    row = re.search(r"<th scope=\"row\">Too many links</th>(.*?)</tr>", page, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row) == ["4", "2", "1", "50%"]


def test_admins_close_comments_per_publication(app: Flask, client: FlaskClient, admin) -> None:
    publication = make_publication()
    login(client, "chief")
    token = csrf_token(client, "/moderation/publications")
    response = client.post(
        "/moderation/publications",
        data={"csrf_token": token, "publication_id": str(publication.id), "premoderation": "off"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert publication.comments_open is False and publication.premoderation is False
    assert (
        client.post(
            "/moderation/publications", data={"csrf_token": token, "publication_id": "99999"}
        ).status_code
        == 404
    )


def test_admins_manage_accounts(app: Flask, client: FlaskClient, admin, moderator) -> None:
    login(client, "chief")
    token = csrf_token(client, "/moderation/accounts")
    response = client.post(
        "/moderation/accounts",
        data={
            "csrf_token": token,
            "username": "newbie",
            "password": "long enough pass",
            "role": "moderator",
        },
    )
    assert response.status_code == 303
    response = client.post(
        "/moderation/accounts",
        data={
            "csrf_token": token,
            "username": "newbie",
            "password": "long enough pass",
            "role": "moderator",
        },
    )
    assert response.status_code == 400 and "taken" in response.get_data(as_text=True)
    client.post(f"/moderation/accounts/{moderator.id}/deactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert moderator.active is False
    client.post(f"/moderation/accounts/{admin.id}/deactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert admin.active is True  # not yourself


def test_only_the_configured_site_domain_is_trusted_never_the_host_header(
    app: Flask, client: FlaskClient
) -> None:
    configure(premoderation=False, max_links=0)
    publication = make_publication()
    app.config["SITE_DOMAIN"] = "news.example.org"
    post_comment(client, publication.slug, body="See https://news.example.org/x")
    assert last().state is A
    spoofed = app.test_client()
    url, base = f"/publications/{publication.slug}", "http://spam.example"
    page = spoofed.get(url, base_url=base).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = spoofed.post(
        f"{url}/comments",
        base_url=base,
        data={"name": "A", "body": "Buy at http://spam.example/", "csrf_token": token},
    )
    assert response.status_code == 303
    assert last().state is P and rules_of(last()) == ["links"]
