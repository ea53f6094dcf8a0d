"""discussion: USIP-style articles with reader comments, moderation and related publications."""

from __future__ import annotations

import gc
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then FLASK_* variables, then tests."""
    from .web.errors import Site

    app = Site(
        __name__,
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object("discussion.config")
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{ROOT / 'instance' / 'discussion.sqlite3'}"
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)
    _require_secret_key(app)

    from . import cli
    from .accounts import staff
    from .accounts import views as accounts
    from .api import views as api
    from .archive import views as archive
    from .comments import fragments
    from .comments import moderating as picks
    from .comments import views as comments
    from .desk import views as desk
    from .discovery import fulltext
    from .discovery import views as discovery
    from .embed import views as embed
    from .extensions import cache, csrf, db, limiter, migrate
    from .mail import delivery
    from .mail import views as mail
    from .media import library
    from .media import views as media
    from .moderation import views as moderation
    from .operations import views as operations
    from .publications import refresh
    from .publications import views as publications
    from .web import database, errors, filters, pagecache, params, security

    pagecache.init_app(app)  # before security wraps it in any proxy fix
    refresh.init_app(app)
    security.init_app(app)
    database.engine_options(app)
    db.init_app(app)
    database.init_app(app)
    fulltext.init_app()
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    cache.init_app(app)
    staff.init_app(app)
    limiter.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    fragments.init_app(app)
    delivery.init_app(app)
    cli.init_app(app)
    app.url_map.converters["id"] = params.IdConverter
    library.init_app(app)
    features = (
        publications,
        comments,
        picks,
        accounts,
        moderation,
        desk,
        media,
        mail,
        discovery,
        archive,
        api,
        operations,
        embed,
    )
    for feature in features:
        app.register_blueprint(feature.bp)
    if not app.testing:
        # What exists now lives as long as the process (modules, the app, its
        # extensions): keep the collector from walking it on every full collection,
        # which paused a request for 50-100 ms every hundred or so queue pages.
        gc.freeze()
    return app


MIN_SECRET_LENGTH = 16


def _require_secret_key(app: Flask) -> None:
    """Refuse to run without a real secret key unless debugging or testing."""
    key = app.config.get("SECRET_KEY")
    if app.debug or app.testing:
        if not key:
            app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    if not key or len(str(key)) < MIN_SECRET_LENGTH:
        raise RuntimeError(
            f"No real SECRET_KEY is set (it needs at least {MIN_SECRET_LENGTH} random "
            "characters). Run `python -m discussion.quickstart` once to write one into "
            "instance/config.py, or set FLASK_SECRET_KEY, e.g. to the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`."
        )
