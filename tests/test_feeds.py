"""Atom feeds: what they hold, what they never hold, stable ids, 304s, autodiscovery."""

from __future__ import annotations

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import CommentState
from tests.helpers import make_comment, make_publication

SITE = "https://news.example.org"


def parsed(client: FlaskClient, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.get_data())
    assert not feed.bozo, feed.get("bozo_exception")  # a parser reads it without a warning
    assert feed.version == "atom10"
    return feed


@pytest.mark.config(SITE_URL=SITE)
def test_the_publications_feed_lists_the_latest_with_stable_ids(
    app: Flask, client: FlaskClient
) -> None:
    old = make_publication(title="Older", published="2024-01-01", topics=["Iran"])
    new = make_publication(title="Newer & <b>bold</b>", published="2024-02-01", dek="A dek.")
    feed = parsed(client, "/feeds/publications.atom")
    assert [e.title for e in feed.entries] == ["Newer & <b>bold</b>", "Older"]
    assert feed.entries[0].link == f"{SITE}/publications/{new.slug}"
    assert feed.entries[0].summary == "A dek."
    assert feed.entries[1].id == f"tag:news.example.org,2024-01-01:publication:{old.id}"
    assert parsed(client, "/feeds/publications.atom").entries[1].id == feed.entries[1].id
    narrowed = parsed(client, "/feeds/publications.atom?topic=iran")
    assert [e.title for e in narrowed.entries] == ["Older"]
    assert client.get("/feeds/publications.atom?topic=nothing").status_code == 404


@pytest.mark.config(SITE_URL=SITE)
def test_comment_feeds_hold_only_public_comments_and_no_addresses(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication(title="Talks")
    make_comment(publication, body="Public words", name="Ada", email="ada@example.org")
    for state in (CommentState.PENDING, CommentState.REJECTED, CommentState.SPAM):
        make_comment(publication, state=state, body=f"Hidden {state.value}", email="x@y.org")
    hidden = make_comment(publication, body="Hidden by reports")
    hidden.hidden = True
    db.session.commit()
    for url in ("/feeds/comments.atom", f"/publications/{publication.slug}/comments.atom"):
        body = client.get(url).get_data(as_text=True)
        feed = parsed(client, url)
        assert [e.title for e in feed.entries] == ["Ada on “Talks”"]
        assert "Public words" in feed.entries[0].content[0].value
        assert "Hidden" not in body and "@example.org" not in body and "x@y.org" not in body


@pytest.mark.config(SITE_URL=SITE)
def test_feeds_answer_304_to_a_reader_who_has_them(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Once")
    url = "/feeds/publications.atom"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    make_publication(title="Twice", published="2024-03-01")
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.config(SITE_URL=SITE)
def test_pages_name_their_feeds(app: Flask, client: FlaskClient) -> None:
    publication = make_publication(topics=["Iran"])
    article = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert f'href="/publications/{publication.slug}/comments.atom"' in article
    assert 'type="application/atom+xml"' in article
    topic = client.get("/topics/iran").get_data(as_text=True)
    assert 'href="/feeds/publications.atom?topic=iran"' in topic


def test_feeds_need_the_site_address(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app, "testing", False)
    assert client.get("/feeds/comments.atom").status_code == 503
