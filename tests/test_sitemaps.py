"""Sitemaps: an index, publications in files of at most SITEMAP_URLS, a news sitemap."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # parses the app's own output, not untrusted input
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.discovery import sitemaps
from discussion.extensions import db
from discussion.models import PublicationState
from tests.helpers import make_publication

SITE = "https://news.example.org"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9",
      "n": "http://www.google.com/schemas/sitemap-news/0.9"}  # fmt: skip


def xml(client: FlaskClient, url: str) -> ET.Element:
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/xml", url
    return ET.fromstring(response.get_data())


@pytest.mark.config(SITE_URL=SITE)
def test_the_sitemap_index_splits_publications_and_lists_only_public_ones(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sitemaps, "SITEMAP_URLS", 2)
    made = [make_publication(title=f"Story {n}") for n in range(3)]
    draft = make_publication(title="Draft")
    draft.state = PublicationState.DRAFT
    db.session.commit()
    index = xml(client, "/sitemap.xml")
    locations = [e.text for e in index.findall("s:sitemap/s:loc", NS)]
    assert locations == [
        f"{SITE}/sitemaps/publications-1.xml",
        f"{SITE}/sitemaps/publications-2.xml",
        f"{SITE}/sitemaps/news.xml",
    ]
    listed = [
        e.text
        for n in (1, 2)
        for e in xml(client, f"/sitemaps/publications-{n}.xml").findall("s:url/s:loc", NS)
    ]
    assert listed == [f"{SITE}/publications/{p.slug}" for p in made]
    assert client.get("/sitemaps/publications-3.xml").status_code == 404


@pytest.mark.config(SITE_URL=SITE)
def test_the_news_sitemap_holds_the_last_two_days(app: Flask, client: FlaskClient) -> None:
    today = datetime.now(UTC)
    fresh = make_publication(title="Fresh & new", published=today.date().isoformat())
    make_publication(title="Old", published=(today - timedelta(days=5)).date().isoformat())
    news = xml(client, "/sitemaps/news.xml")
    titles = [e.text for e in news.findall("s:url/n:news/n:title", NS)]
    assert titles == ["Fresh & new"]
    assert news.find("s:url/s:loc", NS).text == f"{SITE}/publications/{fresh.slug}"


@pytest.mark.config(SITE_URL=SITE)
def test_robots_name_the_sitemap(app: Flask, client: FlaskClient) -> None:
    assert f"Sitemap: {SITE}/sitemap.xml" in client.get("/robots.txt").get_data(as_text=True)
