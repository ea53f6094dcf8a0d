"""Configuration layers and the secret-key guard."""

from __future__ import annotations

import pytest

from discussion import create_app


def test_test_config_overrides_defaults() -> None:
    app = create_app({"TESTING": True, "PUBLICATIONS_PER_PAGE": 3})
    assert app.config["PUBLICATIONS_PER_PAGE"] == 3
    assert app.config["COMMENT_MAX_LENGTH"] == 5000


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
