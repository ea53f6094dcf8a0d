"""Article metadata for search engines and link previews, robots.txt, canonical URLs."""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.models import CommentState
from tests.helpers import USIP, make_comment, make_publication


def json_ld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert match, "no JSON-LD"
    return json.loads(match.group(1))


@pytest.mark.config(SITE_URL="https://news.example.org")
def test_the_article_describes_itself_from_the_site_address(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication(
        title='Talks "resume" <b>today</b>',
        dek="Negotiators meet again.",
        authors=[{"name": "Viola Gienger", "bio": None}],
    )
    root = make_comment(publication, body="First <script>x</script>", name="Ada")
    make_comment(publication, parent=root, body="A reply.", name="Bo", minutes=1)
    make_comment(publication, state=CommentState.PENDING, body="Not public", email="p@x.org")
    page = client.get(f"/publications/{publication.slug}", headers={"Host": "evil.example"})
    html = page.get_data(as_text=True)
    canonical = f"https://news.example.org/publications/{publication.slug}"
    assert f'<link rel="canonical" href="{canonical}">' in html
    assert (
        '<meta property="og:title" content="Talks &#34;resume&#34; &lt;b&gt;today&lt;/b&gt;">'
        in html
    )
    assert '<meta name="twitter:card" content="summary">' in html
    data = json_ld(html)
    assert data["@type"] == "NewsArticle" and data["headline"] == 'Talks "resume" <b>today</b>'
    assert data["url"] == canonical and data["author"] == [
        {"@type": "Person", "name": "Viola Gienger"}
    ]
    assert data["datePublished"] == "2024-01-01T00:00:00Z"
    assert data["commentCount"] == 2
    assert [c["text"] for c in data["comment"]] == ["First <script>x</script>", "A reply."]
    assert "Not public" not in html and "p@x.org" not in html
    assert "</script>x" not in html.split('application/ld+json">')[1].split("</script>")[0]
    assert "evil.example" not in html


def test_without_a_site_address_no_absolute_metadata_is_made_up(
    seeded: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seeded, "testing", False)  # outside testing, SITE_URL is required
    html = client.get(f"/publications/{USIP}").get_data(as_text=True)
    assert 'rel="canonical"' not in html and "application/ld+json" not in html


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (f"/publications/{USIP}/", f"/publications/{USIP}"),
        (f"/publications/{USIP}/?page=1", f"/publications/{USIP}?page=1"),
        (f"/publications/{USIP.upper()}", f"/publications/{USIP}"),
    ],
)
def test_other_forms_of_an_article_address_redirect_to_the_canonical_one(
    seeded: Flask, client: FlaskClient, path: str, target: str
) -> None:
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (301, target)


def test_robots_keep_crawlers_out_of_private_pages(app: Flask, client: FlaskClient) -> None:
    response = client.get("/robots.txt")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for path in ("/moderation/", "/desk/", "/auth/", "/comments/status/", "/search"):
        assert f"Disallow: {path}\n" in text
    assert client.get("/favicon.ico").headers["Location"].endswith("/static/img/favicon.svg")
