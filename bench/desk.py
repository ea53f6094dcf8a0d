"""Save-to-related-updated time: an editor's save, through the related lists it touches,
to the commit, on a collection of synthetic publications.

    .venv/bin/python bench/desk.py --publications 10000                    # SQLite
    .venv/bin/python bench/desk.py --publications 10000 --database postgresql

Builds a fresh database (SQLite in a temporary folder; PostgreSQL: database
``discussion_desk_bench`` on 127.0.0.1:5432, dropped and created), fills it with
``demo-data`` and one full ``refresh-related`` (the term index, then every list ranked
from the candidates the index gives it, as a save ranks its lists), then times saves
through the desk's service, ``--saves`` of each kind: publishing a new publication
(like an existing one), editing one (a paragraph added) and unpublishing one; each is
``editing.save`` with its ``related.refresh_for``, and the commit. Prints the p50, p90,
p99 and max of each kind and how many lists a save rewrote. With ``--compare``, also
ranks every list over the whole collection (all pairs: minutes at 10,000, beyond reach
at 100,000) and counts how many stored lists equal that ranking.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_BENCH = "postgresql+psycopg://postgres@127.0.0.1:5432/discussion_desk_bench"


def database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'desk.sqlite3'}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS discussion_desk_bench"))
        connection.execute(text("CREATE DATABASE discussion_desk_bench"))
    admin.dispose()
    return PG_BENCH


def agreement() -> str:
    """How the stored lists (ranked from the term index's candidates) compare with a
    ranking of each list over the whole collection."""
    from flask import current_app

    from discussion.extensions import db
    from discussion.models import RelatedPublication
    from discussion.publications import related

    stored: dict[int, list[int]] = {}
    for owner, related_id in db.session.execute(
        db.select(RelatedPublication.publication_id, RelatedPublication.related_id).order_by(
            RelatedPublication.publication_id, RelatedPublication.position
        )
    ):
        stored.setdefault(owner, []).append(related_id)
    started = time.perf_counter()
    exhaustive = related.corpus().rank_all(limit=current_app.config["RELATED_LIMIT"])
    took = time.perf_counter() - started
    same = sum(stored.get(o, []) == [m.related_id for m in ms] for o, ms in exhaustive.items())
    shared = sum(
        len(set(stored.get(o, [])) & {m.related_id for m in ms}) for o, ms in exhaustive.items()
    )
    wanted = sum(len(ms) for ms in exhaustive.values())
    return (
        f"all-pairs ranking of every list: {took:.0f} s; stored lists equal to it: "
        f"{same:,} of {len(exhaustive):,}; entries in both: {shared:,} of {wanted:,}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--publications", type=int, default=10_000)
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also rank every list over the whole collection (all pairs, slow) and count "
        "the stored lists that equal it",
    )
    args = parser.parse_args()

    from flask_migrate import upgrade

    from discussion import create_app, demo
    from discussion.accounts import staff
    from discussion.desk import editing
    from discussion.extensions import db
    from discussion.models import Publication, Role
    from discussion.publications import related

    with tempfile.TemporaryDirectory() as tmp:
        url = database(args.database, Path(tmp))
        os.environ["FLASK_RATELIMIT_ENABLED"] = "false"
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            upgrade(directory=str(ROOT / "discussion" / "migrations"))
            started = time.perf_counter()
            demo.generate(args.publications, 0, seed=1)
            db.session.commit()
            demo.analyze()
            generated = time.perf_counter() - started
            started = time.perf_counter()
            related.refresh_all()
            db.session.commit()
            demo.analyze()
            full = time.perf_counter() - started
            if args.compare:
                print(agreement())
            editor = staff.create_moderator("bench-editor", "bench password 1", Role.EDITOR)
            db.session.commit()
            ids = list(db.session.scalars(db.select(Publication.id)))
            rng = random.Random(2)
            timings: dict[str, list[float]] = {"publish new": [], "edit": [], "unpublish": []}
            rewritten: list[int] = []

            def timed(kind: str, *save_args: object, **save_kwargs: object) -> None:
                started = time.perf_counter()
                saved = editing.save(*save_args, **save_kwargs)  # type: ignore[arg-type]
                db.session.commit()
                timings[kind].append((time.perf_counter() - started) * 1000)
                rewritten.append(saved.lists)
                db.session.expire_all()

            for n in range(args.saves):
                model = db.session.get(Publication, rng.choice(ids))
                source = editing.Draft.of(model)
                new = editing.Draft(
                    **{
                        **source.__dict__,
                        "slug": f"bench-new-{n}",
                        "title": f"{source.title} again",
                        "body": f"{source.body}\n\nA new paragraph for story {n}.",
                    }
                )
                now = model.published_at
                timed("publish new", None, new, editing.Action.PUBLISH, editor, now=now)
                publication = db.session.get(Publication, rng.choice(ids))
                draft = editing.Draft.of(publication)
                edited = editing.Draft(
                    **{**draft.__dict__, "body": f"{draft.body}\n\nCorrection {n}: a date."}
                )
                timed(
                    "edit",
                    publication,
                    edited,
                    editing.Action.PUBLISH,
                    editor,
                    now=publication.published_at,
                    started_from=publication.revision,
                )
                publication = db.session.get(Publication, rng.choice(ids))
                timed(
                    "unpublish",
                    publication,
                    editing.Draft.of(publication),
                    editing.Action.UNPUBLISH,
                    editor,
                    now=publication.published_at,
                    started_from=publication.revision,
                )
            db.session.remove()
            db.engine.dispose()
    print(
        f"{args.database}, {args.publications:,} publications: demo data {generated:.0f} s, "
        f"full refresh-related {full:.0f} s; lists rewritten per save: median "
        f"{statistics.median(rewritten):.0f}, max {max(rewritten)}"
    )
    for kind, values in timings.items():
        values.sort()
        q = statistics.quantiles(values, n=100, method="inclusive")  # never beyond the max
        print(
            f"  {kind} ({len(values)}): p50 {statistics.median(values):.0f} ms, "
            f"p90 {q[89]:.0f} ms, p99 {q[98]:.0f} ms, max {values[-1]:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
