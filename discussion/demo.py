"""Synthetic content at scale, for benchmarks and trying the moderation tools.

Publications get titles, summaries and bodies from a small vocabulary, USIP-like types
and topics, and dates over ten years. A few publications with fixed slugs carry a
known number of approved comments (``demo-comments-0``, ``-20``, ``-200``, ``-2000``);
the remaining comments are spread over the rest in every moderation state.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text

from .comments import sanitizer
from .comments.posting import body_hash
from .discovery import fulltext
from .extensions import db
from .models import (
    Comment,
    CommentState,
    Publication,
    PublicationState,
    PublicationType,
    Topic,
    publication_topics,
    publication_types,
    utcnow,
)
from .moderation import queue
from .publications.seeds import slugify

TYPES = ["Analysis", "Question and Answer", "Article", "Report", "Fact Sheet", "Event"]
TOPICS = [
    "Conflict Analysis & Prevention",
    "Global Policy",
    "Violent Extremism",
    "Democracy & Governance",
    "Economics & Environment",
    "Gender",
    "Human Rights",
    "Justice, Security & Rule of Law",
    "Mediation, Negotiation & Dialogue",
    "Peace Processes",
    "Reconciliation",
    "Youth",
]
WORDS = [
    "iran",
    "iraq",
    "syria",
    "yemen",
    "afghanistan",
    "pakistan",
    "sanctions",
    "talks",
    "ceasefire",
    "coalition",
    "militia",
    "election",
    "parliament",
    "diplomacy",
    "envoy",
    "treaty",
    "border",
    "refugees",
    "humanitarian",
    "aid",
    "reconstruction",
    "security",
    "forces",
    "insurgents",
    "negotiation",
    "mediation",
    "dialogue",
    "governance",
    "corruption",
    "economy",
    "oil",
    "water",
    "climate",
    "drought",
    "migration",
    "women",
    "youth",
    "justice",
    "reconciliation",
    "tribunal",
    "protest",
    "reform",
    "constitution",
    "minister",
    "president",
    "leader",
    "strategy",
    "escalation",
    "deterrence",
    "missile",
    "drone",
    "regional",
    "tensions",
    "alliance",
    "summit",
    "agreement",
    "monitoring",
    "violence",
    "extremism",
    "recruitment",
    "community",
    "resilience",
    "peacebuilding",
    "development",
    "investment",
    "trade",
]
SHOWCASE = (0, 20, 200, 2000)  # approved comments on demo-comments-N
BATCH = 2000


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def _batches(rows: Iterator[dict], size: int = BATCH) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _named(model: type[PublicationType] | type[Topic], names: list[str]) -> list[int]:
    ids = []
    for name in names:
        found = db.session.scalar(select(model).filter_by(name=name))
        if found is None:
            found = model(name=name, slug=slugify(name))
            db.session.add(found)
            db.session.flush()
        ids.append(found.id)
    return ids


def generate(
    publications: int, comments: int, *, seed: int = 1, progress: Callable[[int], None] = id
) -> None:
    """Add ``publications`` and ``comments`` (bulk inserts, flushed per batch)."""
    rng = random.Random(seed)
    type_ids, topic_ids = _named(PublicationType, TYPES), _named(Topic, TOPICS)
    first_id = (db.session.scalar(select(func.max(Publication.id))) or 0) + 1
    start = datetime(2016, 1, 1, 9, 0, tzinfo=UTC)
    slugs = {i: f"demo-comments-{n}" for i, n in enumerate(SHOWCASE) if i < publications}

    def publication_rows() -> Iterator[dict]:
        for i in range(publications):
            title = " ".join(rng.choice(WORDS) for _ in range(6)).title()
            yield {
                "id": first_id + i,
                "slug": slugs.get(i, f"demo-{first_id + i}"),
                "title": title,
                "dek": _sentence(rng, 18),
                "summary": _sentence(rng, 30),
                "body_source": (body := "\n\n".join(_sentence(rng, 40) for _ in range(3))),
                "body_html": "".join(f"<p>{p}</p>\n" for p in body.split("\n\n")),
                "state": PublicationState.PUBLISHED,
                "published_at": start + timedelta(days=rng.randrange(3650)),
                "comments_open": True,
                "cache_version": 0,
                "updated_at": utcnow(),
            }

    for batch in _batches(publication_rows()):
        db.session.execute(insert(Publication), batch)
        db.session.execute(
            insert(publication_types),
            [
                {"publication_id": row["id"], "type_id": t}
                for row in batch
                for t in rng.sample(type_ids, rng.choice((1, 1, 2)))
            ],
        )
        db.session.execute(
            insert(publication_topics),
            [
                {"publication_id": row["id"], "topic_id": t}
                for row in batch
                for t in rng.sample(topic_ids, rng.choice((1, 2, 3)))
            ],
        )
        fulltext.reindex(db.session.connection(), [row["id"] for row in batch])
        progress(len(batch))

    showcase_total = sum(n for i, n in enumerate(SHOWCASE) if i < publications)
    rest = max(comments - showcase_total, 0)
    states = (
        [CommentState.PENDING] * 5
        + [CommentState.APPROVED] * 3
        + [CommentState.REJECTED, CommentState.SPAM]
    )
    # A pool of texts, each rendered once by the sanitizer, drawn from at random.
    pool = [_sentence(rng, rng.randrange(8, 60)) for _ in range(min(comments, 2000) or 1)]
    rendered = [(text, sanitizer.render(text), body_hash(text)) for text in pool]
    now = utcnow()

    def comment_rows() -> Iterator[dict]:
        n = 0
        plan = [
            (first_id + i, count, CommentState.APPROVED)
            for i, count in enumerate(SHOWCASE)
            if i < publications
        ]
        others = list(range(first_id + len(SHOWCASE), first_id + publications)) or [first_id]
        plan += [(rng.choice(others), 1, rng.choice(states)) for _ in range(rest)]
        for publication_id, count, state in plan:
            for _ in range(count):
                n += 1
                text, html, text_hash = rng.choice(rendered)
                yield {
                    "publication_id": publication_id,
                    "name": f"Reader {rng.randrange(5000)}",
                    "email": f"reader{rng.randrange(5000)}@example.org",
                    "body_text": text,
                    "body_html": html,
                    "body_hash": text_hash,
                    "sanitizer_version": sanitizer.SANITIZER_VERSION,
                    "state": state,
                    "created_at": now - timedelta(minutes=comments - n),
                    "open_reports": 0,
                    "hidden": False,
                }

    for batch in _batches(comment_rows()):
        db.session.execute(insert(Comment), batch)
        progress(len(batch))
    if db.engine.dialect.name == "postgresql":
        # The publications were given their ids: move the id sequence past them, or the
        # next publication an editor creates would take an id that is already used.
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('publications', 'id'), "
                "(SELECT max(id) FROM publications))"
            )
        )


def analyze() -> None:
    """After a bulk load: planner statistics (and PostgreSQL's visibility map, which
    index-only counts need), as autovacuum would eventually provide."""
    engine = db.engine
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(statement)
    queue.compact_tallies()
