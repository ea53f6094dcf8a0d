"""First-time readers share one article page: no cookie, a token for all, cross-site posts
refused, and personal pages never shared."""

from __future__ import annotations

import html
import http.server
import json
import queue
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from discussion import create_app
from discussion.extensions import db
from discussion.models import Comment, CommentState, PublicationState
from discussion.publications import catalog, refresh, views
from discussion.web import formtoken, pagecache
from tests.helpers import (
    csrf_token,
    login,
    make_comment,
    make_publication,
    needs_redis,
    queue_token,
)

TYPED = {"name": "Zoë", "email": "", "body": "Line one\n\u0644\u0627 **two** 👍", "website": ""}


def _form_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def _post_typed(client: FlaskClient, **request: Any) -> TestResponse:
    """Post TYPED with the token from a new publication's page (``request``: headers,
    base_url)."""
    url = f"/publications/{make_publication().slug}"
    token = _form_token(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/comments", data={**TYPED, "csrf_token": token}, **request)


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
        return formtoken.current()


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
        monkeypatch.setattr(formtoken.time, "time", lambda: later)
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
        {"Origin": "http://["},  # not even a URL: refused, not a 500
    ],
)
def test_a_post_another_site_makes_a_browser_send_is_refused_keeping_the_text(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    response = _post_typed(client, headers=headers)
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
    assert _post_typed(client, headers=headers).status_code == 303
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
    app: Flask, client: FlaskClient, count_queries, page_clock
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    first = client.get(url)
    count_queries.count = 0
    again = client.get(url)
    head = client.head(url)
    current = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert count_queries.count == 0
    assert again.get_data() == first.get_data()

    def kept(headers):  # type: ignore[no-untyped-def]
        return [(k, v) for k, v in headers if k != "X-Request-Id"]  # each request its own

    assert kept(again.headers) == kept(first.headers)
    assert head.status_code == 200 and head.get_data() == b""
    assert current.status_code == 304 and current.get_data() == b""
    assert current.headers["ETag"] == first.headers["ETag"]


def test_an_approval_shows_here_at_once_and_in_another_process_when_its_copy_expires(
    app: Flask, client: FlaskClient, moderator, page_clock
) -> None:
    other = create_app({**app.config})  # a second server process, with its own caches
    publication = make_publication()
    comment = make_comment(publication, state=CommentState.PENDING, body="Fresh insight")
    url = f"/publications/{publication.slug}"
    for process in (app, other):  # both keep the page without the comment
        assert "Fresh insight" not in process.test_client().get(url).get_data(as_text=True)
    login(client, "mod")
    client.post(
        f"/moderation/comments/{comment.id}/approve", data={"csrf_token": queue_token(client)}
    )
    assert "Fresh insight" in app.test_client().get(url).get_data(as_text=True)  # at once
    assert "Fresh insight" not in other.test_client().get(url).get_data(as_text=True)
    page_clock[0] += app.config["SHARED_PAGE_SECONDS"]  # its copy expires
    assert "Fresh insight" in other.test_client().get(url).get_data(as_text=True)
    with other.app_context():
        db.engine.dispose()


def test_a_bulk_approval_with_skipped_comments_still_shows_at_once(
    app: Flask, client: FlaskClient, moderator, page_clock
) -> None:
    publication = make_publication()
    pending = make_comment(publication, state=CommentState.PENDING, body="Approved in bulk")
    gone = make_comment(publication, state=CommentState.PENDING, body="Rejected meanwhile")
    url = f"/publications/{publication.slug}"
    assert "Approved in bulk" not in app.test_client().get(url).get_data(as_text=True)
    login(client, "mod")
    token = queue_token(client)
    gone.state = CommentState.REJECTED  # another moderator, between page and action
    db.session.commit()
    response = client.post(
        "/moderation/bulk",
        data={"csrf_token": token, "action": "approve", "ids": [str(pending.id), str(gone.id)]},
        follow_redirects=True,
    )
    assert "1 skipped" in response.get_data(as_text=True)
    assert "Approved in bulk" in app.test_client().get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    ("cookie", "headers"),
    [("remember_token", {}), ("session", {}), (None, {"Authorization": "Basic eA=="})],
)
def test_requests_with_the_visitors_credentials_always_reach_the_app(
    app: Flask,
    client: FlaskClient,
    count_queries,
    page_clock,
    cookie: str | None,
    headers: dict[str, str],
) -> None:
    url = f"/publications/{make_publication().slug}"
    client.get(url)  # now in the page cache
    visitor = app.test_client()
    if cookie:
        visitor.set_cookie(cookie, "abc")
    count_queries.count = 0
    visitor.get(url, headers=headers)
    assert count_queries.count > 0


