"""Stored related lists: computed from the ranking when content changes, read by pages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask import current_app
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (
    Exclusion,
    Moderator,
    Pin,
    Publication,
    PublicationState,
    PublicationType,
    RelatedPublication,
    Topic,
    publication_topics,
    publication_types,
    utcnow,
)
from . import ranking, terms
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
    limit = current_app.config["RELATED_LIMIT"]
    store(publication.id, _rank(publication.id, limit, terms.size())[0])


def _doc(publication: Publication, pins: tuple[int, ...], excluded: frozenset[int]) -> ranking.Doc:
    """A publication as the ranking sees it: its term counts, not its text."""
    return ranking.Doc(
        id=publication.id,
        title=publication.title,
        text="",
        counts=ranking.term_counts(publication.title, terms.text_of(publication)),
        types=frozenset(t.name for t in publication.types),
        topics=frozenset(t.name for t in publication.topics),
        published=publication.published,
        pins=pins,
        excluded=excluded,
        listable=publication.state is PublicationState.PUBLISHED,
    )


def _pins_and_exclusions(
    ids: list[int] | None = None,
) -> tuple[dict[int, list[int]], dict[int, set[int]]]:
    pin_query = select(Pin).order_by(Pin.publication_id, Pin.position)
    exclusion_query = select(Exclusion.publication_id, Exclusion.excluded_id)
    if ids is not None:
        pin_query = pin_query.where(Pin.publication_id.in_(ids))
        exclusion_query = exclusion_query.where(Exclusion.publication_id.in_(ids))
    pins: dict[int, list[int]] = {}
    for pin in db.session.scalars(pin_query):
        pins.setdefault(pin.publication_id, []).append(pin.related_id)
    excluded: dict[int, set[int]] = {}
    for publication_id, excluded_id in db.session.execute(exclusion_query):
        excluded.setdefault(publication_id, set()).add(excluded_id)
    return pins, excluded


def corpus() -> ranking.Corpus:
    """The ranking model over every publication, with editors' pins and exclusions.

    Publications are read ``CORPUS_BATCH`` at a time and only their term counts are kept,
    so memory holds the model, not the collection's text and rows."""
    pins, excluded = _pins_and_exclusions()
    publications = db.session.scalars(
        select(Publication)
        .options(selectinload(Publication.types), selectinload(Publication.topics))
        .order_by(Publication.id)
        .execution_options(yield_per=CORPUS_BATCH)
    )
    return ranking.Corpus(
        _doc(p, tuple(pins.get(p.id, ())), frozenset(excluded.get(p.id, ()))) for p in publications
    )


def refresh_all(limit: int | None = None) -> int:
    """Rebuild the term index and recompute every stored related list (``RELATED_LIMIT``
    entries each); returns how many lists.

    Up to ``EXHAUSTIVE_UP_TO`` publications every pair is compared: the best lists there
    are (35 s at 10,000). Beyond, each list is ranked from the candidates the term index
    gives it, scored exactly, by the same rule a save follows (:func:`refresh_for`), in
    time linear in the collection's size (all pairs did not finish at 100,000).
    """
    limit = limit or current_app.config["RELATED_LIMIT"]
    model = corpus()
    terms.rebuild(model)
    ranked: Iterable[tuple[int, list[ranking.Match]]]
    if len(model.ids()) <= EXHAUSTIVE_UP_TO:
        ranked = ((i, model.rank(i, limit)) for i in model.ids())
    else:
        published_at = dict(
            db.session.execute(select(Publication.id, Publication.published_at)).all()
        )
        ranked = (
            (i, model.rank(i, limit, among=found))
            for i, found in terms.candidates_of_all(model, published_at)
        )
    # Lists are ranked and written a batch at a time: the whole collection's lists never
    # wait in memory together (13,000 lists stored at once took 80 MB).
    count, batch = 0, {}
    for publication_id, matches in ranked:
        batch[publication_id] = matches
        if len(batch) >= STORE_BATCH:
            store_many(batch)
            count, batch = count + len(batch), {}
    store_many(batch)
    return count + len(batch)


CORPUS_BATCH = 500  # publications read at a time to build the ranking model
STORE_BATCH = 500  # lists written at a time by a full refresh
EXHAUSTIVE_UP_TO = 20_000  # publications a full refresh compares pair by pair


