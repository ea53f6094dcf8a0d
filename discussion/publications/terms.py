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

from sqlalchemy import bindparam, case, func, select, union, update
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
    """The publications most likely to rank highest for this one, best first.

    Reads, for each of its heaviest terms, only the publications where that term weighs
    most (an index on term and weight), and the publications sharing the most topics;
    orders them by an approximate score (indexed weights, shared topics and types).
    """
    heaviest = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:QUERY_TERMS]
    query = dict(heaviest)
    found: set[int] = set()
    if heaviest:
        per_term = [
            select(PublicationTerm.publication_id)
            .where(PublicationTerm.term == term)
            .order_by(PublicationTerm.weight.desc())
            .limit(POSTINGS_PER_TERM)
            .subquery()
            for term in query
        ]
        found.update(_connection().scalars(union(*(select(q.c.publication_id) for q in per_term))))
    topic_list, type_list = list(topic_ids), list(type_ids)
    if topic_list:
        shared = func.count()
        found.update(
            _connection().scalars(
                select(publication_topics.c.publication_id)
                .join(Publication, Publication.id == publication_topics.c.publication_id)
                .where(publication_topics.c.topic_id.in_(topic_list))
                .group_by(publication_topics.c.publication_id, Publication.published_at)
                .order_by(shared.desc(), Publication.published_at.desc())
                .limit(CANDIDATES)
            )
        )
    found.discard(publication_id)
    if not found:
        return []
    ids = sorted(found)
    approx = dict.fromkeys(ids, 0.0)
    if query:
        dot = func.sum(PublicationTerm.weight * case(query, value=PublicationTerm.term, else_=0.0))
        for owner, value in _connection().execute(
            select(PublicationTerm.publication_id, dot)
            .where(
                PublicationTerm.publication_id.in_(bindparam("ids", expanding=True)),
                PublicationTerm.term.in_(bindparam("terms", expanding=True)),
            )
            .group_by(PublicationTerm.publication_id),
            {"ids": ids, "terms": sorted(query)},
        ):
            approx[owner] += ranking.W_TEXT * value
    for table, column, wanted, weight in (
        (publication_topics, publication_topics.c.topic_id, topic_list, ranking.W_TOPIC),
        (publication_types, publication_types.c.type_id, type_list, ranking.W_TYPE),
    ):
        if wanted:
            for owner, n in _connection().execute(
                select(table.c.publication_id, func.count())
                .where(
                    table.c.publication_id.in_(bindparam("ids", expanding=True)),
                    column.in_(wanted),
                )
                .group_by(table.c.publication_id),
                {"ids": ids},
            ):
                approx[owner] += weight * n
    listed = set(
        _connection().scalars(
            select(Publication.id).where(
                Publication.id.in_(bindparam("ids", expanding=True)),
                Publication.state == PublicationState.PUBLISHED,
            ),
            {"ids": ids},
        )
    )
    return sorted((i for i in ids if i in listed), key=lambda i: (-approx[i], i))[:CANDIDATES]


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
