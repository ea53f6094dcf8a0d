"""Readiness: the database answers, its schema is the newest migration, and Redis
answers when rate limits or caches are configured to use it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import text

from ..extensions import db

REDIS_TIMEOUT_SECONDS = 1.0


@dataclass(frozen=True)
class Check:
    """One check's outcome; ``detail`` never carries an error's text (that is logged)."""

    name: str
    ok: bool
    detail: str


@cache
def _heads(directory: str) -> frozenset[str]:
    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database() -> list[Check]:
    """The database answers a query, and its schema is at the newest migration."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception:
        current_app.logger.exception("readiness: the database did not answer")
        return [Check("database", False, "unreachable"), Check("migrations", False, "unknown")]
    wanted = _heads(current_app.extensions["migrate"].directory)
    migrated = current == wanted
    detail = "current" if migrated else f"at {', '.join(sorted(current)) or 'none'}; newest is "
    if not migrated:
        detail += ", ".join(sorted(wanted))
    return [Check("database", True, "reachable"), Check("migrations", migrated, detail)]


def redis_urls() -> list[str]:
    """The Redis servers this configuration uses (rate limits, caches)."""
    config = current_app.config
    urls = [
        str(config.get("RATELIMIT_STORAGE_URI") or ""),
        str(config.get("CACHE_REDIS_URL") or ""),
    ]
    return list(dict.fromkeys(u for u in urls if u.startswith(("redis://", "rediss://"))))


def redis() -> list[Check]:
    """Each configured Redis answers a PING within a second."""
    from redis import Redis

    found = []
    for n, url in enumerate(redis_urls()):
        name = "redis" if n == 0 else f"redis-{n + 1}"
        try:
            client = Redis.from_url(
                url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
            try:
                client.ping()
            finally:
                client.close()
        except Exception:
            current_app.logger.exception("readiness: Redis did not answer")
            found.append(Check(name, False, "unreachable"))
        else:
            found.append(Check(name, True, "reachable"))
    return found


def readiness() -> list[Check]:
    return [*database(), *redis()]