def test_head_and_other_files_pass_the_page_cache(app: Flask, client: FlaskClient) -> None:
    url = f"/publications/{make_publication().slug}"
    head = client.head(url)  # a miss: answered by the app, not kept
    assert head.status_code == 200 and head.get_data() == b""
    assert app.extensions["page_cache"].entries == {}
    styles = client.get("/static/css/site.css", buffered=True)
    assert styles.status_code == 200 and len(styles.get_data()) > 100
    assert app.extensions["page_cache"].entries == {}


@pytest.mark.parametrize(
    ("base_url", "headers", "status"),
    [
        ("http://localhost:5000", {"Origin": "http://localhost:5000"}, 303),
        ("http://localhost:5000", {"Origin": "http://localhost:5001"}, 400),
        ("http://localhost", {"Origin": "https://localhost:8443"}, 400),
    ],
)
def test_the_origin_check_compares_host_and_port(
    app: Flask, client: FlaskClient, base_url: str, headers: dict[str, str], status: int
) -> None:
    assert _post_typed(client, headers=headers, base_url=base_url).status_code == status


@pytest.mark.config(PROXY_COUNT=1)
def test_behind_a_proxy_the_origin_is_compared_with_the_forwarded_host(
    app: Flask, client: FlaskClient
) -> None:
    proxied = {"X-Forwarded-Host": "news.example.org", "X-Forwarded-Proto": "https"}
    for origin, status in (("https://news.example.org", 303), ("https://evil.example", 400)):
        response = _post_typed(client, headers={**proxied, "Origin": origin})
        assert response.status_code == status, origin


@pytest.mark.config(SHARED_PAGE_SECONDS=0)
def test_pages_are_not_shared_when_sharing_is_switched_off(app: Flask, client: FlaskClient) -> None:
    response = client.get(f"/publications/{make_publication().slug}")
    assert response.cache_control.private and "X-Accel-Expires" not in response.headers
    assert app.extensions["page_cache"].entries == {}


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


@pytest.mark.parametrize("url", ["/", "/publications/", "/publications/?type=analysis"])
def test_listings_are_shared_with_first_time_readers_but_not_with_moderators(
    app: Flask, client: FlaskClient, moderator, url: str
) -> None:
    make_publication(types=["Analysis"])
    anonymous = app.test_client().get(url)
    assert anonymous.cache_control.public and "ETag" in anonymous.headers
    assert anonymous.headers.getlist("Set-Cookie") == []
    login(client, "mod")
    signed_in = client.get(url)
    assert signed_in.cache_control.private and not signed_in.cache_control.public
    assert "Sign out" in signed_in.get_data(as_text=True)
    assert "Sign out" not in app.test_client().get(url).get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/", "/publications/", "/publications/?type=analysis", "/types/analysis"]
)
def test_readers_with_a_session_get_listings_kept_as_long_as_the_shared_page(
    app: Flask, moderator, count_queries, page_clock, url: str
) -> None:
    """A reader who commented has a session, so no shared copy: their listing is kept in
    the process as long as the shared page, without its queries, and is the shared page;
    a change made here shows at once, a notice to them only, and only once."""
    first = make_publication(types=["Analysis"], title="The first analysis")
    reader = app.test_client()
    assert _post(reader, f"/publications/{first.slug}", "Mine").status_code == 303
    reader.get(f"/publications/{first.slug}")  # the notice, where the 303 leads
    shared = app.test_client().get(url).get_data(as_text=True)
    count_queries.count = 0
    again = reader.get(url)
    tracked = reader.get(url + ("&" if "?" in url else "?") + "utm_source=mail")
    assert count_queries.count == 0  # kept by what the page shows, not its full address
    assert again.get_data(as_text=True) == shared and again.cache_control.private
    assert tracked.get_data(as_text=True) == shared
    assert reader.get(url, headers={"If-None-Match": again.headers["ETag"]}).status_code == 304

    login(staff := app.test_client(), "mod")  # staff get their menu, never the kept copy
    assert "Sign out" in staff.get(url).get_data(as_text=True)
    assert "Sign out" not in reader.get(url).get_data(as_text=True)

    make_publication(types=["Analysis"], title="A second analysis")  # committed here
    assert "A second analysis" in reader.get(url).get_data(as_text=True)
    page_clock[0] += app.config["SHARED_PAGE_SECONDS"]
    with reader.session_transaction() as session:
        session["_flashes"] = [("info", "A notice for this reader")]
    assert "A notice for this reader" in reader.get(url).get_data(as_text=True)
    assert "A notice for this reader" not in reader.get(url).get_data(as_text=True)
    assert "A notice for this reader" not in app.test_client().get(url).get_data(as_text=True)


