"""The term index: each publication's index terms (as the ranking tokenizes them) and the
collection's document frequencies, kept in the same transaction as every change of
content. It finds the candidates for a related list without reading every publication,
on SQLite and PostgreSQL alike (plain tables and indexes)."""

from __future__ import annotations

import datetime
import heapq
import itertools
import math
import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, union, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ..extensions import db
from ..models import (
    Publication,
    PublicationState,
    PublicationTerm,
    TermFrequency,
    publication_topics,
    publication_types,
)
from . import ranking

QUERY_TERMS = 12  # a document's heaviest terms that look for candidates
CANDIDATES = 50  # candidates scored exactly for one list
POSTINGS_PER_TERM = 40  # for each query term, the publications where it weighs most


def text_of(publication: Publication) -> str:
    """What the ranking reads of a publication besides its title."""
    return "\n".join([publication.dek or "", publication.summary or "", publication.body_source])


def index(publication: Publication) -> Counter[str]:
    """Index a publication's terms now (after its content changed); returns its counts."""
    counts = ranking.term_counts(publication.title, text_of(publication))
    old = dict(
        db.session.execute(
            select(PublicationTerm.term, PublicationTerm.count).where(
                PublicationTerm.publication_id == publication.id
            )
        ).all()
    )
    if old == dict(counts):
        return counts
    _count_documents(set(counts) - set(old), +1)
    _count_documents(set(old) - set(counts), -1)
    db.session.execute(
        PublicationTerm.__table__.delete().where(PublicationTerm.publication_id == publication.id)
    )
    weights = weigh(counts, frequencies(counts), size())
    if counts:
        db.session.execute(
            PublicationTerm.__table__.insert(),
            [
                {
                    "publication_id": publication.id,
                    "term": term,
                    "count": count,
                    "weight": weights[term],
                }
                for term, count in counts.items()
            ],
        )
    return counts


def _count_documents(terms: set[str], delta: int) -> None:
    if not terms:
        return
    if delta < 0:
        db.session.execute(
            update(TermFrequency)
            .where(TermFrequency.term.in_(sorted(terms)))
            .values(documents=TermFrequency.documents - 1)
        )
        return
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(TermFrequency).values(
        [{"term": t, "documents": 1} for t in sorted(terms)]
    )
    db.session.execute(
        insert.on_conflict_do_update(
            index_elements=[TermFrequency.term],
            set_={"documents": TermFrequency.documents + 1},
        )
    )


def frequencies(terms: Iterable[str]) -> dict[str, int]:
    """How many publications contain each term."""
    wanted = sorted(set(terms))
    if not wanted:
        return {}
    rows = db.session.execute(
        select(TermFrequency.term, TermFrequency.documents).where(
            TermFrequency.term.in_(bindparam("terms", expanding=True))
        ),
        {"terms": wanted},
    )
    return dict(rows.all())


def size() -> int:
    """How many publications the collection holds (the N of the IDF)."""
    return db.session.scalar(select(func.count()).select_from(Publication)) or 0


def weigh(counts: Mapping[str, int], df: Mapping[str, int], n: int) -> dict[str, float]:
    """Normalised TF-IDF weights, as the ranking computes them."""
    raw = {t: (1.0 + math.log(c)) * ranking.idf(max(df.get(t, 0), 1), n) for t, c in counts.items()}
    norm = math.sqrt(sum(w * w for w in raw.values())) or 1.0
    return {t: w / norm for t, w in raw.items()}


def candidates(
    publication_id: int,
    weights: Mapping[str, float],
    topic_ids: Iterable[int],
    type_ids: Iterable[int],
) -> list[int]:
    """The publications most likely to rank highest for this one, best first (see
    :func:`candidates_many`)."""
    query = Query(weights, frozenset(topic_ids), frozenset(type_ids))
    return candidates_many({publication_id: query})[publication_id]


@dataclass(frozen=True)
class Query:
    """What looks for one publication's candidates: its weights, topics and types."""

    weights: Mapping[str, float]
    topic_ids: frozenset[int]
    type_ids: frozenset[int]


