"""The catalogue readers browse: public publications by slug, the latest, filtered
listings, and marking a publication's public pages as changed.

Readers see a publication once it is published and its ``published_at`` has come: every
reader query here says so (:func:`public`), so a scheduled publication appears at its
time with nobody acting.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update
from sqlalchemy.orm import defer, selectinload

from ..extensions import db
from ..models import (
    Author,
    Byline,
    Comment,
    CommentState,
    LabelRedirect,
    Publication,
    PublicationState,
    PublicationType,
    SlugRedirect,
    Topic,
    publication_topics,
    publication_types,
)
from ..web import clock, database, pagecache
from ..web.params import Page

# What a publication card shows, loaded in three queries for any number of cards.
CARD_LOADING = (
    defer(Publication.body_source),  # a card never shows the article's text
    defer(Publication.body_html),
    selectinload(Publication.bylines),
    selectinload(Publication.types),
    selectinload(Publication.topics),
)


def public(now: Any = None) -> ColumnElement[bool]:
    """The condition for a publication readers can see at ``now`` (a time or a bound
    parameter; the clock's now when omitted)."""
    return (Publication.state == PublicationState.PUBLISHED) & (
        Publication.published_at <= (clock.now() if now is None else now)
    )


NEWEST_FIRST = (Publication.published_at.desc(), Publication.id.desc())


@dataclass(frozen=True)
class Filters:
    """The active filters of the publications index."""

    type: PublicationType | None = None
    topic: Topic | None = None
    author: Author | None = None


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_slug(text: str) -> bool:
    """Whether text can be a slug at all (so odd input never reaches the database)."""
    return len(text) <= 200 and _SLUG.fullmatch(text) is not None


class PageState(NamedTuple):
    """What decides which cached article page to serve, and what posting a comment
    needs of the publication, read in one light query."""

    id: int
    cache_version: int
    comments_open: bool
    published_at: datetime
    premoderation: bool | None

    @property
    def published(self) -> date:
        """The day of publication (UTC), as the rules count a publication's age."""
        return self.published_at.date()


def page_state(slug: str) -> PageState | None:
    """The cache-relevant state of the public publication with this slug, if any.

    Read on every article view and comment post, so it takes a plain connection rather
    than the ORM session (about half the cost), outside any write transaction.
    """
    if not is_slug(slug):
        return None
    with database.reading() as connection:
        row = connection.execute(_PAGE_STATE, {"slug": slug, "now": clock.now()}).first()
    return PageState(*row) if row else None


_PAGE_STATE = select(
    Publication.id,
    Publication.cache_version,
    Publication.comments_open,
    Publication.published_at,
    Publication.premoderation,
).where(Publication.slug == bindparam("slug"), public(bindparam("now")))


def by_slug(slug: str) -> Publication | None:
    """The public publication with this slug, if any."""
    if not is_slug(slug):
        return None
    return db.session.scalar(select(Publication).where(Publication.slug == slug, public()))


def public_ids(slugs: Iterable[str]) -> dict[str, int]:
    """The ids of the public publications with these slugs (unknown ones left out)."""
    wanted = [s for s in dict.fromkeys(slugs) if is_slug(s)]
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Publication.slug, Publication.id).where(Publication.slug.in_(wanted), public())
    )
    return {slug: publication_id for slug, publication_id in rows}


def public_slugs(publication_ids: Iterable[int]) -> list[str]:
    """The slugs of the public publications among these (read outside any write)."""
    with database.reading() as connection:
        found = connection.scalars(
            _PUBLIC_SLUGS, {"ids": sorted(set(publication_ids)), "now": clock.now()}
        )
        return list(found)


_PUBLIC_SLUGS = (
    select(Publication.slug)
    .where(Publication.id.in_(bindparam("ids", expanding=True)), public(bindparam("now")))
    .order_by(Publication.id)
)


def stored_by_slug(slug: str) -> Publication | None:
    """The publication with this slug in any state (for staff and imports), if any."""
    if not is_slug(slug):
        return None
    return db.session.scalar(select(Publication).where(Publication.slug == slug))


def moved_to(slug: str) -> str | None:
    """The current slug of a public publication that had this slug before, if any."""
    if not is_slug(slug):
        return None
    return db.session.scalar(
        select(Publication.slug)
        .join(SlugRedirect, SlugRedirect.publication_id == Publication.id)
        .where(SlugRedirect.slug == slug, public())
    )


def latest(limit: int) -> list[Publication]:
    """The newest public publications."""
    return list(
        db.session.scalars(
            select(Publication)
            .options(*CARD_LOADING)
            .where(public())
            .order_by(*NEWEST_FIRST)
            .limit(limit)
        )
    )


_LIVE_MARK: list[tuple[float, datetime | None]] = [(0.0, None)]
LIVE_MARK_SECONDS = 1.0


def live_mark() -> str:
    """When the newest public publication went public, as a cache-key part: a page
    that lists publications (related lists) is rebuilt once a scheduled one appears.
    Read at most once a second per process."""
    checked, mark = _LIVE_MARK[0]
    if time.monotonic() - checked >= LIVE_MARK_SECONDS:
        with database.reading() as connection:
            mark = connection.scalar(select(func.max(Publication.published_at)).where(public()))
        _LIVE_MARK[0] = (time.monotonic(), mark)
    return mark.isoformat() if mark else "-"


@dataclass(frozen=True)
class Labels:
    """Every type and topic, by name: the filter menus of a listing."""

    types: list[PublicationType]
    topics: list[Topic]


