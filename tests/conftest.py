"""Fixtures: the app on each database backend, a client, factories, a query counter.

Every test that uses ``app`` runs on SQLite and, when ``TEST_DATABASE_URL`` names a
PostgreSQL database (``.ci/run`` sets it), again on PostgreSQL. The schema is made
once per backend by the migrations; rows are deleted after each test.
"""

from __future__ import annotations

import contextvars
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text

from discussion import create_app
from discussion.accounts import staff
from discussion.extensions import db
from discussion.models import Moderator, Role
from discussion.publications import catalog, content
from discussion.web import clock as site_clock
from discussion.web import pagecache
from tests.helpers import PASSWORD

MIGRATIONS = str(Path(__file__).resolve().parents[1] / "discussion" / "migrations")
PG_SKIP = (
    "PostgreSQL run: set TEST_DATABASE_URL=postgresql+psycopg://… to run this backend "
    "(.ci/run does)"
)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context, ``g`` and database session, as in production.

    Flask reuses an app context that is already pushed (the test's own), which would
    share ``g`` and the session between requests. The test's session is committed
    before each request and after it, so each side sees the other's writes.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            db.session.commit()
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            if has_app_context():
                db.session.commit()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database for one backend, shared by the session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    else:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url.startswith("postgresql"):
            pytest.skip(PG_SKIP)
        _reset_postgres(url)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url: str, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app on a clean database; rate limits only where a test asks for them."""
    marker = request.node.get_closest_marker("config")
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        **(marker.kwargs if marker else {}),
    }
    app = create_app(config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def page_clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The page cache's clock, stopped (a second boundary mid-test would expire pages);
    set ``page_clock[0]`` to move it."""
    now = [float(int(time.time()))]
    monkeypatch.setattr(pagecache, "_now", lambda: now[0])
    return now


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """The app with the seed content imported."""
    content.seed_content(Path(app.config["SEED_DATA_FILE"]))
    db.session.commit()
    return app


class QueryCounter:
    """Counts SQL statements sent while active (not BEGIN, which only SQLite sends)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            self.count += 1


@pytest.fixture
def count_queries(app: Flask) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(db.engine, "before_cursor_execute", counter)


@pytest.fixture
def moderator(app: Flask) -> Moderator:
    moderator = staff.create_moderator("mod", PASSWORD)
    db.session.commit()
    return moderator


@pytest.fixture
def other_moderator(app: Flask) -> Moderator:
    """A second moderator, for two people deciding at once."""
    other = staff.create_moderator("other", PASSWORD)
    db.session.commit()
    return other


@pytest.fixture
def editor(app: Flask) -> Moderator:
    editor = staff.create_moderator("ed", PASSWORD, Role.EDITOR)
    db.session.commit()
    return editor


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The site's clock, stopped at a fixed time; set ``clock[0]`` to move it."""
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(site_clock, "now", lambda: now[0])
    monkeypatch.setattr(catalog, "LIVE_MARK_SECONDS", 0)
    return now


@pytest.fixture
def admin(app: Flask) -> Moderator:
    admin = staff.create_moderator("chief", PASSWORD, Role.ADMIN)
    db.session.commit()
    return admin
