"""Search and listing server times at scale: ``/search`` at 100,000 publications and the
filtered publications index at 10,000, each request built through Flask in-process (the
whole view: parsing, queries, passages, template), one at a time.

    .venv/bin/python bench/search.py                                   # SQLite
    .venv/bin/python bench/search.py --database postgresql             # PostgreSQL
    .venv/bin/python bench/search.py --publications 10000 --what index # the index figure
    .venv/bin/python bench/search.py --publications 1000 --what queue  # queue search, 1M comments
    .venv/bin/python bench/search.py --what sitemap                    # the sitemap's memory

The collection is synthetic but shaped like text: words drawn by a Zipf law (exponent
1.07) from a vocabulary of the seed documents' own words followed by 30,000 made-up ones,
a title of 8 words, a dek of 25 and a body of 300. Queries, in equal numbers: one word of
middling frequency (found in 0.1-5 % of publications), two such words, a two-word phrase
taken from a publication (not two stop words), a word with a type filter, and one of the
20 commonest words that are not stop words (found in most publications: the worst case).
Prints p50, p90, p99 and max per kind and
over all. ``--what queue`` adds ``--comments`` comments (8-60 words drawn the same way,
half of them pending) and times the moderation queue's search as a signed-in moderator:
a middling word in the pending and the all tab, a common word, a whole email address.
The database is built fresh and kept (SQLite: ``discussion_search_bench.sqlite3`` in the
temporary folder; PostgreSQL: database ``discussion_search_bench`` on 127.0.0.1:5432),
except with ``--reuse``: the database the last run left is timed again as it is, so two
versions of the code can be timed on the same data (run ``flask db upgrade`` on it
first for a newer schema).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/discussion_search_bench"
TYPES = ["Analysis", "Report", "Question and Answer", "Fact Sheet", "Event"]
TOPICS = ["Iran", "Iraq", "Afghanistan", "Mediation", "Gender", "Youth", "Economics"]


def database(kind: str, reuse: bool) -> str:
    if kind == "sqlite":
        path = Path(tempfile.gettempdir()) / "discussion_search_bench.sqlite3"
        if not reuse:
            for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                leftover.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    if reuse:
        return PG_BENCH
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS discussion_search_bench"))
        connection.execute(text("CREATE DATABASE discussion_search_bench"))
    admin.dispose()
    return PG_BENCH


def vocabulary(rng: random.Random) -> list[str]:
    seed = json.loads((ROOT / "discussion" / "data" / "seed.json").read_text())
    words = Counter(
        w.lower()
        for p in seed["publications"]
        for w in re.findall(r"[A-Za-z]{3,}", " ".join(p.get("body") or []))
    )
    real = [w for w, _ in words.most_common()]
    letters = "bcdfghjklmnprstvz"
    vowels = "aeiou"
    made = {
        "".join(rng.choice(letters) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        for _ in range(45_000)
    }
    return real + sorted(made - set(real))[:30_000]


def fill(count: int, rng: random.Random) -> list[list[str]]:
    """Insert ``count`` publications; returns some bodies' words, for phrase queries."""
    from discussion.discovery import fulltext
    from discussion.extensions import db
    from discussion.models import (
        Publication,
        PublicationState,
        PublicationType,
        Topic,
        publication_topics,
        publication_types,
        utcnow,
    )

    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (r + 1) ** 1.07 for r in range(len(words))))
    types = [PublicationType(name=n, slug=n.lower().replace(" ", "-")) for n in TYPES]
    topics = [Topic(name=n, slug=n.lower()) for n in TOPICS]
    db.session.add_all(types + topics)
    db.session.flush()
    start = datetime(2012, 1, 1, 9, tzinfo=UTC)
    samples: list[list[str]] = []
    for first in range(1, count + 1, 1000):
        rows = []
        for n in range(first, min(first + 1000, count + 1)):
            drawn = rng.choices(words, cum_weights=weights, k=333)
            body = " ".join(drawn[33:])
            if n % 100 == 0:
                samples.append(drawn[33:])
            rows.append(
                {
                    "id": n,
                    "slug": f"bench-{n}",
                    "title": " ".join(drawn[:8]).title(),
                    "dek": " ".join(drawn[8:33]).capitalize() + ".",
                    "summary": "",
                    "body_source": body,
                    "body_html": f"<p>{body}</p>",
                    "state": PublicationState.PUBLISHED,
                    "published_at": start + timedelta(minutes=7 * n),
                    "comments_open": True,
                    "cache_version": 0,
                    "updated_at": utcnow(),
                }
            )
        db.session.execute(insert(Publication), rows)
        db.session.execute(
            insert(publication_types),
            [{"publication_id": r["id"], "type_id": rng.choice(types).id} for r in rows],
        )
        db.session.execute(
            insert(publication_topics),
            [
                {"publication_id": r["id"], "topic_id": t.id}
                for r in rows
                for t in rng.sample(topics, rng.choice((1, 2)))
            ],
        )
        fulltext.reindex(db.session.connection(), [r["id"] for r in rows])
        db.session.commit()
    return samples