def all_labels() -> Labels:
    """Every type and every topic, by name, for the filter menus."""
    return Labels(
        list(db.session.scalars(select(PublicationType).order_by(PublicationType.name))),
        list(db.session.scalars(select(Topic).order_by(Topic.name))),
    )


_L = TypeVar("_L", PublicationType, Topic)


def _named(model: type[_L], slug: str, known: list[_L] | None) -> _L | None:
    if known is not None:
        return next((label for label in known if label.slug == slug), None)
    return by_label_slug(model, slug)  # type: ignore[return-value]


def resolve_filters(
    type_slug: str | None, topic_slug: str | None, known: Labels | None = None
) -> Filters | None:
    """Look up filter slugs, among the ``known`` labels when the caller has read them
    (its menus) and else in the database; None when one names nothing (the caller
    answers 404)."""
    kind = topic = None
    if not all(is_slug(s) for s in (type_slug, topic_slug) if s):
        return None
    if type_slug:
        kind = _named(PublicationType, type_slug, known.types if known else None)
        if kind is None:
            return None
    if topic_slug:
        topic = _named(Topic, topic_slug, known.topics if known else None)
        if topic is None:
            return None
    return Filters(kind, topic)


def by_label_slug(
    model: type[PublicationType] | type[Topic] | type[Author], slug: str
) -> PublicationType | Topic | Author | None:
    """The type, topic or author with this slug, if any."""
    if not is_slug(slug):
        return None
    return db.session.scalar(select(model).where(model.slug == slug))


MOST_DISCUSSED_DAYS = 7


def most_discussed(
    now: datetime, limit: int, topic: Topic | None = None
) -> list[tuple[Publication, int]]:
    """Public publications with the most comments approved in the last
    ``MOST_DISCUSSED_DAYS`` days (on one topic, when given), most first."""
    since = now - timedelta(days=MOST_DISCUSSED_DAYS)
    counted = (
        select(Comment.publication_id, func.count().label("n"))
        .where(
            Comment.state == CommentState.APPROVED,
            ~Comment.hidden,
            Comment.created_at >= since,
        )
        .group_by(Comment.publication_id)
        .subquery()
    )
    stmt = (
        select(Publication, counted.c.n)
        .join(counted, counted.c.publication_id == Publication.id)
        .where(public(now))
        .order_by(counted.c.n.desc(), *NEWEST_FIRST)
        .limit(limit)
    )
    if topic is not None:
        stmt = stmt.join(publication_topics).where(publication_topics.c.topic_id == topic.id)
    return [(publication, n) for publication, n in db.session.execute(stmt)]


def moved_filters(type_slug: str | None, topic_slug: str | None) -> dict[str, str] | None:
    """The filter arguments that replace renamed or merged ones, if any named one moved."""
    moved, args = False, {}
    for kind, slug in (("type", type_slug), ("topic", topic_slug)):
        if not slug:
            continue
        target = (
            db.session.scalar(
                select(LabelRedirect.target_slug).where(
                    LabelRedirect.kind == kind, LabelRedirect.slug == slug
                )
            )
            if is_slug(slug)
            else None
        )
        moved = moved or target is not None
        args[kind] = target or slug
    return args if moved else None


def narrowed(stmt: Select, filters: Filters) -> Select:
    """A publications query narrowed by the filters' type, topic and author."""
    if filters.type is not None:
        stmt = stmt.join(publication_types).where(publication_types.c.type_id == filters.type.id)
    if filters.topic is not None:
        stmt = stmt.join(publication_topics).where(
            publication_topics.c.topic_id == filters.topic.id
        )
    if filters.author is not None:
        stmt = stmt.join(Byline, Byline.publication_id == Publication.id).where(
            Byline.author_id == filters.author.id
        )
    return stmt


def index_page(filters: Filters, page: int, per_page: int) -> Page:
    """A page of public publications, newest first, narrowed by type and topic."""
    now = clock.now()
    visible = narrowed(select(Publication.id).where(public(now)), filters)
    total = db.session.scalar(select(func.count()).select_from(visible.subquery())) or 0
    # The page's ids first (from indexes), then only those rows.
    ids = db.session.scalars(
        visible.order_by(*NEWEST_FIRST).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = db.session.scalars(
        select(Publication).options(*CARD_LOADING).where(Publication.id.in_(ids))
    ).all()
    order = {id_: n for n, id_ in enumerate(ids)}
    return Page(sorted(items, key=lambda p: order[p.id]), page, per_page, total)


def listing_after(
    filters: Filters, after: tuple[datetime, int] | None, limit: int
) -> tuple[list[Publication], bool]:
    """Public publications newest first, narrowed as the index is, starting strictly after
    ``after`` (the publication time and id of the last one seen): keyset pages that stay
    stable while publications appear. Returns the page and whether more follow."""
    stmt = narrowed(select(Publication).options(*CARD_LOADING).where(public()), filters)
    if after is not None:
        when, last_id = after
        stmt = stmt.where(
            (Publication.published_at < when)
            | ((Publication.published_at == when) & (Publication.id < last_id))
        )
    rows = list(db.session.scalars(stmt.order_by(*NEWEST_FIRST).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def touch(publication_ids: Iterable[int]) -> None:
    """Mark publications' public pages as changed (new cache version), in this transaction."""
    ids = sorted(set(publication_ids))
    if ids:
        pagecache.changed(ids)
        db.session.execute(
            update(Publication)
            .where(Publication.id.in_(ids))
            .values(cache_version=Publication.cache_version + 1)
            .execution_options(synchronize_session=False)
        )
