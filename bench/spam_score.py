"""The spam score on a public labelled comment-spam data set, and what a score costs.

    .venv/bin/python bench/spam_score.py

Data: bench/data/youtube-psy.csv, the "Psy" part of the YouTube Spam Collection (see
bench/data/README.md): 350 comments, 175 spam, in the order they were posted. The score
learns the first half (as moderators' decisions would teach it, one comment at a time,
through ``spamscore.learn_decision`` into a fresh SQLite database) and scores the second
half through ``spamscore.score`` (the query a post makes). Precision and recall at 50 %
and at the default hold threshold (80 %); the time of one score, in the process, p50 and
p99 over the 175 test comments repeated 20 times (tokenizing, the query, the sum), and
the pure part alone (no database) for comparison.
"""

from __future__ import annotations

import csv
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from discussion import create_app  # noqa: E402
from discussion.comments import sanitizer  # noqa: E402
from discussion.extensions import db  # noqa: E402
from discussion.models import Comment, CommentState, Publication, SpamToken  # noqa: E402
from discussion.moderation import spamscore  # noqa: E402

DATA = ROOT / "bench" / "data" / "youtube-psy.csv"
MIGRATIONS = str(ROOT / "discussion" / "migrations")


def load() -> list[tuple[str, bool]]:
    with DATA.open(encoding="utf-8", newline="") as handle:
        return [(text, label == "spam") for label, text in csv.reader(handle)]


def rates(results: list[tuple[float, bool]], threshold: float) -> tuple[float, float, int]:
    tp = sum(1 for p, spam in results if p >= threshold and spam)
    fp = sum(1 for p, spam in results if p >= threshold and not spam)
    fn = sum(1 for p, spam in results if p < threshold and spam)
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1), tp + fp


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(len(ordered) * share) - 1)]


def main() -> int:
    rows = load()
    half = len(rows) // 2
    train, test = rows[:half], rows[half:]
    with tempfile.TemporaryDirectory() as workdir:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir}/spam.sqlite3",
                "SECRET_KEY": secrets.token_hex(32),
            }
        )
        with app.app_context():
            upgrade(directory=MIGRATIONS)
            db.session.add(Publication(slug="p", title="P"))
            db.session.flush()
            started = time.perf_counter()
            for text, spam in train:
                comment_id = db.session.execute(
                    insert(Comment).returning(Comment.id),
                    [
                        {
                            "publication_id": 1,
                            "name": "Reader",
                            "body_text": text,
                            "body_html": sanitizer.render(text),
                            "sanitizer_version": sanitizer.SANITIZER_VERSION,
                            "state": CommentState.SPAM if spam else CommentState.APPROVED,
                        }
                    ],
                ).scalar_one()
                spamscore.learn_decision(comment_id, text, spam)
            db.session.commit()
            learn_ms = (time.perf_counter() - started) * 1000 / len(train)

            connection = db.session.connection()
            results = [
                (spamscore.score(connection, text)[0].probability, spam) for text, spam in test
            ]
            timings = []
            for _ in range(20):
                for text, _spam in test:
                    began = time.perf_counter()
                    spamscore.score(connection, text)
                    timings.append((time.perf_counter() - began) * 1000)
            counts = {
                row.token: (row.spam, row.ham) for row in db.session.scalars(select(SpamToken))
            }
            spam_docs, ham_docs = counts.pop(spamscore.DOCS)
            pure = []
            for _ in range(20):
                for text, _spam in test:
                    began = time.perf_counter()
                    spamscore.score_from(spamscore.tokens(text), counts, spam_docs, ham_docs)
                    pure.append((time.perf_counter() - began) * 1000)
            db.session.remove()
            db.engine.dispose()

    print(
        f"data: {DATA.name}: {len(rows)} comments, {sum(s for _, s in rows)} spam; "
        f"trained on the first {len(train)}, tested on the last {len(test)} "
        f"({sum(s for _, s in test)} spam)"
    )
    for threshold in (0.5, 0.8):
        precision, recall, flagged = rates(results, threshold)
        print(
            f"threshold {threshold:.0%}: precision {precision:.1%}, recall {recall:.1%} "
            f"({flagged} flagged)"
        )
    print(
        f"score with its query: p50 {statistics.median(timings):.3f} ms, "
        f"p99 {percentile(timings, 0.99):.3f} ms ({len(timings)} scores)"
    )
    print(
        f"score without the database: p50 {statistics.median(pure):.3f} ms, "
        f"p99 {percentile(pure, 0.99):.3f} ms"
    )
    print(f"learning one decision (insert and upserts): {learn_ms:.2f} ms on average")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
