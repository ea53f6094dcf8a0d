"""Stored related lists follow a change of one publication, reading only candidates from
the term index, and agree with a recompute of the whole collection."""

from __future__ import annotations

import datetime
import random

import pytest
from flask import Flask

from discussion.extensions import db
from discussion.models import (
    Publication,
    PublicationState,
    PublicationTerm,
    RelatedPublication,
    TermFrequency,
)
from discussion.publications import content, related, terms

VOCABULARY = {
    "talks": "oman negotiators sanctions relief muscat envoy enrichment uranium deal",
    "water": "nile dam basin irrigation drought rainfall reservoir farmers treaty",
    "vote": "ballot election turnout polling candidates parliament coalition campaign",
    "health": "vaccine clinic outbreak malaria nurses hospital supplies cholera",
}
TOPICS = ["Global Policy", "Economics", "Democracy", "Health", "Violent Extremism"]


def make_collection(
    rng: random.Random, size: int = 40, *, distinct_days: bool = False
) -> list[Publication]:
    made = []
    for n in range(size):
        cluster = rng.choice(sorted(VOCABULARY))
        words = VOCABULARY[cluster].split()
        text = " ".join(rng.choice(words) for _ in range(rng.randrange(8, 30)))
        bridge = rng.choice(VOCABULARY[rng.choice(sorted(VOCABULARY))].split())
        record = {
            "slug": f"story-{n}",
            "title": f"{cluster} {rng.choice(words)} {rng.choice(words)}",
            "summary": "",
            "body": [f"{text} {bridge}"],
            "published": f"2024-{rng.randrange(1, 13):02d}-{rng.randrange(1, 28):02d}",
            "types": [rng.choice(["Analysis", "Article"])],
            "topics": rng.sample(TOPICS, rng.choice((1, 1, 2))),
        }
        if distinct_days:
            record["published"] = (datetime.date(2020, 1, 1) + datetime.timedelta(n)).isoformat()
        publication, _ = content.upsert(record)
        made.append(publication)
    db.session.flush()
    related.refresh_all()
    db.session.commit()
    return made


def stored(publication_id: int) -> list[tuple[int, float]]:
    return [
        (e.related_id, e.score)
        for e in related.entries(db.session.get(Publication, publication_id), public_only=False)
    ]


def full_recompute(limit: int) -> dict[int, list[tuple[int, float]]]:
    return {
        owner: [(m.related_id, m.score) for m in matches]
        for owner, matches in related.corpus().rank_all(limit=limit).items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_a_change_gives_the_lists_a_full_recompute_would(app: Flask, seed: int) -> None:
    rng = random.Random(seed)
    made = make_collection(rng)
    limit = app.config["RELATED_LIMIT"]
    for _ in range(6):
        changed = rng.choice(made)
        other = rng.choice(made)
        changed.title = f"{other.title} revisited"
        changed.body_source = other.body_source + " " + changed.body_source
        changed.topics = list(other.topics)
        db.session.flush()
        related.refresh_for(changed)
        db.session.commit()
        expected = full_recompute(limit)
        assert stored(changed.id) == expected[changed.id]
        for owner, matches in expected.items():  # every list it belongs to, and no other
            expected_in = changed.id in [r for r, _ in matches]
            actual_in = changed.id in [r for r, _ in stored(owner)]
            assert actual_in == expected_in, (owner, matches, stored(owner))


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_full_refresh_gives_every_list_a_save_would(
    app: Flask, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # A large archive's refresh, with few candidates, so that the candidate rule decides.
    monkeypatch.setattr(related, "EXHAUSTIVE_UP_TO", 10)
    monkeypatch.setattr(terms, "QUERY_TERMS", 2)
    monkeypatch.setattr(terms, "POSTINGS_PER_TERM", 3)
    monkeypatch.setattr(terms, "CANDIDATES", 6)
    made = make_collection(random.Random(seed), size=60, distinct_days=True)
    limit = app.config["RELATED_LIMIT"]
    size = terms.size()
    for publication in made:
        ranked, _ = related._rank(publication.id, limit, size)
        assert stored(publication.id) == [(m.related_id, m.score) for m in ranked]
    # The rule matters here: some list differs from ranking the whole collection.
    exhaustive = full_recompute(limit)
    assert any(stored(p.id) != exhaustive[p.id] for p in made)


def test_a_small_archives_full_refresh_compares_every_pair(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terms, "QUERY_TERMS", 2)  # a save's rule would differ here
    monkeypatch.setattr(terms, "POSTINGS_PER_TERM", 3)
    monkeypatch.setattr(terms, "CANDIDATES", 6)
    made = make_collection(random.Random(3), size=60, distinct_days=True)
    related.refresh_all()
    exhaustive = full_recompute(app.config["RELATED_LIMIT"])
    assert all(stored(p.id) == exhaustive[p.id] for p in made)


def test_a_full_refresh_in_small_batches_stores_every_list(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = make_collection(random.Random(4), size=30)
    expected = full_recompute(app.config["RELATED_LIMIT"])
    db.session.execute(db.delete(RelatedPublication))
    monkeypatch.setattr(related, "CORPUS_BATCH", 7)  # the model read in five batches
    monkeypatch.setattr(related, "STORE_BATCH", 4)  # lists written in eight
    assert related.refresh_all() == len(made)
    db.session.commit()
    assert {p.id: stored(p.id) for p in made} == expected
    assert any(expected.values())


def test_unpublishing_leaves_every_list(app: Flask) -> None:
    made = make_collection(random.Random(7))
    listed = next(p for p in made if any(changed_in(p.id, q.id) for q in made))
    listed.state = PublicationState.UNPUBLISHED
    db.session.flush()
    related.refresh_for(listed)
    db.session.commit()
    assert not any(changed_in(listed.id, q.id) for q in made)


def changed_in(publication_id: int, owner_id: int) -> bool:
    return publication_id in [r for r, _ in stored(owner_id)]


def test_the_index_counts_documents_per_term(app: Flask) -> None:
    made = make_collection(random.Random(5), size=12)
    rows = db.session.execute(db.select(PublicationTerm.term, PublicationTerm.publication_id)).all()
    expected: dict[str, int] = {}
    for term, _ in rows:
        expected[term] = expected.get(term, 0) + 1
    frequencies = dict(
        db.session.execute(db.select(TermFrequency.term, TermFrequency.documents)).all()
    )
    assert frequencies == expected
    made[0].body_source = "entirely new words zebra quokka"
    made[0].title = "zebra"
    db.session.flush()
    terms.index(made[0])
    db.session.commit()
    rows = db.session.execute(db.select(PublicationTerm.term)).scalars().all()
    recount: dict[str, int] = {}
    for term in rows:
        recount[term] = recount.get(term, 0) + 1
    frequencies = {
        t: n
        for t, n in db.session.execute(db.select(TermFrequency.term, TermFrequency.documents))
        if n
    }
    assert frequencies == recount
