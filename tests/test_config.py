"""Configuration layers and the secret-key guard."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion import create_app
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
