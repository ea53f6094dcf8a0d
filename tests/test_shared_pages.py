"""First-time readers share one article page: no cookie, a token for all, cross-site posts
refused, and personal pages never shared."""

from __future__ import annotations

import html
import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion import create_app, pagecache, pagetoken
from discussion.extensions import db
from discussion.models import Comment, CommentState
from tests.helpers import csrf_token, login, make_comment, make_publication, queue_token

TYPED = {"name": "Zoë", "email": "", "body": "Line one\n\u0644\u0627 **two** 👍", "website": ""}


def _form_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _stored() -> list[Comment]:
    return list(db.session.scalars(db.select(Comment)))


def test_a_first_time_reader_gets_a_shareable_page_and_no_cookie(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    response = client.get(f"/publications/{publication.slug}")
    assert response.status_code == 200
    assert response.headers.getlist("Set-Cookie") == []
    control = response.cache_control
    assert control.public and control.s_maxage == app.config["SHARED_PAGE_SECONDS"]
    assert control.max_age == 0  # browsers revalidate (ETag) before reuse
    expires = int(response.headers["X-Accel-Expires"].removeprefix("@"))
    assert int(time.time()) - 1 <= expires <= int(time.time())  # nginx: to this second's end
    assert _form_token(response.get_data(as_text=True)) == _token(app)


def _token(app: Flask) -> str:
    with app.test_request_context():
        return pagetoken.current()


def test_the_shared_token_posts_from_a_client_that_never_had_a_session(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    token = _form_token(client.get(f"/publications/{publication.slug}").get_data(as_text=True))
    other = app.test_client()  # another reader (or the same page from a shared cache)
    response = other.post(
        f"/publications/{publication.slug}/comments", data={**TYPED, "csrf_token": token}
    )
    assert response.status_code == 303
    [comment] = _stored()
    assert comment.body_text == TYPED["body"] and comment.state is CommentState.PENDING


@pytest.mark.parametrize("kind", ["missing", "forged", "other purpose", "expired"])
def test_a_bad_or_old_form_token_is_refused_and_the_text_kept(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    token = _form_token(client.get(url).get_data(as_text=True))
    data = dict(TYPED)
    if kind == "forged":
        data["csrf_token"] = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif kind == "other purpose":  # a session token of another form is not this form's
        data["csrf_token"] = csrf_token(app.test_client(), "/auth/login")
    elif kind == "expired":
        data["csrf_token"] = token
        later = time.time() + app.config["COMMENT_FORM_TOKEN_MAX_AGE"] + 2 * 3600
        monkeypatch.setattr(pagetoken.time, "time", lambda: later)
    response = client.post(f"{url}/comments", data=data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "the form had expired or came from another site" in page
    assert html.escape(TYPED["body"], quote=False) in page and "Zoë" in page
    assert _form_token(page) == _token(app)  # a fresh one, to send it again
    assert _stored() == []


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is another site's page
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
    ],
)
def test_a_post_another_site_makes_a_browser_send_is_refused_keeping_the_text(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    token = _form_token(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/comments", data={**TYPED, "csrf_token": token}, headers=headers)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "came from another site" in page and html.escape(TYPED["body"], quote=False) in page
    assert _stored() == []


@pytest.mark.parametrize(
    "headers", [{}, {"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://localhost"}]
)
def test_posts_from_the_site_itself_or_from_no_browser_are_accepted(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    token = _form_token(client.get(url).get_data(as_text=True))
    response = client.post(f"{url}/comments", data={**TYPED, "csrf_token": token}, headers=headers)
    assert response.status_code == 303
    assert len(_stored()) == 1


def test_a_moderator_action_from_another_site_changes_nothing(
    app: Flask, client: FlaskClient, moderator
) -> None:
    comment = make_comment(make_publication(), state=CommentState.PENDING)
    login(client, "mod")
    response = client.post(
        f"/moderation/comments/{comment.id}/approve",
        data={"csrf_token": queue_token(client)},
        headers={"Origin": "https://attacker.example"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).state is CommentState.PENDING


def test_a_readers_own_page_is_never_shared_nor_given_to_others(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    stranger = app.test_client()
    assert "Only mine" not in stranger.get(url).get_data(as_text=True)  # now in the page cache
    token = _form_token(client.get(url).get_data(as_text=True))
    client.post(f"{url}/comments", data={**TYPED, "body": "Only mine", "csrf_token": token})
    own = client.get(url)
    assert "Only mine" in own.get_data(as_text=True)  # not the shared copy
    assert own.cache_control.private and own.cache_control.no_cache
    assert not own.cache_control.public
    for _ in range(2):  # neither from the page cache nor rendered afresh
        assert "Only mine" not in stranger.get(url).get_data(as_text=True)


def test_the_page_cache_answers_without_the_app_and_honours_etags(
    app: Flask, client: FlaskClient, count_queries
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    first = client.get(url)
    count_queries.count = 0
    again = client.get(url)
    head = client.head(url)
    current = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert count_queries.count == 0
    assert again.get_data() == first.get_data() and again.headers == first.headers
    assert head.status_code == 200 and head.get_data() == b""
    assert current.status_code == 304 and current.get_data() == b""
    assert current.headers["ETag"] == first.headers["ETag"]


def test_another_process_shows_an_approval_within_the_shared_seconds(
    app: Flask, client: FlaskClient, moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = create_app({**app.config})  # a second server process, with its own caches
    publication = make_publication()
    comment = make_comment(publication, state=CommentState.PENDING, body="Fresh insight")
    url = f"/publications/{publication.slug}"
    assert "Fresh insight" not in other.test_client().get(url).get_data(as_text=True)
    login(client, "mod")
    client.post(
        f"/moderation/comments/{comment.id}/approve", data={"csrf_token": queue_token(client)}
    )
    assert "Fresh insight" in app.test_client().get(url).get_data(as_text=True)  # this process
    later = time.time() + app.config["SHARED_PAGE_SECONDS"] + 0.01
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    assert "Fresh insight" in other.test_client().get(url).get_data(as_text=True)
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("status", "headers", "seconds"),
    [
        ("200 OK", [("Cache-Control", "public, max-age=0, s-maxage=5")], 5),
        ("200 OK", [("Cache-Control", "private, no-cache")], 0),
        ("200 OK", [("Cache-Control", "public, s-maxage=5, no-store")], 0),
        ("200 OK", [("Cache-Control", "public, max-age=60")], 0),
        ("200 OK", [], 0),
        ("200 OK", [("Cache-Control", "public, s-maxage=5"), ("Set-Cookie", "session=x")], 0),
        ("404 NOT FOUND", [("Cache-Control", "public, s-maxage=5")], 0),
    ],
)
def test_only_responses_marked_for_shared_caches_are_kept(
    status: str, headers: list[tuple[str, str]], seconds: int
) -> None:
    assert pagecache._shared_seconds(status, headers) == seconds
