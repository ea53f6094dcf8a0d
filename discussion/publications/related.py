"""Stored related lists: computed from the ranking when content changes, read by pages."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    Exclusion,
    Moderator,
    Pin,
    Publication,
    PublicationState,
    RelatedPublication,
)
from . import ranking
from .catalog import public, touch


def entries(publication: Publication, *, public_only: bool = True) -> list[RelatedPublication]:
    """The stored related list of a publication, in order, with the related cards loaded;
    for readers only publications they can see now (a scheduled one joins at its time)."""
    stmt = (
        select(RelatedPublication)
        .options(
            joinedload(RelatedPublication.related).selectinload(Publication.bylines),
            joinedload(RelatedPublication.related).selectinload(Publication.types),
            joinedload(RelatedPublication.related).selectinload(Publication.topics),
        )
        .where(RelatedPublication.publication_id == publication.id)
        .order_by(RelatedPublication.position)
    )
    if public_only:
        stmt = stmt.join(Publication, Publication.id == RelatedPublication.related_id).where(
            public()
        )
    return list(db.session.scalars(stmt))


def excluded(publication: Publication) -> list[Publication]:
    """The publications an editor excluded from this one's list."""
    return list(
        db.session.scalars(
            select(Publication)
            .join(Exclusion, Exclusion.excluded_id == Publication.id)
            .where(Exclusion.publication_id == publication.id)
            .order_by(Publication.title)
        )
    )


def steer(publication: Publication, related_id: int, change: str, editor: Moderator) -> None:
    """An editor pins, unpins, excludes or includes a related publication; the list is
    recomputed at once, and pins and exclusions stay through every recompute."""
    if not editor.can_edit:
        raise PermissionError("Only editors steer related lists.")
    if related_id == publication.id:
        return
    pins = list(
        db.session.scalars(
            select(Pin.related_id).filter_by(publication_id=publication.id).order_by(Pin.position)
        )
    )
    if change in ("pin", "unpin", "exclude"):
        pins = [p for p in pins if p != related_id]
    if change == "pin":
        pins.append(related_id)
    db.session.execute(delete(Pin).where(Pin.publication_id == publication.id))
    db.session.flush()
    db.session.add_all(
        Pin(publication_id=publication.id, position=i, related_id=r) for i, r in enumerate(pins)
    )
    db.session.execute(
        delete(Exclusion).where(
            Exclusion.publication_id == publication.id, Exclusion.excluded_id == related_id
        )
    )
    if change == "exclude":
        db.session.add(Exclusion(publication_id=publication.id, excluded_id=related_id))
    db.session.flush()
    model = corpus()
    store(publication.id, model.rank(publication.id, limit=current_app.config["RELATED_LIMIT"]))


def _doc(publication: Publication, pins: tuple[int, ...], excluded: frozenset[int]) -> ranking.Doc:
    text = "\n".join([publication.dek or "", publication.summary, publication.body_source])
    return ranking.Doc(
        id=publication.id,
        title=publication.title,
        text=text,
        types=frozenset(t.name for t in publication.types),
        topics=frozenset(t.name for t in publication.topics),
        published=publication.published,
        pins=pins,
        excluded=excluded,
        listable=publication.state is PublicationState.PUBLISHED,
    )


def corpus() -> ranking.Corpus:
    """The ranking model over every publication, with editors' pins and exclusions."""
    pins: dict[int, list[int]] = {}
    for pin in db.session.scalars(select(Pin).order_by(Pin.publication_id, Pin.position)):
        pins.setdefault(pin.publication_id, []).append(pin.related_id)
    excluded: dict[int, set[int]] = {}
    for publication_id, excluded_id in db.session.execute(
        select(Exclusion.publication_id, Exclusion.excluded_id)
    ):
        excluded.setdefault(publication_id, set()).add(excluded_id)
    publications = db.session.scalars(
        select(Publication).options(
            selectinload(Publication.types), selectinload(Publication.topics)
        )
    )
    return ranking.Corpus(
        _doc(p, tuple(pins.get(p.id, ())), frozenset(excluded.get(p.id, ()))) for p in publications
    )


NEIGHBOURS = 50  # a changed publication's closest publications whose lists are recomputed


def refresh_for(publication_id: int, limit: int | None = None) -> int:
    """Recompute the stored lists a change of this publication can touch: its own, the
    lists that show it now, and those of its closest publications (similarity is
    symmetric, so those are the lists it can enter). A change also shifts term weights
    slightly everywhere; that drift is left to :func:`refresh_all` (``refresh-related``).
    Returns how many lists were rewritten."""
    limit = limit or current_app.config["RELATED_LIMIT"]
    model = corpus()
    targets = {publication_id}
    targets.update(
        db.session.scalars(
            select(RelatedPublication.publication_id).where(
                RelatedPublication.related_id == publication_id
            )
        )
    )
    targets.update(m.related_id for m in model.rank(publication_id, limit=NEIGHBOURS))
    for target in sorted(targets):
        store(target, model.rank(target, limit=limit))
    return len(targets)


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