def _indexed_docs(ids: set[int]) -> dict[int, ranking.Doc]:
    """Publications as the ranking sees them, from the term index (no text read)."""
    id_list = sorted(ids)
    rows = db.session.execute(
        select(
            Publication.id, Publication.title, Publication.published_at, Publication.state
        ).where(Publication.id.in_(id_list))
    ).all()
    labels: dict[int, dict[str, set[str]]] = {i: {"topics": set(), "types": set()} for i in ids}
    for kind, table, model in (
        ("topics", publication_topics, Topic),
        ("types", publication_types, PublicationType),
    ):
        key = table.c.topic_id if kind == "topics" else table.c.type_id
        for publication_id, name in db.session.execute(
            select(table.c.publication_id, model.name)
            .join(model, model.id == key)
            .where(table.c.publication_id.in_(id_list))
        ):
            labels[publication_id][kind].add(name)
    pins, excluded = _pins_and_exclusions(id_list)
    counts = terms.counts_of(ids)
    return {
        publication_id: ranking.Doc(
            id=publication_id,
            title=title,
            text="",
            types=frozenset(labels[publication_id]["types"]),
            topics=frozenset(labels[publication_id]["topics"]),
            published=(published_at or utcnow()).date(),
            pins=tuple(pins.get(publication_id, ())),
            excluded=frozenset(excluded.get(publication_id, ())),
            listable=state is PublicationState.PUBLISHED,
            counts=counts[publication_id],
        )
        for publication_id, title, published_at, state in rows
    }


def _rank(publication_id: int, limit: int, size: int) -> tuple[list[ranking.Match], ranking.Corpus]:
    """One publication's list, from its candidates in the term index, scored exactly as
    the whole collection would score them."""
    lists, model = _rank_many([publication_id], limit, size)
    return lists[publication_id], model


def _rank_many(
    owners: Iterable[int], limit: int, size: int
) -> tuple[dict[int, list[ranking.Match]], ranking.Corpus]:
    """Several publications' lists, each from its own candidates, with one round of
    queries for all of them; also the model they were scored with."""
    owner_ids = sorted(set(owners))
    own = _indexed_docs(set(owner_ids))
    df = terms.frequencies(set().union(*(d.counts or {} for d in own.values())))
    labels: dict[int, tuple[set[int], set[int]]] = {o: (set(), set()) for o in owner_ids}
    for place, table, column in (
        (0, publication_topics, publication_topics.c.topic_id),
        (1, publication_types, publication_types.c.type_id),
    ):
        for owner, label in db.session.execute(
            select(table.c.publication_id, column).where(table.c.publication_id.in_(owner_ids))
        ):
            labels[owner][place].add(label)
    found = terms.candidates_many(
        {
            o: terms.Query(
                terms.weigh(own[o].counts or {}, df, size),
                frozenset(labels[o][0]),
                frozenset(labels[o][1]),
            )
            for o in owner_ids
        }
    )
    wanted = set(owner_ids).union(*found.values(), *(own[o].pins for o in owner_ids))
    docs = _indexed_docs(wanted)
    vocabulary = set().union(*(d.counts or {} for d in docs.values()))
    model = ranking.Corpus(docs.values(), df=terms.frequencies(vocabulary), size=size)
    return {o: model.rank(o, limit, among=found[o]) for o in owner_ids}, model


# Stored scores drift as term weights shift with every change; a place decided by less
# than this (a hundredth of the text's weight) is decided by a recompute instead.
DRIFT_MARGIN = 0.05


def refresh_for(publication: Publication, limit: int | None = None) -> int:
    """After a publication's content or state changed: index its terms, recompute its own
    list, and bring every list it is in or now enters up to date.

    Reads only candidates from the term index, not the whole collection, and scores them
    as the whole collection would. Only this publication changed, so another list is
    updated in place with its new score: it enters, moves or stays; a list it leaves, or
    where its score fell (something else may now rank above it), is recomputed. Other
    lists drift slightly as term weights shift everywhere; that is left to
    :func:`refresh_all` (``refresh-related``). Returns how many lists were rewritten.
    """
    limit = limit or current_app.config["RELATED_LIMIT"]
    terms.index(publication)
    db.session.flush()
    size = terms.size()
    ranked, model = _rank(publication.id, limit, size)
    store(publication.id, ranked)
    listable = publication.state is PublicationState.PUBLISHED
    lists = _stored_lists(
        set(
            db.session.scalars(
                select(RelatedPublication.publication_id).where(
                    RelatedPublication.related_id == publication.id
                )
            )
        )
        | (set(model.ids()) if listable else set())
    )
    lists.pop(publication.id, None)
    rewritten = 1
    recompute: list[int] = []
    for owner, entries in sorted(lists.items()):
        shown = next((e for e in entries if e.related_id == publication.id), None)
        if shown is not None and shown.pinned:
            continue  # an editor's pin stays where it is
        if not listable:
            if shown is not None:
                recompute.append(owner)
            continue
        match = _pair(owner, publication.id, model, size)
        last = min((e.score for e in entries if not e.pinned), default=None)
        full = len(entries) >= limit
        if shown is None and full and last is not None and match.score <= last - DRIFT_MARGIN:
            continue  # it stays out of this list
        close = last is not None and abs(match.score - last) < DRIFT_MARGIN
        if (shown is not None and match.score < shown.score) or close:
            # Something else may now rank above it, or the call is too close for the
            # stored scores (which drift) to make: recompute this list.
            recompute.append(owner)
        elif _merge(owner, entries, match, limit):
            rewritten += 1
    for start in range(0, len(recompute), STORE_BATCH):
        store_many(_rank_many(recompute[start : start + STORE_BATCH], limit, size)[0])
    return rewritten + len(recompute)


