"""Writing publications: the seed import (create or update from records), publications
brought from other systems (imports), and pins."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select

from ..comments import sanitizer
from ..extensions import db
from ..models import (
    Author,
    Byline,
    Pin,
    Publication,
    PublicationState,
    PublicationType,
    SlugRedirect,
    Topic,
)
from ..web import clock
from . import related, seeds
from .catalog import stored_by_slug

_INLINE = re.compile(r"([\\`*_\[\]<>!&|~])")
_MARKER = re.compile(r"^(\s*)(?:([#>+\-=])|(\d+)([.)]))")


def markdown_of(paragraph: str) -> str:
    """A plain paragraph (a seed's, an import's) as Markdown that renders to the same text."""
    text = _INLINE.sub(r"\\\1", " ".join(paragraph.split("\n")))
    return _MARKER.sub(
        lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"),
        text,
    )


def named(model: type[PublicationType] | type[Topic], name: str) -> Any:
    """The type or topic with this name (in any case), created when new."""
    found = db.session.scalar(select(model).where(func.lower(model.name) == name.lower()))
    if found is None:
        found = model(name=name, slug=free_slug(model, name))
        db.session.add(found)
    return found


def free_slug(model: type[Author] | type[PublicationType] | type[Topic], name: str) -> str:
    """A slug made from a name that no other row of this kind has (``-2``, ``-3``… added)."""
    base = seeds.slugify(name)[:100] or model.__tablename__.rstrip("s")
    taken = set(
        db.session.scalars(
            select(model.slug).where((model.slug == base) | model.slug.startswith(f"{base}-"))
        )
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def author(name: str, bio: str | None = None) -> Author:
    """The author with this name, created when new; a given bio replaces theirs."""
    author = db.session.scalar(select(Author).filter_by(name=name))
    if author is None:
        author = Author(name=name, slug=free_slug(Author, name))
        db.session.add(author)
        db.session.flush()  # the next new author sees this slug taken
    if author.bio != bio and bio is not None:
        author.bio = bio
    return author


def upsert(record: dict[str, Any]) -> tuple[Publication, bool]:
    """Create or update a publication from a seed record; returns it and whether it changed."""
    publication = stored_by_slug(record["slug"])
    created = publication is None
    if publication is None:
        publication = Publication(slug=record["slug"])
        db.session.add(publication)
    image = record.get("image") or {}
    fields = {
        "title": record["title"],
        "dek": record.get("dek"),
        "summary": record.get("summary") or "",
        "body_source": "\n\n".join(markdown_of(p) for p in record.get("body") or []),
        "state": PublicationState.PUBLISHED,
        "published_at": clock.start_of_day(date.fromisoformat(record["published"])),
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
    if changed:
        publication.body_html = sanitizer.render_article(publication.body_source)
    types = [named(PublicationType, n) for n in record.get("types", [])]
    topics = [named(Topic, n) for n in record.get("topics", [])]
    if sorted(t.name for t in publication.types) != sorted(t.name for t in types):
        publication.types = types
        changed = True
    if sorted(t.name for t in publication.topics) != sorted(t.name for t in topics):
        publication.topics = topics
        changed = True
    authors = [author(a["name"], a.get("bio")) for a in record.get("authors", [])]
    if [a.name for a in publication.authors] != [a.name for a in authors]:
        publication.bylines = [Byline(author=a, position=i) for i, a in enumerate(authors)]
        changed = True
    return publication, changed


def free_publication_slug(wanted: str, fallback: str = "publication") -> str:
    """``wanted`` made a slug, or with ``-2``, ``-3``… when a publication has it or had it."""
    limit = Publication.__table__.c.slug.type.length - 8
    base = seeds.slugify(wanted)[:limit].strip("-") or fallback
    taken = set(
        db.session.scalars(
            select(Publication.slug).where(
                (Publication.slug == base) | Publication.slug.startswith(f"{base}-")
            )
        )
    ) | set(
        db.session.scalars(
            select(SlugRedirect.slug).where(
                (SlugRedirect.slug == base) | SlugRedirect.slug.startswith(f"{base}-")
            )
        )
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def save_imported(
    source: str,
    source_id: str,
    *,
    title: str,
    slug: str,
    body: str,
    published_at: datetime,
    dek: str | None = None,
    summary: str = "",
    authors: Iterable[str] = (),
    types: Iterable[str] = (),
    topics: Iterable[str] = (),
    comments_open: bool = True,
    publication: Publication | None = None,
    dry_run: bool = False,
) -> tuple[Publication | None, list[str]]:
    """Create (or, when given, update) a published publication brought from another
    system, as the desk would store it: the body is Markdown rendered by the editor's
    allowlist, labels and authors are the shared ones. ``slug`` is a wish for a new one
    (a free one is chosen); an update keeps the address. Returns the publication (None
    for a new one in a dry run) and the fields that differ (every field when new). The
    caller refreshes related lists once the import is done, not once per publication."""
    wanted = {
        "title": title[: Publication.__table__.c.title.type.length],
        "dek": dek or None,
        "summary": summary or dek or "",
        "body_source": body,
        "published_at": published_at,
        "comments_open": comments_open,
    }
    type_names = list(dict.fromkeys(types))
    topic_names = _distinct_names(topics)
    author_names = [n for n in dict.fromkeys(authors) if n.strip()]
    if publication is None:
        changed = [*wanted, "types", "topics", "authors"]
        if dry_run:
            return None, changed
        publication = Publication(
            source=source,
            source_id=source_id,
            slug=free_publication_slug(slug or title),
            state=PublicationState.PUBLISHED,
        )
        db.session.add(publication)
    else:
        changed = [k for k, v in wanted.items() if getattr(publication, k) != v]
        if sorted(t.name for t in publication.types) != sorted(type_names):
            changed.append("types")
        if sorted(t.name.lower() for t in publication.topics) != sorted(
            n.lower() for n in topic_names
        ):
            changed.append("topics")
        if [a.name for a in publication.authors] != author_names:
            changed.append("authors")
        if dry_run or not changed:
            return publication, changed
    for key, value in wanted.items():
        setattr(publication, key, value)
    publication.body_html = sanitizer.render_article(body)
    if "types" in changed:
        publication.types = [named(PublicationType, n) for n in type_names]
    if "topics" in changed:
        publication.topics = [named(Topic, n) for n in topic_names]
    if "authors" in changed:
        publication.bylines = [
            Byline(author=author(n), position=i) for i, n in enumerate(author_names)
        ]
    db.session.flush()
    return publication, changed


def _distinct_names(names: Iterable[str]) -> list[str]:
    """Names without repeats in any case (topics are unique by name, case aside)."""
    seen: dict[str, str] = {}
    for name in names:
        name = name.strip()[:120]
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


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
    records = seeds.load_seed_data(data_file)["publications"]
    return len(records), import_records(records)


def import_records(records: list[dict[str, Any]]) -> int:
    """Import seed records (idempotent); returns how many publications changed."""
    changed_ids: set[int] = set()
    stored: dict[str, Publication] = {}
    for record in records:
        publication, changed = upsert(record)
        db.session.flush()
        stored[record["slug"]] = publication
        if changed:
            changed_ids.add(publication.id)
    for record in records:
        publication = stored[record["slug"]]
        if set_pins(publication, record.get("pins", [])):
            changed_ids.add(publication.id)
    db.session.flush()
    if changed_ids:
        related.refresh_all()
    return len(changed_ids)
