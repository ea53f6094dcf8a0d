"""Publications: listing and filtering, the seed import, and stored related lists."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.orm import defer, joinedload, selectinload

from . import database, importer, pagecache, related
from .extensions import db
from .models import (
    Author,
    Byline,
    Pin,
    Publication,
    PublicationType,
    RelatedPublication,
    Topic,
    publication_topics,
    publication_types,
)
from .pages import Page

# What a publication card shows, loaded in three queries for any number of cards.
CARD_LOADING = (
    defer(Publication.body),  # a card never shows the article's text
    selectinload(Publication.bylines),
    selectinload(Publication.types),
    selectinload(Publication.topics),
)


@dataclass(frozen=True)
class Filters:
    """The active filters of the publications index."""

    type: PublicationType | None = None
    topic: Topic | None = None


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
    published: date
    premoderation: bool | None


def page_state(slug: str) -> PageState | None:
    """The cache-relevant state of the publication with this slug, if any.

    Read on every article view and comment post, so it takes a plain connection rather
    than the ORM session (about half the cost), outside any write transaction.
    """
    if not is_slug(slug):
        return None
    with database.reading() as connection:
        row = connection.execute(_PAGE_STATE, {"slug": slug}).first()
    return PageState(*row) if row else None


_PAGE_STATE = select(
    Publication.id,
    Publication.cache_version,
    Publication.comments_open,
    Publication.published,
    Publication.premoderation,
).where(Publication.slug == bindparam("slug"))


def by_slug(slug: str) -> Publication | None:
    """The publication with this slug, if any."""
    if not is_slug(slug):
        return None
    return db.session.scalar(select(Publication).filter_by(slug=slug))


def latest(limit: int) -> list[Publication]:
    """The newest publications."""
    return list(
        db.session.scalars(
            select(Publication)
            .options(*CARD_LOADING)
            .order_by(Publication.published.desc(), Publication.id.desc())
            .limit(limit)
        )
    )


def resolve_filters(type_slug: str | None, topic_slug: str | None) -> Filters | None:
    """Look up filter slugs; None when one names nothing (the caller answers 404)."""
    kind = topic = None
    if not all(is_slug(s) for s in (type_slug, topic_slug) if s):
        return None
    if type_slug:
        kind = db.session.scalar(select(PublicationType).filter_by(slug=type_slug))
        if kind is None:
            return None
    if topic_slug:
        topic = db.session.scalar(select(Topic).filter_by(slug=topic_slug))
        if topic is None:
            return None
    return Filters(kind, topic)


def index_page(filters: Filters, page: int, per_page: int) -> Page:
    """A page of publications, newest first, narrowed by type and topic."""

    def narrowed(stmt: Select) -> Select:
        if filters.type is not None:
            stmt = stmt.join(publication_types).where(
                publication_types.c.type_id == filters.type.id
            )
        if filters.topic is not None:
            stmt = stmt.join(publication_topics).where(
                publication_topics.c.topic_id == filters.topic.id
            )
        return stmt

    ids = narrowed(select(Publication.id)).subquery()
    total = db.session.scalar(select(func.count()).select_from(ids)) or 0
    items = db.session.scalars(
        narrowed(select(Publication).options(*CARD_LOADING))
        .order_by(Publication.published.desc(), Publication.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return Page(list(items), page, per_page, total)


def all_types() -> list[PublicationType]:
    """Every type, by name, for the filter menu."""
    return list(db.session.scalars(select(PublicationType).order_by(PublicationType.name)))


def all_topics() -> list[Topic]:
    """Every topic, by name, for the filter menu."""
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))


def related_entries(publication: Publication) -> list[RelatedPublication]:
    """The stored related list of a publication, in order, with the related cards loaded."""
    return list(
        db.session.scalars(
            select(RelatedPublication)
            .options(
                joinedload(RelatedPublication.related).selectinload(Publication.bylines),
                joinedload(RelatedPublication.related).selectinload(Publication.types),
                joinedload(RelatedPublication.related).selectinload(Publication.topics),
            )
            .where(RelatedPublication.publication_id == publication.id)
            .order_by(RelatedPublication.position)
        )
    )


# --- writing -----------------------------------------------------------------


def touch(publication_ids: Iterable[int]) -> None:
    """Mark publications' public pages as changed (new cache version), in this transaction."""
    ids = sorted(set(publication_ids))
    if ids:
        pagecache.changed()
        db.session.execute(
            update(Publication)
            .where(Publication.id.in_(ids))
            .values(cache_version=Publication.cache_version + 1)
            .execution_options(synchronize_session=False)
        )


def _named(model: type[PublicationType] | type[Topic], name: str) -> Any:
    found = db.session.scalar(select(model).filter_by(name=name))
    if found is None:
        found = model(name=name, slug=importer.slugify(name))
        db.session.add(found)
    return found


def _author(name: str, bio: str | None) -> Author:
    author = db.session.scalar(select(Author).filter_by(name=name))
    if author is None:
        author = Author(name=name)
        db.session.add(author)
    if author.bio != bio and bio is not None:
        author.bio = bio
    return author