def _stored_lists(owners: set[int]) -> dict[int, list[RelatedPublication]]:
    found: dict[int, list[RelatedPublication]] = {owner: [] for owner in owners}
    if owners:
        for entry in db.session.scalars(
            select(RelatedPublication)
            .options(joinedload(RelatedPublication.related).load_only(Publication.published_at))
            .where(RelatedPublication.publication_id.in_(sorted(owners)))
            .order_by(RelatedPublication.publication_id, RelatedPublication.position)
        ):
            found[entry.publication_id].append(entry)
    return found


def _pair(owner: int, publication_id: int, model: ranking.Corpus, size: int) -> ranking.Match:
    """How the changed publication scores in another's list (scores are symmetric, so its
    own model knows its candidates; anything else is scored on its own)."""
    if owner in model.ids():
        return model.pair(owner, publication_id)
    docs = _indexed_docs({owner, publication_id})
    vocabulary = set().union(*(d.counts or {} for d in docs.values()))
    small = ranking.Corpus(docs.values(), df=terms.frequencies(vocabulary), size=size)
    return small.pair(owner, publication_id)


def _merge(owner: int, entries: list[RelatedPublication], match: ranking.Match, limit: int) -> bool:
    """Put the changed publication where its score puts it in another's list, in the
    ranking's order (pins first, then score, newer, lower id); False when the list stays
    as it is."""
    excluded = db.session.scalar(
        select(Exclusion.excluded_id).where(
            Exclusion.publication_id == owner, Exclusion.excluded_id == match.related_id
        )
    )
    pins = [_as_match(e) for e in entries if e.pinned]
    others = [_as_match(e) for e in entries if not e.pinned and e.related_id != match.related_id]
    published = {e.related_id: e.related.published_at for e in entries}
    published[match.related_id] = db.session.scalar(
        select(Publication.published_at).where(Publication.id == match.related_id)
    )
    if match.score > 0 and excluded is None:
        others.append(match)
    others.sort(key=lambda m: (-m.score, -_ordinal(published.get(m.related_id)), m.related_id))
    merged = (pins + others)[:limit]
    if [(m.related_id, m.score) for m in merged] == [(e.related_id, e.score) for e in entries]:
        return False
    store(owner, merged)
    return True


def _ordinal(value: object) -> int:
    return value.date().toordinal() if value is not None else 0  # type: ignore[attr-defined]


def _as_match(entry: RelatedPublication) -> ranking.Match:
    return ranking.Match(
        related_id=entry.related_id,
        score=entry.score,
        pinned=entry.pinned,
        shared_topics=tuple(entry.shared_topics),
        shared_types=tuple(entry.shared_types),
        terms=tuple(entry.terms),
    )


def store(publication_id: int, matches: list[ranking.Match]) -> None:
    """Replace one publication's stored related list."""
    store_many({publication_id: matches})


def store_many(lists: Mapping[int, list[ranking.Match]]) -> None:
    """Replace several publications' stored related lists (one statement of each kind)."""
    owners = sorted(lists)
    if not owners:
        return
    touch(owners)
    db.session.execute(
        delete(RelatedPublication).where(RelatedPublication.publication_id.in_(owners))
    )
    rows = [
        {
            "publication_id": owner,
            "position": i,
            "related_id": m.related_id,
            "score": m.score,
            "pinned": m.pinned,
            "shared_topics": list(m.shared_topics),
            "shared_types": list(m.shared_types),
            "terms": list(m.terms),
        }
        for owner in owners
        for i, m in enumerate(lists[owner])
    ]
    if rows:
        db.session.execute(insert(RelatedPublication), rows)
