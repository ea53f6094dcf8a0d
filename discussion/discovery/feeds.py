"""Atom feeds: the latest publications (all, or of a topic, type or author), the latest
approved comments site-wide, and one article's approved comments. Never a pending,
rejected, spam or hidden comment, never an address; every link from ``SITE_URL``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Comment, CommentState, Publication
from ..publications import catalog
from ..web import links

ENTRIES = 30  # entries in a feed


@dataclass(frozen=True)
class Entry:
    """One entry, as the Atom template writes it."""

    id: str
    title: str
    url: str
    published: datetime
    updated: datetime
    authors: list[str]
    summary: str
    html: str
    categories: list[str]


@dataclass(frozen=True)
class Feed:
    """A feed: its title, addresses (its own is its stable id) and entries."""

    title: str
    self_url: str
    page_url: str
    entries: list[Entry]

    @property
    def updated(self) -> datetime | None:
        """The newest entry's time."""
        return max((e.updated for e in self.entries), default=None)

    @property
    def etag(self) -> str:
        """Changes whenever an entry is added, changed or removed."""
        seen = "|".join(f"{e.id}@{e.updated.isoformat()}" for e in self.entries)
        return hashlib.sha256(f"{self.self_url}|{seen}".encode()).hexdigest()[:32]


def _tag(kind: str, created: datetime, number: int) -> str:
    """A tag URI (RFC 4151): the same entry keeps it across runs, renames and moves."""
    return f"tag:{links.site_domain()},{created:%Y-%m-%d}:{kind}:{number}"


def publications(filters: catalog.Filters, title: str, self_url: str, page_url: str) -> Feed:
    """The newest public publications, narrowed like the index."""
    page = catalog.index_page(filters, 1, ENTRIES)
    entries = [
        Entry(
            id=_tag("publication", p.published_at, p.id),
            title=p.title,
            url=links.absolute("publications.article", slug=p.slug),
            published=p.published_at,
            updated=p.corrected_at or p.published_at,
            authors=[a.name for a in p.authors],
            summary=p.dek or p.summary or "",
            html="",
            categories=[t.name for t in p.topics],
        )
        for p in page.items
        if p.published_at is not None
    ]
    return Feed(title, self_url, page_url, entries)


def comments(publication: Publication | None, title: str, self_url: str, page_url: str) -> Feed:
    """The newest approved, visible comments, site-wide or of one publication."""
    stmt = (
        select(Comment)
        .join(Publication, Publication.id == Comment.publication_id)
        .options(selectinload(Comment.publication))
        .where(
            Comment.state == CommentState.APPROVED,
            ~Comment.hidden,
            Comment.deleted_at.is_(None),
            catalog.public(),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(ENTRIES)
    )
    if publication is not None:
        stmt = stmt.where(Comment.publication_id == publication.id)
    entries = []
    for c in db.session.scalars(stmt):
        article = links.absolute("publications.article", slug=c.publication.slug)
        entries.append(
            Entry(
                id=_tag("comment", c.created_at, c.id),
                title=f"{c.name} on “{c.publication.title}”",
                url=f"{article}#comment-{c.id}",
                published=c.created_at,
                updated=c.edited_at or c.created_at,
                authors=[c.name],
                summary="",
                html=c.body_html,
                categories=[],
            )
        )
    return Feed(title, self_url, page_url, entries)