# --- readers with a session: the shared body with their own part -------------------------


def _own_part_removed(page: str) -> str:
    """The page without what belongs to its reader: their notice and their comments
    awaiting moderation (between the invitation and the form)."""
    head, rest = page.split('<p class="invitation">', 1)
    invitation, tail = rest.split("</p>", 1)
    return head + invitation + tail[tail.index('<form class="comment-form"') :]


def _post(client: FlaskClient, url: str, body: str) -> TestResponse:
    token = _form_token(client.get(url).get_data(as_text=True))
    return client.post(f"{url}/comments", data={**TYPED, "body": body, "csrf_token": token})


def test_each_reader_sees_their_own_pending_comments_and_nobody_elses(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    make_comment(publication, body="Already public")
    url = f"/publications/{publication.slug}"
    stranger = app.test_client()
    shared = stranger.get(url).get_data(as_text=True)  # the body is now kept
    other = app.test_client()
    assert _post(client, url, "Mine, waiting").status_code == 303
    assert _post(other, url, "Theirs, waiting").status_code == 303
    for reader, own, not_own in ((client, "Mine", "Theirs"), (other, "Theirs", "Mine")):
        for visit in range(2):  # with the notice, then without
            page = reader.get(url).get_data(as_text=True)
            assert f"{own}, waiting" in page and "only you can see this" in page
            assert f"{not_own}, waiting" not in page
            assert ("awaits moderation" in page) is (visit == 0)
            assert "Already public" in page and 'class="comment__recommend"' in page
            assert _own_part_removed(page) == _own_part_removed(shared)
    assert "waiting" not in stranger.get(url).get_data(as_text=True)


def test_the_form_on_a_readers_own_page_posts_for_them(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    app.test_client().get(url)
    _post(client, url, "First thought")
    page = client.get(url).get_data(as_text=True)
    assert _form_token(page) == _token(app)
    response = client.post(
        f"{url}/comments", data={**TYPED, "body": "Second thought", "csrf_token": _form_token(page)}
    )
    assert response.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert "First thought" in page and "Second thought" in page
    assert len(re.findall(r"comments/status/", page)) == 4  # each link shown twice


def test_a_readers_published_comment_keeps_their_edit_link_on_a_kept_page(
    app: Flask, client: FlaskClient, clock
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    _post(client, url, "Soon public")
    [comment] = _stored()
    comment.state, comment.created_at = CommentState.APPROVED, clock[0]
    catalog.touch([publication.id])
    db.session.commit()
    page = client.get(url).get_data(as_text=True)  # the first view since: the page is kept
    assert "Soon public" in page and "Edit or delete" in page
    assert f'comments/{comment.id}/recommend"' not in page  # nobody recommends their own
    stranger = app.test_client().get(url).get_data(as_text=True)
    assert "Soon public" in stranger and "Edit or delete" not in stranger
    assert f'comments/{comment.id}/recommend"' in stranger


@pytest.mark.parametrize("order", ["", "?sort=newest"])
def test_a_readers_published_comments_are_filled_into_the_kept_page_as_built_whole(
    app: Flask, client: FlaskClient, clock, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """A reader whose comments are in the list (no Recommend button on theirs, their edit
    links) gets the kept page with only their threads rendered for them: the same bytes
    as the page built whole, with the threads between left as kept."""
    publication = make_publication()
    page_url = f"/publications/{publication.slug}"
    first = make_comment(publication, body="First thread", name="Ann")
    make_comment(publication, body="A thread between", name="Bo", minutes=1)
    make_comment(publication, body="A reply between", name="Cy", parent=first, minutes=2)
    assert _post(client, page_url, "Mine, top level").status_code == 303
    token = _form_token(client.get(page_url).get_data(as_text=True))
    client.post(
        f"{page_url}/comments",
        data={**TYPED, "body": "Mine, a reply", "parent_id": str(first.id), "csrf_token": token},
    )
    url = page_url + order
    for comment in _stored():
        if comment.body_text.startswith("Mine"):
            comment.state, comment.created_at = CommentState.APPROVED, clock[0]
    catalog.touch([publication.id])
    db.session.commit()
    _post(client, page_url, "Mine, still waiting")
    client.get(url)  # the notice
    stranger = app.test_client().get(url).get_data(as_text=True)  # the body, kept
    rendered: list[str] = []

    def record(_sender: Flask, template: Any, **_: Any) -> None:
        rendered.append(template.name)

    with template_rendered.connected_to(record, app):
        filled_in = client.get(url).get_data(as_text=True)
    assert rendered.count("publications/_thread.html") == 2  # their two threads only
    assert "publications/article.html" not in rendered
    monkeypatch.setattr(views, "_own_threads", lambda *_: None)
    kept = app.extensions["comment_fragments"]
    kept.entries.clear()  # each thread rendered anew, not the ones filled in above
    kept.size = 0
    assert filled_in == client.get(url).get_data(as_text=True)  # built whole
    for body in ("Mine, top level", "Mine, a reply", "A reply between", "A thread between"):
        assert body in filled_in and body in stranger
    assert filled_in.count("Edit or delete") == 3 and "Edit or delete" not in stranger
    assert filled_in.count('class="comment__recommend"') == 3  # Ann's, Bo's, Cy's: not theirs
    assert stranger.count('class="comment__recommend"') == 5


def test_a_pending_comment_replaces_the_no_comments_line_on_a_kept_page(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    assert "No comments yet" in app.test_client().get(url).get_data(as_text=True)
    _post(client, url, "The very first")
    page = client.get(url).get_data(as_text=True)
    assert "The very first" in page and "No comments yet" not in page


def test_a_moderator_on_a_kept_page_gets_their_menu_and_buttons(
    app: Flask, client: FlaskClient, moderator
) -> None:
    publication = make_publication()
    make_comment(publication, body="Worth picking")
    url = f"/publications/{publication.slug}"
    shared = app.test_client().get(url).get_data(as_text=True)
    assert "Sign out" not in shared and "Feature as a pick" not in shared
    login(client, "mod")
    page = client.get(url).get_data(as_text=True)
    assert "Sign out (mod)" in page and "Feature as a pick" in page
    token = re.search(r'class="signout".*?name="csrf_token" value="([^"]+)"', page, re.S)
    assert client.post("/auth/logout", data={"csrf_token": token.group(1)}).status_code in (
        302,
        303,
    )
    assert "Sign out" not in client.get(url).get_data(as_text=True)


_ANOTHER_PROCESS = """
import json, sys
from discussion import create_app
from tests.helpers import login
app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    client = app.test_client()
    login(client, "mod")
    assert "Sign out (mod)" in client.get(sys.argv[2]).get_data(as_text=True)
"""


@needs_redis
def test_staff_get_their_page_from_a_body_another_process_kept_in_redis(
    app: Flask, client: FlaskClient, moderator
) -> None:
    """With the cache in Redis, the body kept for staff is built by whichever process
    first needs it: the marks where each one's details go are the same in every process."""
    publication = make_publication()
    make_comment(publication, body="Worth picking")
    url = f"/publications/{publication.slug}"
    shared = {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": "redis://127.0.0.1:6379/3",
        "CACHE_KEY_PREFIX": f"staff-marks-{secrets.token_hex(4)}/",
    }
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "RATELIMIT_ENABLED": False,
        **shared,
    }
    root = Path(__file__).resolve().parents[1]
    db.session.close()  # (on SQLite, this process's transaction holds the write lock)
    subprocess.run(
        [sys.executable, "-c", _ANOTHER_PROCESS, json.dumps(config), url],
        cwd=root,
        check=True,
        timeout=120,
    )
    here = create_app(config)  # this process, the same cache: the body is found there
    staff = here.test_client()
    login(staff, "mod")
    page = staff.get(url).get_data(as_text=True)
    with here.app_context():
        db.engine.dispose()
    assert "Sign out (mod)" in page and "Feature as a pick" in page and "\x00" not in page


def test_a_pending_reply_names_the_comment_it_answers(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    parent = make_comment(publication, name="Ada <Lovelace>", body="Worth an answer")
    url = f"/publications/{publication.slug}"
    token = _form_token(client.get(url).get_data(as_text=True))
    client.post(
        f"{url}/comments",
        data={**TYPED, "body": "My answer", "parent_id": parent.id, "csrf_token": token},
    )
    page = client.get(url).get_data(as_text=True)
    own = page[page.index('id="your-comments"') : page.index('<form class="comment-form"')]
    assert "My answer" in own and "in reply to Ada &lt;Lovelace&gt;" in own


def test_readers_with_a_session_get_the_body_as_fresh_as_the_shared_page(
    app: Flask, client: FlaskClient, moderator, page_clock
) -> None:
    """What every reader shares is kept in each process as long as the shared page: a
    change made here shows at once, one made in another process when the copies expire;
    the reader's own part is never kept, and once one of theirs is decided the rest is
    read again."""
    other = create_app({**app.config})  # a second server process, with its own caches
    publication = make_publication()
    make_comment(publication, body="Already public")  # no "No comments yet": the body serves
    first = make_comment(publication, state=CommentState.PENDING, body="Approved first")
    second = make_comment(publication, state=CommentState.PENDING, body="Approved second")
    url = f"/publications/{publication.slug}"
    here = app.test_client()
    assert _post(here, url, "Mine, waiting").status_code == 303
    there = other.test_client()  # the same reader, their next view served by other
    there.set_cookie("session", here.get_cookie("session").value)
    for reader in (here, there):
        page = reader.get(url).get_data(as_text=True)
        assert "Mine, waiting" in page and "Approved first" not in page
    login(client, "mod")
    client.post(
        f"/moderation/comments/{first.id}/approve", data={"csrf_token": queue_token(client)}
    )
    assert "Approved first" in here.get(url).get_data(as_text=True)  # made here: at once
    page = there.get(url).get_data(as_text=True)  # the copy other keeps has not expired
    assert "Approved first" not in page and "Mine, waiting" in page
    page_clock[0] += app.config["SHARED_PAGE_SECONDS"]
    page = there.get(url).get_data(as_text=True)
    assert "Approved first" in page and "Mine, waiting" in page
    client.post(
        f"/moderation/comments/{second.id}/approve", data={"csrf_token": queue_token(client)}
    )
    [mine] = [c for c in _stored() if c.body_text == "Mine, waiting"]
    client.post(f"/moderation/comments/{mine.id}/reject", data={"csrf_token": queue_token(client)})
    page = there.get(url).get_data(as_text=True)  # their part is read on every view
    assert "Mine, waiting" not in page and "awaiting moderation" not in page
    assert "Approved second" in page  # theirs was decided: the rest at least as fresh
    with other.app_context():
        db.engine.dispose()


def test_a_readers_comment_approved_in_another_process_shows_to_them_at_once(
    app: Flask, client: FlaskClient, moderator, page_clock
) -> None:
    other = create_app({**app.config})
    publication = make_publication()
    make_comment(publication, body="Already public")
    url = f"/publications/{publication.slug}"
    db.session.commit()  # the other process writes too
    reader = other.test_client()
    assert _post(reader, url, "Soon approved").status_code == 303
    assert "only you can see this" in reader.get(url).get_data(as_text=True)  # kept in other
    [mine] = [c for c in _stored() if c.body_text == "Soon approved"]
    login(client, "mod")
    client.post(f"/moderation/comments/{mine.id}/approve", data={"csrf_token": queue_token(client)})
    page = reader.get(url).get_data(as_text=True)  # other's copy has not expired
    assert "Soon approved" in page and "only you can see this" not in page
    assert "Edit or delete" in page
    with other.app_context():
        db.engine.dispose()


def _tokens_out(page: str) -> str:
    """The page without its session-bound form tokens (signed with the time)."""
    return re.sub(r'name="csrf_token" value="[^"]+"', 'name="csrf_token" value=""', page)


def test_staff_get_the_page_kept_for_their_role_with_their_own_details(
    app: Flask, moderator, other_moderator, editor, admin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each role's page is rendered once and kept; each member of staff reading it gets
    exactly the page built for them alone: their menu, name and tokens, nobody else's."""
    publication = make_publication()
    comment = make_comment(publication, body="Worth picking")
    make_comment(publication, body="An answer", parent=comment)
    make_comment(publication, state=CommentState.PENDING, body="Still waiting")
    db.session.commit()
    url = f"/publications/{publication.slug}"
    staff = {name: app.test_client() for name in ("mod", "other", "ed", "chief")}
    for name, member in staff.items():
        login(member, name)
    rendered: list[str] = []

    def count(_app: Flask, template: Any, context: Any, **extra: Any) -> None:
        rendered.append(template.name)

    with template_rendered.connected_to(count, app):
        kept = {name: member.get(url).get_data(as_text=True) for name, member in staff.items()}
    assert rendered.count("publications/article.html") == 3  # once a role: "other" reads mod's
    with monkeypatch.context() as patched:
        patched.setattr(views, "_reader_article", lambda place, slug: None)
        whole = {name: member.get(url).get_data(as_text=True) for name, member in staff.items()}
    for name in staff:
        assert _tokens_out(kept[name]) == _tokens_out(whole[name])
        assert f"Sign out ({name})" in kept[name] and f'value="{name}"' in kept[name]
    assert "Feature as a pick" in kept["mod"] and "Feature as a pick" not in kept["ed"]
    assert "Desk" in kept["ed"] and "Accounts" in kept["chief"] and "Accounts" not in kept["mod"]
    assert "Still waiting" not in kept["mod"]
    token = re.search(
        r'class="comment__pick".*?name="csrf_token" value="([^"]+)"', kept["other"], re.S
    )
    picked = staff["other"].post(
        f"/moderation/comments/{comment.id}/feature",
        data={"csrf_token": token.group(1), "next": url},
    )
    assert picked.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).featured_at is not None
    page = staff["mod"].get(url).get_data(as_text=True)  # the change shows to staff at once
    assert "Remove from picks" in page


def test_what_is_kept_beside_the_pages_lives_as_long_as_they_do(
    app: Flask, page_clock: list[float]
) -> None:
    cache = app.extensions["page_cache"]
    made: list[int] = []

    def make() -> int:
        made.append(len(made))
        return made[-1]

    with app.app_context():
        assert pagecache.keep("a", make) == 0 and pagecache.keep("a", make) == 0
        page_clock[0] += app.config["SHARED_PAGE_SECONDS"]  # expired with the pages
        assert pagecache.keep("a", make) == 1
        cache.clear()  # a change committed here
        assert pagecache.keep("a", make) == 2

        def changed_meanwhile() -> int:
            cache.clear()
            return make()

        assert pagecache.keep("b", changed_meanwhile) == 3  # not kept: made before the change
        assert pagecache.keep("b", make) == 4
        page_clock[0] += app.config["SHARED_PAGE_SECONDS"]
        pagecache.keep("c", make)
        assert set(cache.values) == {"c"}  # what expired is dropped


class _Proxy(http.server.ThreadingHTTPServer):
    """Stands in for nginx: records the refreshes the app sends it."""

    def __init__(self) -> None:
        self.asked: queue.SimpleQueue[tuple[str, str, str]] = queue.SimpleQueue()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.asked.put((self.path, self.headers["Host"], self.headers["X-Cache-Refresh"]))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def received(self, count: int) -> set[tuple[str, str, str]]:
        """The next ``count`` refreshes (waiting up to 5 s for each)."""
        return {self.asked.get(timeout=5) for _ in range(count)}

    def within(self, seconds: float) -> list[tuple[str, str, str]]:
        """Every refresh that comes within ``seconds``, sorted."""
        came, until = [], time.monotonic() + seconds
        while (left := until - time.monotonic()) > 0:
            try:
                came.append(self.asked.get(timeout=left))
            except queue.Empty:
                break
        return sorted(came)

    def nothing_more(self) -> bool:
        """No refresh comes within a second (the refresher's interval, twice)."""
        try:
            self.asked.get(timeout=2 * refresh.INTERVAL_SECONDS)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def proxy_refreshed(app: Flask) -> Iterator[tuple[Flask, _Proxy]]:
    """A server process configured to refresh a caching proxy, and that proxy."""
    fake = _Proxy()
    process = create_app(
        {**app.config, "PROXY_REFRESH_URL": f"http://127.0.0.1:{fake.server_port}"}
    )
    yield process, fake
    fake.shutdown()
    fake.server_close()
    with process.app_context():
        db.engine.dispose()


def test_an_approval_asks_the_proxy_for_the_articles_first_pages_afresh(
    app: Flask, moderator, proxy_refreshed: tuple[Flask, _Proxy]
) -> None:
    process, fake = proxy_refreshed
    publication = make_publication()
    comment_id = make_comment(publication, state=CommentState.PENDING).id
    url = f"/publications/{publication.slug}"
    db.session.rollback()  # the other process writes
    client = process.test_client()
    login(client, "mod")
    client.post(
        f"/moderation/comments/{comment_id}/approve", data={"csrf_token": queue_token(client)}
    )
    assert fake.received(3) == {
        (url, "localhost", "http"),
        (f"{url}?sort=newest", "localhost", "http"),
        (f"{url}?sort=recommended", "localhost", "http"),
    }


def test_only_a_few_public_articles_are_asked_for_afresh(
    app: Flask, proxy_refreshed: tuple[Flask, _Proxy]
) -> None:
    """Drafts have no page to refresh, and a change to many publications at once (a
    topic renamed) or outside a request (the worker's, an import's) leaves the proxy's
    copies to expire."""
    process, fake = proxy_refreshed
    draft = make_publication()
    draft.state = PublicationState.DRAFT
    many = [make_publication().id for _ in range(refresh.MOST_PUBLICATIONS + 1)]
    elsewhere, public = make_publication().id, make_publication()
    changes, slug = ([draft.id], many, [public.id]), public.slug
    db.session.rollback()  # the other process writes
    with process.app_context():  # as the worker and the command line commit
        catalog.touch([elsewhere])
        db.session.commit()
    with process.test_request_context():
        for touched in changes:
            catalog.touch(touched)
            db.session.commit()
    assert {path for path, _, _ in fake.received(3)} == {
        f"/publications/{slug}",
        f"/publications/{slug}?sort=newest",
        f"/publications/{slug}?sort=recommended",
    }
    assert fake.nothing_more()


def test_a_refresh_from_the_proxy_passes_the_process_cache_only_where_one_is_configured(
    app: Flask, proxy_refreshed: tuple[Flask, _Proxy], page_clock
) -> None:
    process, _ = proxy_refreshed
    plain = create_app({**app.config})  # no proxy configured
    publication = make_publication()
    url = f"/publications/{publication.slug}"
    refresh_asked = {pagecache.REFRESH_HEADER: "http"}
    db.session.rollback()
    for server in (plain, process):  # both keep the page
        assert "Fresh insight" not in server.test_client().get(url).get_data(as_text=True)
    make_comment(publication, body="Fresh insight")  # a change made in another process
    catalog.touch([publication.id])
    db.session.commit()
    fresh = process.test_client().get(url, headers=refresh_asked).get_data(as_text=True)
    assert "Fresh insight" in fresh
    assert "Fresh insight" in process.test_client().get(url).get_data(as_text=True)  # kept
    kept = plain.test_client().get(url, headers=refresh_asked).get_data(as_text=True)
    assert "Fresh insight" not in kept  # a header anyone could send, where no proxy asks
    with plain.app_context():
        db.engine.dispose()


def test_a_copy_still_current_is_confirmed_without_building_the_page(
    app: Flask, client: FlaskClient, page_clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nginx revalidating its copy (or a browser its own) at a process that has not built
    this version of the page gets its 304 without the page being built there."""
    now = time.time()
    monkeypatch.setattr(formtoken.time, "time", lambda: now)  # no new hour's token midway
    url = f"/publications/{make_publication().slug}"
    db.session.rollback()
    first = client.get(url)
    other = create_app({**app.config})  # another process: it has built nothing
    rendered: list[str] = []

    def record(sender: Flask, template: Any, context: Any, **extra: Any) -> None:
        rendered.append(template.name)

    template_rendered.connect(record, other)
    confirmed = other.test_client().get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert confirmed.status_code == 304 and confirmed.get_data() == b""
    assert rendered == []
    assert confirmed.headers["ETag"] == first.headers["ETag"]
    assert confirmed.headers["Cache-Control"] == first.headers["Cache-Control"]
    assert confirmed.headers["X-Accel-Expires"] == first.headers["X-Accel-Expires"]
    changed = other.test_client().get(url, headers={"If-None-Match": '"another-version"'})
    assert changed.status_code == 200 and changed.get_data() == first.get_data()
    assert rendered  # built, for a copy that is not current
    template_rendered.disconnect(record, other)
    with other.app_context():
        db.engine.dispose()


def test_a_proxy_that_does_not_answer_changes_nothing_but_a_line_in_the_log(
    app: Flask, moderator, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as closed:  # bound, not listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        process = create_app({**app.config, "PROXY_REFRESH_URL": f"http://127.0.0.1:{port}"})
        [refresher] = [listener.__self__ for listener in process.extensions["page_cache"].listeners]
        publication = make_publication()
        ids = [make_comment(publication, state=CommentState.PENDING).id for _ in range(2)]
        db.session.rollback()
        client = process.test_client()
        login(client, "mod")

        def approve(comment_id: int) -> None:
            answer = client.post(
                f"/moderation/comments/{comment_id}/approve",
                data={"csrf_token": queue_token(client)},
            )
            assert answer.status_code == 303

        def failures_logged() -> int:
            said = f"proxy 127.0.0.1:{port} for changed pages failed"
            return sum(said in r.getMessage() for r in caplog.records)

        def wait_for(done: Any) -> None:
            deadline = time.monotonic() + 5
            while not done():
                assert time.monotonic() < deadline
                time.sleep(0.02)

        approve(ids[0])
        wait_for(lambda: failures_logged() == 1)
        approve(ids[1])
        wait_for(lambda: refresher.failures == 1)  # failed again, said nothing: once a minute
        assert failures_logged() == 1
    db.session.expire_all()
    assert {db.session.get(Comment, i).state for i in ids} == {CommentState.APPROVED}
    with process.app_context():
        db.engine.dispose()


def test_the_site_address_is_the_one_refreshed_and_changes_in_a_burst_cost_two_rounds(
    app: Flask, proxy_refreshed: tuple[Flask, _Proxy]
) -> None:
    """Behind https, the refresh names the site's host and scheme (``SITE_URL``), as the
    proxy's cache key for its readers does; many changes in a moment are refreshed once
    at once and once more after :data:`refresh.INTERVAL_SECONDS`, with the latest."""
    _, fake = proxy_refreshed
    process = create_app(
        {
            **app.config,
            "PROXY_REFRESH_URL": f"http://127.0.0.1:{fake.server_port}",
            "SITE_URL": "https://news.example.org",
        }
    )
    publication = make_publication()
    publication_id, url = publication.id, f"/publications/{publication.slug}"
    db.session.rollback()  # the other process writes
    with process.test_request_context():
        for _ in range(5):
            catalog.touch([publication_id])
            db.session.commit()
    first = fake.received(3)
    assert first == {
        (url, "news.example.org", "https"),
        (f"{url}?sort=newest", "news.example.org", "https"),
        (f"{url}?sort=recommended", "news.example.org", "https"),
    }
    later = fake.within(3 * refresh.INTERVAL_SECONDS)
    assert later in ([], sorted(first))  # the changes that came meanwhile, if any: once
    with process.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("url", ["https://127.0.0.1:8081", "127.0.0.1:8081", "http://x/path"])
def test_a_refresh_address_that_cannot_work_is_refused_at_start(app: Flask, url: str) -> None:
    with pytest.raises(ValueError, match="PROXY_REFRESH_URL"):
        create_app({**app.config, "PROXY_REFRESH_URL": url})


def test_a_failing_listener_does_not_turn_a_stored_change_into_an_error(
    app: Flask, client: FlaskClient, moderator, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(publication_ids: frozenset[int]) -> None:
        raise RuntimeError("listener broke")

    pagecache.on_change(app, broken)
    comment = make_comment(make_publication(), state=CommentState.PENDING)
    login(client, "mod")
    answer = client.post(
        f"/moderation/comments/{comment.id}/approve", data={"csrf_token": queue_token(client)}
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).state is CommentState.APPROVED
    said = "listener of committed page changes failed"
    assert any(said in r.getMessage() for r in caplog.records)