def candidates_many(queries: Mapping[int, Query]) -> dict[int, list[int]]:
    """For each publication, the publications most likely to rank highest for it, best
    first; one round of queries serves them all.

    Reads, for each of its heaviest terms, only the publications where that term weighs
    most (an index on term and weight), and the publications sharing the most topics;
    orders them by an approximate score (indexed weights, shared topics and types).
    """
    heaviest = {
        owner: dict(sorted(q.weights.items(), key=lambda item: (-item[1], item[0]))[:QUERY_TERMS])
        for owner, q in queries.items()
    }
    wanted_terms = sorted(set().union(*heaviest.values()))
    postings: dict[str, set[int]] = {t: set() for t in wanted_terms}
    for start in range(0, len(wanted_terms), 50):
        per_term = [
            select(PublicationTerm.term, PublicationTerm.publication_id)
            .where(PublicationTerm.term == term)
            .order_by(PublicationTerm.weight.desc())
            .limit(POSTINGS_PER_TERM)
            .subquery()
            for term in wanted_terms[start : start + 50]
        ]
        for term, publication_id in _connection().execute(
            union(*(select(q.c.term, q.c.publication_id) for q in per_term))
        ):
            postings[term].add(publication_id)
    sharing: dict[frozenset[int], list[int]] = {}
    for topic_set in {q.topic_ids for q in queries.values() if q.topic_ids}:
        sharing[topic_set] = list(
            _connection().scalars(
                select(publication_topics.c.publication_id)
                .join(Publication, Publication.id == publication_topics.c.publication_id)
                .where(publication_topics.c.topic_id.in_(sorted(topic_set)))
                .group_by(publication_topics.c.publication_id, Publication.published_at)
                .order_by(func.count().desc(), Publication.published_at.desc())
                .limit(CANDIDATES)
            )
        )
    found: dict[int, set[int]] = {}
    for owner, q in queries.items():
        found[owner] = set().union(*(postings[t] for t in heaviest[owner]))
        found[owner].update(sharing.get(q.topic_ids, ()))
        found[owner].discard(owner)
    ids = sorted(set().union(*found.values()))
    if not ids:
        return {owner: [] for owner in queries}
    weights: dict[int, dict[str, float]] = {i: {} for i in ids}
    labels: dict[int, tuple[set[int], set[int]]] = {i: (set(), set()) for i in ids}
    listed: set[int] = set()
    for chunk in _chunks(ids):
        for owner, term, weight in _connection().execute(
            select(
                PublicationTerm.publication_id, PublicationTerm.term, PublicationTerm.weight
            ).where(
                PublicationTerm.publication_id.in_(bindparam("ids", expanding=True)),
                PublicationTerm.term.in_(bindparam("terms", expanding=True)),
            ),
            {"ids": chunk, "terms": wanted_terms},
        ):
            weights[owner][term] = weight
        for place, table, column in (
            (0, publication_topics, publication_topics.c.topic_id),
            (1, publication_types, publication_types.c.type_id),
        ):
            for owner, label in _connection().execute(
                select(table.c.publication_id, column).where(
                    table.c.publication_id.in_(bindparam("ids", expanding=True))
                ),
                {"ids": chunk},
            ):
                labels[owner][place].add(label)
        listed.update(
            _connection().scalars(
                select(Publication.id).where(
                    Publication.id.in_(bindparam("ids", expanding=True)),
                    Publication.state == PublicationState.PUBLISHED,
                ),
                {"ids": chunk},
            )
        )
    result: dict[int, list[int]] = {}
    for owner, q in queries.items():
        approx: dict[int, float] = {}
        for i in found[owner]:
            if i not in listed:
                continue
            dot = sum(w * weights[i].get(t, 0.0) for t, w in heaviest[owner].items())
            topics, types = labels[i]
            approx[i] = (
                ranking.W_TEXT * dot
                + ranking.W_TOPIC * len(q.topic_ids & topics)
                + ranking.W_TYPE * len(q.type_ids & types)
            )
        result[owner] = sorted(approx, key=lambda i: (-approx[i], i))[:CANDIDATES]
    return result