def fill_comments(count: int, publications: int, rng: random.Random) -> dict[str, float]:
    """Insert ``count`` comments of 8-60 Zipf-drawn words on the publications; returns
    the share of comments each word is in (from a sample)."""
    from discussion.comments import sanitizer
    from discussion.extensions import db
    from discussion.models import Comment, CommentState

    words = vocabulary(rng)
    weights = list(itertools.accumulate(1 / (r + 1) ** 1.07 for r in range(len(words))))
    states = [CommentState.PENDING] * 5 + [CommentState.APPROVED] * 3
    states += [CommentState.REJECTED, CommentState.SPAM]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    sample: Counter[str] = Counter()
    sampled = 0
    for first in range(0, count, 5000):
        rows = []
        for n in range(first, min(first + 5000, count)):
            drawn = rng.choices(words, cum_weights=weights, k=rng.randint(8, 60))
            text_ = " ".join(drawn).capitalize() + "."
            if n % 200 == 0:
                sample.update(set(drawn))
                sampled += 1
            rows.append(
                {
                    "publication_id": rng.randint(1, publications),
                    "name": f"Reader {rng.randrange(5000)}",
                    "email": f"reader{rng.randrange(5000)}@example.org",
                    "body_text": text_,
                    "body_html": f"<p>{text_}</p>",
                    "sanitizer_version": sanitizer.SANITIZER_VERSION,
                    "state": rng.choice(states),
                    "created_at": start + timedelta(seconds=30 * n),
                    "open_reports": 0,
                    "hidden": False,
                }
            )
        db.session.execute(insert(Comment), rows)
        db.session.commit()
    return {w: n / sampled for w, n in sample.items()}


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    q = statistics.quantiles(values, n=100, method="inclusive")  # never beyond the max
    return (
        f"p50 {statistics.median(values):6.1f}  p90 {q[89]:6.1f}  p99 {q[98]:6.1f}  "
        f"max {values[-1]:6.1f} ms  (n={len(values)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--publications", type=int, default=100_000)
    parser.add_argument("--what", choices=("search", "index", "queue", "sitemap"), default="search")
    parser.add_argument("--comments", type=int, default=1_000_000, help="for --what queue")
    parser.add_argument("--queries", type=int, default=100, help="of each kind")
    parser.add_argument("--reuse", action="store_true", help="the last run's database")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from discussion import create_app
    from discussion.accounts import staff
    from discussion.demo import analyze
    from discussion.discovery.fulltext import STOP_WORDS
    from discussion.extensions import db

    rng = random.Random(7)
    url = database(args.database, args.reuse)
    os.environ["FLASK_RATELIMIT_ENABLED"] = "false"
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SITE_URL": "https://example.org"}
    )
    with app.app_context():
        if not args.reuse:
            upgrade(directory=str(ROOT / "discussion" / "migrations"))
        started = time.perf_counter()
        if args.reuse:  # every 100th body, as fill() keeps them; the statistics as they were
            bodies = text(
                "SELECT body FROM publication_search WHERE publication_id % 100 = 0 "
                "ORDER BY publication_id"
            )
            samples = [body.split() for body in db.session.scalars(bodies)]
            args.publications = db.session.scalar(text("SELECT count(*) FROM publications"))
        else:
            samples = fill(args.publications, rng)
            analyze()
        built = time.perf_counter() - started
        db.session.remove()
    gc.freeze()  # as the app does outside tests: no full collection walks start-up's objects
    client = app.test_client()
    timings: dict[str, list[float]] = {}
    requests: list[tuple[float, str, dict[str, str]]] = []

    def timed(kind: str, path: str, **query: str) -> None:
        started = time.perf_counter()
        response = client.get(path, query_string=query)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, query, response.status_code)
        timings.setdefault(kind, []).append(elapsed)
        requests.append((elapsed, kind, query))

    if args.what == "search":
        with app.app_context():
            document_counts = Counter(w for sample in samples for w in set(sample))
        share = {w: n / len(samples) for w, n in document_counts.items()}
        middling = sorted(w for w, s in share.items() if 0.001 <= s <= 0.05)
        common = [w for w, _ in document_counts.most_common(200) if w not in STOP_WORDS][:20]
        for _ in range(3):  # warm the caches
            client.get("/search", query_string={"q": rng.choice(middling)})
        for _ in range(args.queries):
            timed("one word", "/search", q=rng.choice(middling))
            timed("two words", "/search", q=f"{rng.choice(middling)} {rng.choice(middling)}")
            sample = rng.choice(samples)
            at = rng.randrange(len(sample) - 1)
            while {sample[at], sample[at + 1]} <= STOP_WORDS:
                at = rng.randrange(len(sample) - 1)
            timed("phrase", "/search", q=f'"{sample[at]} {sample[at + 1]}"')
            timed(
                "word + type",
                "/search",
                q=rng.choice(middling),
                type=rng.choice(TYPES).lower().replace(" ", "-"),
            )
            timed("common word", "/search", q=rng.choice(common))
    elif args.what == "sitemap":
        for path in (
            "/sitemap.xml",
            "/sitemaps/publications-1.xml",
            "/sitemaps/publications-2.xml",
        ):
            tracemalloc.start()
            started = time.perf_counter()
            response = client.get(path, buffered=False)
            size = sum(len(chunk) for chunk in response.response)
            response.close()
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"  {path}: {size / 1e6:.1f} MB streamed in {elapsed:.2f} s, "
                f"Python heap peak {peak / 1e6:.1f} MB"
            )
    elif args.what == "queue":
        with app.app_context():
            if args.reuse:  # the words' shares, from every 200th comment
                sample = [
                    set(body.lower().rstrip(".").split())
                    for body in db.session.scalars(
                        text("SELECT body_text FROM comments WHERE id % 200 = 0 ORDER BY id")
                    )
                ]
                if not sample:
                    parser.error("--reuse --what queue: the last run made no comments")
                counted = Counter(word for words in sample for word in words)
                comment_words = {w: n / len(sample) for w, n in counted.items()}
            else:
                comment_words = fill_comments(args.comments, args.publications, rng)
                analyze()
                staff.create_moderator("bench-mod", "bench password 1")
                db.session.commit()
            db.session.remove()
        login = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
        client.post(
            "/auth/login",
            data={"csrf_token": token, "username": "bench-mod", "password": "bench password 1"},
        )
        middling = sorted(w for w, s in comment_words.items() if 0.001 <= s <= 0.05)
        common = [
            w for w, s in sorted(comment_words.items(), key=lambda i: -i[1]) if w not in STOP_WORDS
        ][:20]
        for _ in range(3):
            client.get("/moderation/", query_string={"q": rng.choice(middling)})
        for _ in range(args.queries):
            timed("word, pending", "/moderation/", q=rng.choice(middling))
            timed("word, all", "/moderation/", q=rng.choice(middling), status="all")
            timed("common, pending", "/moderation/", q=rng.choice(common))
            timed(
                "email",
                "/moderation/",
                q=f"reader{rng.randrange(5000)}@example.org",
                status="all",
            )
    else:
        combos = [
            {"type": t.lower().replace(" ", "-"), "topic": p.lower(), "page": str(page)}
            for t in TYPES
            for p in TOPICS
            for page in (1, 2, 3, 5)
        ]
        rng.shuffle(combos)
        for combo in combos[:3]:  # warm the process, not the page cache
            client.get("/publications/", query_string={**combo, "page": "4"})
        for combo in combos:
            timed("filtered index", "/publications/", **combo)
    with app.app_context():
        db.engine.dispose()
    print(
        f"{args.database}, {args.publications:,} publications "
        f"({'reused' if args.reuse else 'built'} in {built:.0f} s), "
        f"server time per request:"
    )
    every: list[float] = []
    for kind, values in timings.items():
        every += values
        print(f"  {kind:15} {percentiles(values)}")
    if len(timings) > 1:
        print(f"  {'all':15} {percentiles(every)}")
    if requests:
        print("  slowest:")
    for elapsed, kind, query in sorted(requests, key=lambda r: r[0], reverse=True)[:5]:
        print(f"    {elapsed:7.1f} ms  {kind}: {json.dumps(query)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
