"""Headers, cookies, hostile input, rate limits (memory and Redis) and privacy."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion import create_app
from discussion.extensions import db
from discussion.models import Comment, CommentState, utcnow
from discussion.moderation import settings
from tests.helpers import (
    USIP,
    csrf_token,
    login,
    make_comment,
    make_publication,
    needs_redis,
    post_comment,
    site_admin,
)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def test_every_response_carries_the_security_headers(seeded: Flask, client: FlaskClient) -> None:
    for url in [
        "/",
        "/publications/",
        f"/publications/{USIP}",
        "/nope",
        "/auth/login",
        "/static/css/site.css",
    ]:
        response = client.get(url)
        headers = response.headers
        response.close()
        csp = headers["Content-Security-Policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in headers["Permissions-Policy"]


@pytest.mark.config(TRUSTED_HOSTS=["news.example.org"], SITE_URL="https://news.example.org")
def test_a_forged_host_is_refused_when_the_hosts_are_listed(
    seeded: Flask, client: FlaskClient
) -> None:
    assert client.get("/", headers={"Host": "news.example.org"}).status_code == 200
    forged = client.get(f"/publications/{USIP}", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert "evil.example" not in forged.get_data(as_text=True)
    assert "Traceback" not in forged.get_data(as_text=True)


def test_templates_have_no_inline_scripts_or_styles() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        # Scripts come from files; the one inline kind allowed is a JSON-LD data block,
        # which browsers never run (and the CSP's script-src does not apply to).
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        assert all(tag == '<script type="application/ld+json">' for tag in inline), template
        assert "<style" not in text and " style=" not in text, template
        assert not re.search(r"\son[a-z]+=", text), template  # no inline event handlers


def test_session_cookie_flags_in_testing(seeded: Flask, client: FlaskClient) -> None:
    response = post_comment(client, USIP)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # testing runs over http


def test_session_cookies_follow_a_rotated_secret_key(seeded: Flask, client: FlaskClient) -> None:
    """The session's signer is made once, for the keys configured: a reader's cookie
    signed with the old key still holds after a rotation that keeps it as a fallback,
    and no longer once the fallback is gone."""
    cookies = seeded.session_interface
    assert cookies.get_signing_serializer(seeded) is cookies.get_signing_serializer(seeded)
    post_comment(client, USIP, body="Signed with the first key.")
    page = f"/publications/{USIP}"
    assert "Signed with the first key." in client.get(page).get_data(as_text=True)

    old = seeded.secret_key
    seeded.secret_key = "a-rotated-secret-key-for-this-test"
    seeded.config["SECRET_KEY_FALLBACKS"] = [old]
    assert "Signed with the first key." in client.get(page).get_data(as_text=True)

    seeded.config["SECRET_KEY_FALLBACKS"] = []
    response = client.get(page)
    assert response.status_code == 200
    assert "Signed with the first key." not in response.get_data(as_text=True)


def test_cookies_are_secure_by_default_outside_debug_and_testing(database_url: str) -> None:
    app = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    with app.test_client() as client:
        response = client.get("/nope")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        response.close()
    off = create_app(
        {"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": database_url, "SECURE_COOKIES": False}
    )
    assert off.config["SESSION_COOKIE_SECURE"] is False
    response = off.test_client().get("/nope")
    assert "Strict-Transport-Security" not in response.headers
    response.close()


HOSTILE_TEXT = [
    "emoji 🕊️👩🏽‍💻 flags 🇺🇸🇮🇷",
    "right-to-left: مرحبا بالعالم ‏שלום‎",
    "combining: e\u0301 a\u0308 Z\u0335\u0321\u0322",
    "zero-width: a\u200bb\u200cc\u200dd\ufeffe",
    "bidi override: \u202egnp.exe",
    "<svg onload=alert(1)> & \"quotes\" 'single'",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_any_unicode_is_stored_exactly_and_shown_escaped(
    app: Flask, client: FlaskClient, text: str
) -> None:
    settings.save({"premoderation": False}, site_admin())
    db.session.commit()
    settings.forget()
    publication = make_publication()
    response = post_comment(client, publication.slug, name=text[:80], body=text)
    assert response.status_code == 303
    comment = db.session.scalar(db.select(Comment))
    assert comment.body_text == text and comment.name == text[:80].strip()
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "<svg" not in page
    if "<svg" not in text:
        assert text in page


@pytest.mark.parametrize(
    "body",
    [
        b"name=A&body=%ff%fe&csrf_token=x",  # invalid UTF-8, percent-encoded
        b"name=\xff\xfe&body=hi",  # raw invalid bytes
        b"&".join(b"f%d=1" % i for i in range(500)),  # too many fields
    ],
)
def test_malformed_form_bodies_answer_400(seeded: Flask, client: FlaskClient, body: bytes) -> None:
    response = client.post(
        f"/publications/{USIP}/comments",
        data=body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Error 400" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0


def test_a_multipart_comment_also_works(seeded: Flask, client: FlaskClient) -> None:
    token = csrf_token(client, f"/publications/{USIP}")
    response = client.post(
        f"/publications/{USIP}/comments",
        data={"name": "A", "body": "via multipart", "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_COMMENTS="2/minute")
def test_a_rate_limited_reader_keeps_their_text(seeded: Flask, client: FlaskClient) -> None:
    assert post_comment(client, USIP, body="one").status_code == 303
    assert post_comment(client, USIP, body="two").status_code == 303
    response = post_comment(client, USIP, body="three, carefully typed 🕊️")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "too many comments from your address" in page
    assert "three, carefully typed 🕊️</textarea>" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 2


@needs_redis
def test_redis_storage_shares_one_limit_between_processes(database_url: str, app: Flask) -> None:
    import redis

    make_publication(slug="shared")
    # One prefix for the whole run: the process-wide Limiter keeps the first prefix it saw.
    store = redis.Redis(host="127.0.0.1", port=6379)
    for key in store.scan_iter("LIMITS:LIMITER/discussion-tests/*"):
        store.delete(key)
    store.close()
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
        "RATELIMIT_KEY_PREFIX": "discussion-tests",
        "RATELIMIT_COMMENTS": "3/minute",
    }
    first, second = create_app(config), create_app(config)  # two "processes"
    codes = [
        post_comment(a.test_client(), "shared").status_code for a in (first, second, first, second)
    ]
    for other in (first, second):
        with other.app_context():
            db.engine.dispose()
    assert codes == [303, 303, 303, 429]


def test_emails_never_appear_in_public_pages(app: Flask, client: FlaskClient, moderator) -> None:
    publication = make_publication()
    root = make_comment(publication, email="secret.one@example.org")
    make_comment(publication, parent=root, email="secret.two@example.org", minutes=1)
    post_comment(client, publication.slug, email="secret.three@example.org")
    reader_pages = [
        "/",
        "/publications/",
        f"/publications/{publication.slug}",
        f"/publications/{publication.slug}/comments/{root.id}/report",
    ]
    status = re.search(
        r'href="http://localhost(/comments/status/[^"]+)"',
        client.get(f"/publications/{publication.slug}").get_data(as_text=True),
    )
    reader_pages.append(status.group(1))
    for url in reader_pages:
        body = client.get(url).get_data(as_text=True)
        assert "@example.org" not in body, url
    login(client, "mod")  # moderators do see them
    assert "secret.three@example.org" in client.get("/moderation/").get_data(as_text=True)


def test_addresses_are_kept_as_keyed_hashes_and_raw_data_is_erased(
    app: Flask, client: FlaskClient, runner
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="fresh")
    comment = db.session.scalar(db.select(Comment))
    assert comment.ip_address == "127.0.0.1" and len(comment.ip_hash) == 64
    assert "127.0.0.1" not in comment.ip_hash
    old = make_comment(publication, state=CommentState.PENDING)
    old.ip_address, old.user_agent = "10.1.2.3", "Browser/1.0"
    old.created_at = utcnow() - timedelta(days=31)
    db.session.commit()
    result = runner.invoke(args=["erase-personal-data"])
    assert "from 1 comments older than 30 days" in result.output
    db.session.expire_all()
    assert (old.ip_address, old.user_agent) == (None, None)
    assert db.session.get(Comment, comment.id).ip_address == "127.0.0.1"