def _chunks(ids: list[int], size: int = 2000) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def candidates_of_all(
    model: ranking.Corpus, published_at: Mapping[int, datetime.datetime]
) -> Iterator[tuple[int, list[int]]]:
    """For every publication of ``model``, in id order, the candidates :func:`candidates`
    finds once the index holds ``model`` (as :func:`rebuild` leaves it): the same rule,
    read from memory instead of a few queries per publication. Where the database would
    break a tie of weights or dates in its own order, this takes the lower id."""
    ids = model.ids()
    vectors = {i: model.vector(i) for i in ids}
    heaviest: dict[str, list[tuple[float, int]]] = {}
    for i in ids:
        for term, weight in vectors[i].items():
            top = heaviest.setdefault(term, [])
            if len(top) < POSTINGS_PER_TERM:
                heapq.heappush(top, (weight, -i))
            elif (weight, -i) > top[0]:
                heapq.heapreplace(top, (weight, -i))
    postings = {term: {-neg for _, neg in top} for term, top in heaviest.items()}
    docs = {i: model.doc(i) for i in ids}
    by_topic: dict[str, list[int]] = {}
    for i in ids:
        for topic in docs[i].topics:
            by_topic.setdefault(topic, []).append(i)
    older = {i: -_timestamp(published_at.get(i)) for i in ids}  # newest first
    sharing: dict[frozenset[str], list[int]] = {}
    zeros = itertools.repeat(0.0)
    for i in ids:
        doc = docs[i]
        query = heapq.nsmallest(
            QUERY_TERMS, vectors[i].items(), key=lambda item: (-item[1], item[0])
        )
        query_terms, query_weights = [t for t, _ in query], [w for _, w in query]
        found = set().union(*(postings[t] for t in query_terms))
        if doc.topics:
            if doc.topics not in sharing:
                shared = Counter(j for t in sorted(doc.topics) for j in by_topic[t])
                sharing[doc.topics] = heapq.nsmallest(
                    CANDIDATES, shared, key=lambda j: (-shared[j], older[j], j)
                )
            found.update(sharing[doc.topics])
        found.discard(i)
        approx: dict[int, float] = {}
        for j in found:
            other = docs[j]
            if not other.listable:
                continue
            dot = sum(map(operator.mul, query_weights, map(vectors[j].get, query_terms, zeros)))
            approx[j] = (
                ranking.W_TEXT * dot
                + ranking.W_TOPIC * len(doc.topics & other.topics)
                + ranking.W_TYPE * len(doc.types & other.types)
            )
        yield i, sorted(approx, key=lambda j: (-approx[j], j))[:CANDIDATES]


def _timestamp(value: datetime.datetime | None) -> float:
    return value.timestamp() if value is not None else -math.inf


def _connection() -> Connection:
    """The session's connection, for plain reads of many rows without the ORM's work."""
    return db.session.connection()


def counts_of(publication_ids: Iterable[int]) -> dict[int, Counter[str]]:
    """Indexed term counts of several publications."""
    found: dict[int, Counter[str]] = {i: Counter() for i in publication_ids}
    if found:
        rows = db.session.execute(
            select(
                PublicationTerm.publication_id, PublicationTerm.term, PublicationTerm.count
            ).where(PublicationTerm.publication_id.in_(bindparam("ids", expanding=True))),
            {"ids": sorted(found)},
        )
        for publication_id, term, count in rows:
            found[publication_id][term] = count
    return found


REBUILD_BATCH = 5000


def rebuild(model: ranking.Corpus) -> None:
    """Index every publication afresh from a model of the whole collection."""
    db.session.execute(PublicationTerm.__table__.delete())
    db.session.execute(TermFrequency.__table__.delete())
    df: Counter[str] = Counter()
    batch: list[dict] = []
    for doc_id in model.ids():
        counts, weights = model.counts(doc_id), model.vector(doc_id)
        df.update(counts.keys())
        batch.extend(
            {"publication_id": doc_id, "term": t, "count": c, "weight": weights.get(t, 0.0)}
            for t, c in counts.items()
        )
        if len(batch) >= REBUILD_BATCH:
            db.session.execute(PublicationTerm.__table__.insert(), batch)
            batch = []
    if batch:
        db.session.execute(PublicationTerm.__table__.insert(), batch)
    rows = [{"term": t, "documents": n} for t, n in sorted(df.items())]
    for start in range(0, len(rows), REBUILD_BATCH):
        db.session.execute(TermFrequency.__table__.insert(), rows[start : start + REBUILD_BATCH])
