"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from discussion import create_app
from discussion.discovery.fulltext import in_models
from discussion.extensions import db
from discussion.models import CommentState, Decision
from tests.conftest import MIGRATIONS


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": in_models})
        return compare_metadata(context, db.metadata)


def test_the_migrated_schema_matches_the_models(app: Flask) -> None:
    assert _differences() == []


def test_the_newest_migration_can_be_undone_and_redone(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="-1")
        upgrade(directory=MIGRATIONS)
        assert _differences() == []
        db.engine.dispose()


def test_decision_states_keep_their_values_through_migration_0007(database_url: str) -> None:
    """Existing decisions, written as free strings before 0007, read back as states."""
    url = database_url
    if url.startswith("sqlite"):
        url = url.replace("test.sqlite3", "migration-0007.sqlite3")
    else:  # a database of its own, so the shared test schema is left alone
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS discussion_migration_0007"))
            connection.execute(text("CREATE DATABASE discussion_migration_0007"))
        admin.dispose()
        url = url.rsplit("/", 1)[0] + "/discussion_migration_0007"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0006")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO publications (id, slug, title, summary, body, published,"
                    " comments_open, cache_version, updated_at) VALUES (1, 'p', 'P', '', '[]',"
                    " '2024-01-01', true, 0, '2024-01-01T00:00:00+00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO comments (id, publication_id, name, body_text, body_html,"
                    " sanitizer_version, state, created_at, open_reports, hidden) VALUES"
                    " (1, 1, 'A', 'x', '<p>x</p>', 1, 'spam', '2024-01-01T00:00:00+00:00', 0,"
                    " false)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO decisions (comment_id, from_state, to_state, created_at) VALUES"
                    " (1, 'pending', 'approved', '2024-01-01T00:00:00+00:00'),"
                    " (1, 'approved', 'spam', '2024-01-02T00:00:00+00:00')"
                )
            )
        upgrade(directory=MIGRATIONS)
        rows = db.session.execute(
            db.select(Decision.from_state, Decision.to_state).order_by(Decision.id)
        ).all()
        assert [tuple(r) for r in rows] == [
            (CommentState.PENDING, CommentState.APPROVED),
            (CommentState.APPROVED, CommentState.SPAM),
        ]
        db.session.remove()
        assert _differences() == []
        db.engine.dispose()
