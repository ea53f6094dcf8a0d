"""Sitemaps for search engines: an index, the public publications in files of at most
``SITEMAP_URLS`` addresses (streamed, in constant memory), and a news sitemap of the
last two days' publications."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from markupsafe import escape
from sqlalchemy import func, select

from ..extensions import db
from ..models import Publication
from ..publications import catalog
from ..web import database, links
from ..web.filters import iso_utc

SITEMAP_URLS = 50_000  # the most addresses one sitemap file may hold
NEWS_DAYS = 2
STREAM_BATCH = 1000

_MODIFIED = func.coalesce(Publication.corrected_at, Publication.published_at)


def parts(now: datetime) -> list[tuple[int, datetime | None]]:
    """The publications sitemap files: their numbers (from 1) and newest change."""
    total = db.session.scalar(select(func.count()).where(catalog.public(now))) or 0
    found = []
    for number in range(1, max(1, -(-total // SITEMAP_URLS)) + 1):
        ids = (
            select(Publication.id, _MODIFIED.label("modified"))
            .where(catalog.public(now))
            .order_by(Publication.id)
            .offset((number - 1) * SITEMAP_URLS)
            .limit(SITEMAP_URLS)
            .subquery()
        )
        found.append((number, db.session.scalar(select(func.max(ids.c.modified)))))
    return found


def index(now: datetime) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    for number, modified in parts(now):
        url = links.absolute("discovery.publications_sitemap", number=number)
        lastmod = f"<lastmod>{iso_utc(modified)}</lastmod>" if modified else ""
        yield f"  <sitemap><loc>{escape(url)}</loc>{lastmod}</sitemap>\n"
    news = links.absolute("discovery.news_sitemap")
    yield f"  <sitemap><loc>{escape(news)}</loc></sitemap>\n"
    yield "</sitemapindex>\n"


def publications(number: int, now: datetime) -> Iterator[str]:
    """One file of the publications sitemap, read and written a batch at a time, on a
    connection of its own: the response streams after the request is done."""
    urls, engine = links.builder(), db.engine
    query = (
        select(Publication.slug, _MODIFIED)
        .where(catalog.public(now))
        .order_by(Publication.id)
        .offset((number - 1) * SITEMAP_URLS)
        .limit(SITEMAP_URLS)
    )

    def lines() -> Iterator[str]:
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        with engine.connect() as connection:
            reader = database.read_only(connection).execution_options(yield_per=STREAM_BATCH)
            rows = reader.execute(query)
            for slug, modified in rows:
                url = urls.build("publications.article", {"slug": slug}, force_external=True)
                lastmod = iso_utc(modified.replace(tzinfo=modified.tzinfo or UTC))
                yield f"  <url><loc>{escape(url)}</loc><lastmod>{lastmod}</lastmod></url>\n"
        yield "</urlset>\n"

    return lines()


def news(now: datetime, site_name: str) -> Iterator[str]:
    """Google News sitemap: the publications of the last ``NEWS_DAYS`` days."""
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
    )
    recent = db.session.execute(
        select(Publication.slug, Publication.title, Publication.published_at)
        .where(catalog.public(now), Publication.published_at >= now - timedelta(days=NEWS_DAYS))
        .order_by(Publication.published_at.desc())
        .limit(1000)
    )
    for slug, title, published_at in recent:
        url = links.absolute("publications.article", slug=slug)
        yield (
            f"  <url><loc>{escape(url)}</loc><news:news><news:publication>"
            f"<news:name>{escape(site_name)}</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>{iso_utc(published_at)}"
            f"</news:publication_date><news:title>{escape(title)}</news:title>"
            "</news:news></url>\n"
        )
    yield "</urlset>\n"
