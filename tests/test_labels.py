"""Topic, type and author pages, and a topic's most discussed publications."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import Comment, CommentState
from tests.helpers import make_comment, make_publication


def test_a_topic_page_lists_its_latest_publications(app: Flask, client: FlaskClient) -> None:
    older = make_publication(title="Older on Iran", topics=["Iran"], published="2024-01-01")
    newer = make_publication(title="Newer on Iran", topics=["Iran"], published="2024-02-01")
    make_publication(title="Elsewhere", topics=["Economics"])
    response = client.get("/topics/iran")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.index(newer.title) < page.index(older.title)
    assert "Elsewhere" not in page and '<h1 class="page-title">Iran</h1>' in page


@pytest.mark.config(PUBLICATIONS_PER_PAGE=2)
def test_label_pages_are_paginated_with_rel_next(app: Flask, client: FlaskClient) -> None:
    for n in range(3):
        make_publication(title=f"Analysis {n}", types=["Analysis"])
    first = client.get("/types/analysis").get_data(as_text=True)
    assert 'rel="next" href="/types/analysis?page=2"' in first
    second = client.get("/types/analysis?page=2").get_data(as_text=True)
    assert len(re.findall(r"Analysis \d", second)) == 1
    assert client.get("/types/analysis?page=3").status_code == 404


def test_an_author_page_has_the_bio_and_the_bylines_link_to_it(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication(
        authors=[{"name": "Viola Gienger", "bio": "Viola Gienger is a senior writer at USIP."}]
    )
    article = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert '<a href="/authors/viola-gienger">Viola Gienger</a>' in article
    page = client.get("/authors/viola-gienger").get_data(as_text=True)
    assert "Viola Gienger is a senior writer at USIP." in page and publication.title in page


@pytest.mark.parametrize(
    "path", ["/topics/nothing", "/types/Analysis", "/authors/%00", "/topics/a--b"]
)
def test_unknown_labels_are_404(app: Flask, client: FlaskClient, path: str) -> None:
    make_publication(types=["Analysis"])
    assert client.get(path).status_code == 404


def test_most_discussed_counts_the_last_weeks_approved_comments(
    app: Flask, client: FlaskClient
) -> None:
    busy = make_publication(title="Busy story", topics=["Iran"])
    quiet = make_publication(title="Quiet story", topics=["Iran"])
    stale = make_publication(title="Old debate", topics=["Iran"])
    now = datetime.now(UTC)
    for n in range(3):
        make_comment(busy, minutes=n)
    make_comment(quiet)
    make_comment(quiet, state=CommentState.PENDING)
    make_comment(quiet, state=CommentState.REJECTED)
    for comment in db.session.scalars(db.select(Comment)):
        comment.created_at = now - timedelta(hours=1)
    for n in range(5):
        old = make_comment(stale, minutes=n)
        old.created_at = now - timedelta(days=8)
    db.session.commit()
    page = client.get("/topics/iran").get_data(as_text=True)
    section = page[page.index("Most discussed this week") :]
    assert section.index("Busy story") < section.index("Quiet story")
    assert "3 comments" in section and "1 comment<" in section
    assert "Old debate" not in section
