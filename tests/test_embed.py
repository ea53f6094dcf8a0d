"""The thread embedded on the publisher's other sites: framed only by EMBED_ORIGINS,
matched by the page's address, posting as the article's form does, showing the
poster's own pending comment, creating a publication only when the site allows it."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.embed import pages
from discussion.extensions import db
from discussion.models import Comment, CommentState, Publication, PublicationUrl
from discussion.moderation import decisions
from tests.helpers import make_comment, make_publication, site_admin

SITE = "https://www.example.org"
STORY = f"{SITE}/news/big-story"
FRAME = f"/embed/thread?url={quote(STORY)}&title=The+big%00+story"


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)[1]  # type: ignore[index]


def post(client: FlaskClient, frame: str = FRAME, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(frame).get_data(as_text=True)
    data = {"name": "Ada", "email": "", "body": "From the other site.", "website": ""}
    data.update(fields)
    data["csrf_token"] = token_of(page)
    return client.post(frame, data=data)


@pytest.mark.config(EMBED_ORIGINS=[SITE], EMBED_CREATE_PUBLICATIONS=True)
def test_a_first_comment_on_a_new_page_creates_its_publication(app: Flask, client) -> None:
    empty = client.get(FRAME)
    assert empty.status_code == 200 and "Leave a comment" in empty.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 0
    posted = post(client)
    assert posted.status_code == 303
    publication = db.session.scalar(db.select(Publication))
    assert publication.title == "The big story" and publication.slug == "big-story"
    assert db.session.scalar(db.select(PublicationUrl.url)) == STORY
    [comment] = db.session.scalars(db.select(Comment)).all()
    assert comment.state is CommentState.PENDING and comment.publication_id == publication.id
    # the poster sees their comment awaiting moderation; another reader does not
    page = client.get(posted.headers["Location"]).get_data(as_text=True)
    assert "Your comment awaits moderation" in page and "From the other site." in page
    assert "Awaiting moderation: only you can see this" in page
    other = app.test_client().get(FRAME).get_data(as_text=True)
    assert "From the other site." not in other
    # approved, it is in everyone's thread, and counted by the page's address
    decisions.act(comment.id, "approve", site_admin())
    db.session.commit()
    assert "From the other site." in app.test_client().get(FRAME).get_data(as_text=True)
    counts = client.get(f"/api/v1/counts?url={quote(STORY)}").json
    assert counts["urls"] == {STORY: 1}


@pytest.mark.config(EMBED_ORIGINS=[SITE])
def test_without_permission_an_unknown_page_creates_nothing(app: Flask, client) -> None:
    page = client.get(FRAME)
    assert page.status_code == 404
    assert "Comments are not available for this page." in page.get_data(as_text=True)
    assert client.post(FRAME, data={"name": "A", "body": "B"}).status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 0


@pytest.mark.config(EMBED_ORIGINS=[SITE], EMBED_CREATE_PUBLICATIONS=True)
def test_pages_of_other_origins_get_no_thread(app: Flask, client) -> None:
    for url in ("https://evil.example/story", "javascript:alert(1)", "", "ftp://x/y"):
        assert client.get(f"/embed/thread?url={quote(url)}").status_code == 404
    assert db.session.scalar(db.select(db.func.count()).select_from(Publication)) == 0


@pytest.mark.config(EMBED_ORIGINS=[SITE])
def test_the_thread_is_framed_only_by_allowed_origins(app: Flask, client) -> None:
    own = make_publication()
    url = quote(f"http://127.0.0.1:5000/publications/{own.slug}")
    app.config["EMBED_ORIGINS"] = [SITE, "http://127.0.0.1:5000"]
    framed = client.get(f"/embed/thread?url={url}")
    assert framed.status_code == 200
    policy = framed.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' http://127.0.0.1:5000 {SITE}" in policy
    assert "script-src 'self'" in policy and "X-Frame-Options" not in framed.headers
    article = client.get(f"/publications/{own.slug}")
    assert "frame-ancestors 'none'" in article.headers["Content-Security-Policy"]
    assert article.headers["X-Frame-Options"] == "DENY"


@pytest.mark.config(EMBED_ORIGINS=[SITE], EMBED_CREATE_PUBLICATIONS=True)
def test_replies_and_field_errors_keep_the_text(app: Flask, client) -> None:
    post(client)
    publication = db.session.scalar(db.select(Publication))
    root = make_comment(publication, name="Bo")
    reply_frame = f"{FRAME}&reply_to={root.id}"
    page = client.get(reply_frame).get_data(as_text=True)
    assert "Reply to Bo" in page
    refused = post(client, name="", body="Kept as typed <b>here</b>")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Please enter your name." in text and "Kept as typed &lt;b&gt;here&lt;/b&gt;" in text
    replied = post(client, reply_frame, name="Cy", parent_id=str(root.id), body="Answer")
    assert replied.status_code == 303
    stored = db.session.scalar(db.select(Comment).where(Comment.name == "Cy"))
    assert stored.parent_id == root.id


@pytest.mark.config(
    EMBED_ORIGINS=[SITE],
    EMBED_CREATE_PUBLICATIONS=True,
    RATELIMIT_ENABLED=True,
    RATELIMIT_COMMENTS="1/minute",
)
def test_over_the_rate_limit_the_text_is_kept(app: Flask, client) -> None:
    assert post(client).status_code == 303
    again = post(client, body="My second thought.")
    assert again.status_code == 429
    assert "My second thought." in again.get_data(as_text=True)


@pytest.mark.config(EMBED_ORIGINS=[SITE], EMBED_CREATE_PUBLICATIONS=True)
def test_another_site_cannot_post_through_the_frame(app: Flask, client) -> None:
    page = client.get(FRAME).get_data(as_text=True)
    refused = client.post(
        FRAME,
        data={"name": "Eve", "body": "Forged", "csrf_token": token_of(page)},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 400
    assert "Forged" in refused.get_data(as_text=True)  # kept, not posted
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0


def test_the_script_is_served_for_other_sites(client) -> None:
    script = client.get("/embed.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert b"/embed/thread?" in script.data and b"/api/v1/counts?" in script.data


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("HTTPS://WWW.Example.org:443/Story#part", "https://www.example.org/Story"),
        ("http://example.org", "http://example.org/"),
        ("http://example.org:8080/a?b=1", "http://example.org:8080/a?b=1"),
        ("https://user:pw@example.org/", None),
        ("mailto:a@example.org", None),
        ("https://exa mple.org/", None),
        ("https://[::1]:99999/", None),
    ],
)
def test_page_addresses_are_normalised(text: str, normal: str | None) -> None:
    assert pages.normalize(text) == normal


@pytest.mark.config(EMBED_ORIGINS=[SITE], EMBED_CREATE_PUBLICATIONS=True)
def test_the_publisher_fits_the_thread_to_their_site(app: Flask, client) -> None:
    page = client.get(f"{FRAME}&accent=%230a5c36&font=serif").get_data(as_text=True)
    sheet = re.search(r'href="(/embed/style\.css\?[^"]+)"', page)[1]  # type: ignore[index]
    css = client.get(sheet.replace("&amp;", "&"))
    assert css.mimetype == "text/css"
    assert "--link: #0a5c36" in css.get_data(as_text=True)
    assert "var(--serif)" in css.get_data(as_text=True)
    assert "accent=%230a5c36" in re.search(r'<form[^>]*action="([^"]+)"', page)[1]  # type: ignore[index]
    hostile = client.get(f"{FRAME}&accent=red;}}body{{display:none&font=x").get_data(as_text=True)
    assert "/embed/style.css" not in hostile
    assert client.get("/embed/style.css?accent=red;}body{x").get_data(as_text=True).strip() == ""
