"""Configuration layers and the secret-key guard."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from psycopg.pq import TransactionStatus
from sqlalchemy import event, text

from discussion import create_app
from discussion.extensions import db
from discussion.web import database
from tests.helpers import make_publication, post_comment


@pytest.mark.config(PUBLICATIONS_PER_PAGE=3)
def test_test_config_overrides_defaults(app: Flask, client: FlaskClient) -> None:
    for n in range(4):
        make_publication(title=f"Listed {n}")
    first = client.get("/publications/").get_data(as_text=True)
    assert first.count("Listed ") == 3 and 'rel="next"' in first
    assert client.get("/publications/?page=2").get_data(as_text=True).count("Listed ") == 1


@pytest.mark.config(COMMENT_MAX_LENGTH=20)
def test_the_comment_length_setting_is_what_the_form_enforces(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    response = post_comment(client, publication.slug, body="x" * 21)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please keep your comment to 20 characters." in page and "x" * 21 in page
    assert post_comment(client, publication.slug, body="x" * 20).status_code == 303


def test_default_database_is_sqlite_in_instance() -> None:
    app = create_app({"TESTING": True})
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("/instance/discussion.sqlite3")


def test_flask_prefixed_environment_variables_configure_the_app(monkeypatch) -> None:
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("FLASK_SECRET_KEY", "from-the-environment-long-enough")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert app.config["SECRET_KEY"] == "from-the-environment-long-enough"


def test_refuses_to_start_without_a_secret_outside_debug_and_testing(monkeypatch) -> None:
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    monkeypatch.setattr("discussion.ROOT", __import__("pathlib").Path("/nonexistent"))
    with pytest.raises(RuntimeError, match="FLASK_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_testing_gets_a_random_secret_not_a_fixed_one() -> None:
    first = create_app({"TESTING": True}).config["SECRET_KEY"]
    second = create_app({"TESTING": True}).config["SECRET_KEY"]
    assert first and second and first != second


@pytest.mark.parametrize("weak", ["dev", "changeme", "x" * 15])
def test_refuses_a_placeholder_secret_outside_debug_and_testing(monkeypatch, weak: str) -> None:
    monkeypatch.setenv("FLASK_SECRET_KEY", weak)
    with pytest.raises(RuntimeError, match="at least 16"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _synchronous(app: Flask) -> list[int]:
    """SQLite's PRAGMA synchronous on a request's connection and on the read connection
    (2 is FULL, 1 NORMAL)."""
    with app.test_request_context("/"):
        written = db.session.execute(text("PRAGMA synchronous")).scalar()
        with database.reading() as connection:
            read = connection.execute(text("PRAGMA synchronous")).scalar()
        db.session.remove()
    return [written, read]


def _read_on(app: Flask, method: str, session_begun: bool) -> tuple[bool, bool]:
    """Where a request of ``method`` reads through :func:`database.reading`: on the
    session's own connection or not, and inside a transaction or not."""
    with app.app_context(), app.test_request_context("/", method=method):
        if session_begun:
            db.session.execute(text("SELECT 1"))
        with database.reading() as connection:
            connection.execute(text("SELECT 1"))
            driver = connection.connection.driver_connection
            if db.engine.dialect.name == "sqlite":
                in_transaction = driver.in_transaction
            else:
                in_transaction = driver.info.transaction_status != TransactionStatus.IDLE
            shared = connection.connection.dbapi_connection is (
                db.session.connection().connection.dbapi_connection
            )
    return shared, in_transaction


@pytest.mark.parametrize(
    ("method", "session_begun", "on_postgresql"),
    [
        ("GET", False, (False, False)),  # its own connection, no BEGIN or ROLLBACK
        ("GET", True, (True, True)),  # the session's: one checkout
        ("POST", False, (True, True)),  # reads beside a write: the session's
    ],
)
def test_reads_go_where_each_database_serves_them_cheapest(
    app: Flask, method: str, session_begun: bool, on_postgresql: tuple[bool, bool]
) -> None:
    """SQLite reads on a connection of its own, in a transaction of its own; PostgreSQL
    reads of a read request outside any transaction (two round trips fewer), otherwise
    on the session's connection. Every connection goes back to the pool out of
    autocommit: the next request's writes are transactions."""
    if db.engine.dialect.name == "sqlite":
        assert _read_on(app, method, session_begun) == (False, True)
        return
    returned: list[bool] = []

    def checkin(dbapi_connection: Any, _record: Any) -> None:
        returned.append(dbapi_connection.autocommit)

    event.listen(db.engine.pool, "checkin", checkin)
    try:
        assert _read_on(app, method, session_begun) == on_postgresql
    finally:
        event.remove(db.engine.pool, "checkin", checkin)
    assert returned and not any(returned), returned


def test_sqlite_syncs_every_commit_unless_told_otherwise(tmp_path) -> None:
    """An acknowledged comment survives a power loss by default; NORMAL is a choice."""
    url = f"sqlite:///{tmp_path / 'durable.sqlite3'}"
    assert _synchronous(create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})) == [2, 2]
    relaxed = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SQLITE_SYNCHRONOUS": "normal"}
    )
    assert _synchronous(relaxed) == [1, 1]


@pytest.mark.parametrize("unsafe", ["OFF", "0", "EXTRA", ""])
def test_refuses_a_sqlite_durability_it_does_not_offer(tmp_path, unsafe: str) -> None:
    url = f"sqlite:///{tmp_path / 'durable.sqlite3'}"
    with pytest.raises(ValueError, match=f"must be FULL .* or NORMAL, not '{unsafe}'"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SQLITE_SYNCHRONOUS": unsafe})


def test_a_mistyped_sqlite_durability_is_refused_on_postgresql_too() -> None:
    """A setting that would matter after a move back to SQLite is checked now."""
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/db",
                "SQLITE_SYNCHRONOUS": "NORAML",
            }
        )
