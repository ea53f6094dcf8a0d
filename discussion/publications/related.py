"""Stored related lists: computed from the ranking when content changes, read by pages."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Pin, Publication, RelatedPublication
from . import ranking
from .catalog import CARD_LOADING, touch


def entries(publication: Publication) -> list[RelatedPublication]:
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


def _doc(publication: Publication, pins: tuple[int, ...]) -> ranking.Doc:
    text = "\n".join([publication.dek or "", publication.summary, *publication.body])
    return ranking.Doc(
        id=publication.id,
        title=publication.title,
        text=text,
        types=frozenset(t.name for t in publication.types),
        topics=frozenset(t.name for t in publication.topics),
        published=publication.published,
        pins=pins,
    )


def corpus() -> ranking.Corpus:
    """The ranking model over every publication."""
    pins: dict[int, list[int]] = {}
    for pin in db.session.scalars(select(Pin).order_by(Pin.publication_id, Pin.position)):
        pins.setdefault(pin.publication_id, []).append(pin.related_id)
    publications = db.session.scalars(select(Publication).options(*CARD_LOADING))
    return ranking.Corpus(_doc(p, tuple(pins.get(p.id, ()))) for p in publications)


def refresh_all(limit: int | None = None) -> int:
    """Recompute every stored related list (``RELATED_LIMIT`` entries each); returns how many."""
    model = corpus()
    lists = model.rank_all(limit=limit or current_app.config["RELATED_LIMIT"])
    for publication_id in sorted(lists):
        store(publication_id, lists[publication_id])
    return len(lists)


def store(publication_id: int, matches: list[ranking.Match]) -> None:
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
