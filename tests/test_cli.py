"""Command-line tasks: schema, seed (twice), re-rendering, the data file, related lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select

from discussion import create_app
from discussion.comments import sanitizer
from discussion.extensions import db
from discussion.models import (
    Author,
    Comment,
    CommentState,
    Pin,
    Publication,
    PublicationType,
    RelatedPublication,
    Topic,
)
from discussion.publications import seeds
from tests.helpers import USIP, WIRE, make_comment, make_publication

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def snapshot() -> dict:
    """Everything the seed writes, in a comparable form."""
    return {
        "publications": [
            (p.slug, p.title, p.updated_at, p.body_source, tuple(a.name for a in p.authors))
            for p in db.session.scalars(select(Publication).order_by(Publication.slug))
        ],
        "counts": {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Publication, Author, PublicationType, Topic, Pin, RelatedPublication)
        },
        "related": db.session.execute(
            select(
                RelatedPublication.publication_id,
                RelatedPublication.position,
                RelatedPublication.related_id,
                RelatedPublication.score,
            ).order_by(RelatedPublication.publication_id, RelatedPublication.position)
        ).all(),
    }


def test_seed_imports_the_content_and_running_it_twice_changes_nothing(app: Flask, runner) -> None:
    result = runner.invoke(args=["seed"])
    assert result.exit_code == 0, result.output
    assert "5 publications, 5 changed" in result.output
    first = snapshot()
    assert first["counts"]["Publication"] == 5
    assert first["counts"]["Pin"] == 3
    assert first["counts"]["Author"] == 4  # Gienger, Hamasaeed, Yacoubian, Mir
    result = runner.invoke(args=["seed"])
    assert "5 publications, 0 changed" in result.output
    assert snapshot() == first


def test_seeded_fields_are_clean(app: Flask, runner) -> None:
    runner.invoke(args=["seed"])
    usip = db.session.scalar(select(Publication).filter_by(slug=USIP))
    assert [t.name for t in usip.types] == ["Analysis"]
    assert usip.image_file == "20130426Grand_Ayatollah_Ali_Khamenei,.jpg"
    assert usip.invitation == "Tell us what you think by submitting a comment below."
    assert usip.authors[0].bio == "Viola Gienger is a senior writer at USIP."
    card = db.session.scalar(
        select(Publication).filter_by(slug="making-sense-of-iran-pakistan-cross-border-strikes")
    )
    assert [a.name for a in card.authors] == ["Asfandyar Mir, Ph.D."]
    qa = db.session.scalar(
        select(Publication).filter_by(
            slug="the-united-states-weighs-its-options-in-the-face-of-irans-provocations"
        )
    )
    assert [t.name for t in qa.types] == ["Analysis", "Question and Answer"]
    assert [t.name for t in qa.topics] == [
        "Conflict Analysis & Prevention",
        "Global Policy",
        "Violent Extremism",
    ]
    wire = db.session.scalar(select(Publication).filter_by(slug=WIRE))
    assert wire.partner == "The Wire" and wire.authors == []


def test_seed_keeps_editorial_changes_out_only_where_the_data_file_changed(
    app: Flask, runner
) -> None:
    runner.invoke(args=["seed"])
    usip = db.session.scalar(select(Publication).filter_by(slug=USIP))
    usip.comments_open = False  # a moderator's choice, not in the data file
    db.session.commit()
    runner.invoke(args=["seed"])
    db.session.expire_all()
    assert db.session.scalar(select(Publication).filter_by(slug=USIP)).comments_open is False


def test_db_upgrade_builds_the_schema_on_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert {"publications", "comments", "related_publications", "alembic_version"} <= tables


def test_rerender_comments_updates_stale_html(app: Flask, runner) -> None:
    publication = make_publication()
    comment = make_comment(publication, body="Some *emphasis*")
    comment.body_html = "<p>stale</p>"
    comment.sanitizer_version = 0
    db.session.commit()
    result = runner.invoke(args=["rerender-comments"])
    assert "1 changed" in result.output
    db.session.expire_all()
    fresh = db.session.get(Comment, comment.id)
    assert fresh.body_html == "<p>Some <em>emphasis</em></p>"
    assert fresh.sanitizer_version == sanitizer.SANITIZER_VERSION
    assert "0 changed" in runner.invoke(args=["rerender-comments"]).output


def test_related_command_explains_why(app: Flask, runner) -> None:
    runner.invoke(args=["seed"])
    result = runner.invoke(args=["related", WIRE])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.output.splitlines() if USIP in line]
    assert "Global Policy" in row and "khamenei" in row
    assert len(result.output.splitlines()) == 2 + 4
    assert runner.invoke(args=["related", "nope"]).exit_code != 0


@pytest.mark.skipif(not SEEDS.is_dir(), reason="../shared/seeds is not beside the repository")
def test_import_seeds_rebuilds_the_committed_data_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "seed.json"
    monkeypatch.setattr(seeds, "DATA_FILE", target)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    result = app.test_cli_runner().invoke(args=["import-seeds", str(SEEDS)])
    assert result.exit_code == 0, result.output
    committed = Path(__file__).resolve().parents[1] / "discussion" / "data" / "seed.json"
    assert target.read_text() == committed.read_text()


def test_demo_data_makes_the_benchmark_content(app: Flask, runner) -> None:
    result = runner.invoke(args=["demo-data", "--publications", "6", "--comments", "2300"])
    assert result.exit_code == 0, result.output
    assert "Added 6 publications and 2300 comments." in result.output
    for n in (0, 20, 200, 2000):
        publication = db.session.scalar(select(Publication).filter_by(slug=f"demo-comments-{n}"))
        approved = db.session.scalar(
            select(func.count()).where(
                Comment.publication_id == publication.id, Comment.state == CommentState.APPROVED
            )
        )
        assert approved == n
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 2300
    states = set(db.session.scalars(select(Comment.state).distinct()))
    assert states == set(CommentState)