def upsert(record: dict[str, Any]) -> tuple[Publication, bool]:
    """Create or update a publication from a seed record; returns it and whether it changed."""
    publication = by_slug(record["slug"])
    created = publication is None
    if publication is None:
        publication = Publication(slug=record["slug"])
        db.session.add(publication)
    image = record.get("image") or {}
    fields = {
        "title": record["title"],
        "dek": record.get("dek"),
        "summary": record.get("summary") or "",
        "body": list(record.get("body") or []),
        "published": date.fromisoformat(record["published"]),
        "partner": record.get("partner"),
        "source_note": record.get("source_note"),
        "image_file": image.get("file"),
        "image_alt": image.get("alt"),
        "image_caption": image.get("caption"),
        "invitation": record.get("invitation"),
    }
    changed = created
    for key, value in fields.items():
        if getattr(publication, key) != value:
            setattr(publication, key, value)
            changed = True
    types = [_named(PublicationType, n) for n in record.get("types", [])]
    topics = [_named(Topic, n) for n in record.get("topics", [])]
    if sorted(t.name for t in publication.types) != sorted(t.name for t in types):
        publication.types = types
        changed = True
    if sorted(t.name for t in publication.topics) != sorted(t.name for t in topics):
        publication.topics = topics
        changed = True
    authors = [_author(a["name"], a.get("bio")) for a in record.get("authors", [])]
    if [a.name for a in publication.authors] != [a.name for a in authors]:
        publication.bylines = [Byline(author=a, position=i) for i, a in enumerate(authors)]
        changed = True
    return publication, changed


def set_pins(publication: Publication, related_slugs: Iterable[str]) -> bool:
    """Replace a publication's editorial pins; returns whether they changed."""
    ids = []
    for slug in related_slugs:
        found = db.session.scalar(select(Publication.id).filter_by(slug=slug))
        if found is not None and found != publication.id and found not in ids:
            ids.append(found)
    current = list(
        db.session.scalars(
            select(Pin.related_id).filter_by(publication_id=publication.id).order_by(Pin.position)
        )
    )
    if current == ids:
        return False
    db.session.execute(delete(Pin).where(Pin.publication_id == publication.id))
    db.session.add_all(
        Pin(publication_id=publication.id, position=i, related_id=r) for i, r in enumerate(ids)
    )
    return True


def seed_content(data_file: Path) -> tuple[int, int]:
    """Import the seed data file; returns (publications in it, publications changed)."""
    records = importer.load_seed_data(data_file)["publications"]
    return len(records), import_records(records)


def import_records(records: list[dict[str, Any]]) -> int:
    """Import seed records (idempotent); returns how many publications changed."""
    changed_ids: set[int] = set()
    by_slug: dict[str, Publication] = {}
    for record in records:
        publication, changed = upsert(record)
        db.session.flush()
        by_slug[record["slug"]] = publication
        if changed:
            changed_ids.add(publication.id)
    for record in records:
        publication = by_slug[record["slug"]]
        if set_pins(publication, record.get("pins", [])):
            changed_ids.add(publication.id)
    db.session.flush()
    if changed_ids:
        refresh_all_related()
    return len(changed_ids)


# --- related publications -----------------------------------------------------


def _doc(publication: Publication, pins: tuple[int, ...]) -> related.Doc:
    text = "\n".join([publication.dek or "", publication.summary, *publication.body])
    return related.Doc(
        id=publication.id,
        title=publication.title,
        text=text,
        types=frozenset(t.name for t in publication.types),
        topics=frozenset(t.name for t in publication.topics),
        published=publication.published,
        pins=pins,
    )


def corpus() -> related.Corpus:
    """The ranking model over every publication."""
    pins: dict[int, list[int]] = {}
    for pin in db.session.scalars(select(Pin).order_by(Pin.publication_id, Pin.position)):
        pins.setdefault(pin.publication_id, []).append(pin.related_id)
    publications = db.session.scalars(select(Publication).options(*CARD_LOADING))
    return related.Corpus(_doc(p, tuple(pins.get(p.id, ()))) for p in publications)


NEIGHBOURS = 50  # a changed publication's closest publications whose lists are recomputed


def refresh_related(changed_ids: Iterable[int], limit: int = 4) -> int:
    """Recompute and store the related lists a change of these publications touches.

    That is each changed publication's own list, the lists that show it now, and the
    lists of its closest publications (similarity is symmetric, so those are the lists
    it can enter). A change also shifts term weights slightly everywhere; that drift
    is left to ``refresh_all_related`` (the ``refresh-related`` command), which the
    seed import uses. Returns how many lists were rewritten.
    """
    model = corpus()
    changed = set(changed_ids)
    targets = set(changed)
    for publication_id in changed:
        targets.update(
            db.session.scalars(
                select(RelatedPublication.publication_id).where(
                    RelatedPublication.related_id == publication_id
                )
            )
        )
        targets.update(m.related_id for m in model.rank(publication_id, limit=NEIGHBOURS))
    for publication_id in sorted(targets):
        store_related(publication_id, model.rank(publication_id, limit=limit))
    return len(targets)


def refresh_all_related(limit: int = 4) -> int:
    """Recompute every stored related list; returns how many."""
    model = corpus()
    lists = model.rank_all(limit=limit)
    for publication_id in sorted(lists):
        store_related(publication_id, lists[publication_id])
    return len(lists)


def store_related(publication_id: int, matches: list[related.Match]) -> None:
    """Replace one publication's stored related list."""
    touch([publication_id])
    db.session.execute(
        delete(RelatedPublication).where(RelatedPublication.publication_id == publication_id)
    )
    db.session.add_all(
        RelatedPublication(
            publication_id=publication_id,
            position=i,
            related_id=m.related_id,
            score=m.score,
            pinned=m.pinned,
            shared_topics=list(m.shared_topics),
            shared_types=list(m.shared_types),
            terms=list(m.terms),
        )
        for i, m in enumerate(matches)
    )
