"""Engine settings per database.

SQLite: WAL, a busy timeout and foreign keys; transactions begun by us (SQLAlchemy's
recipe for pysqlite), IMMEDIATE unless serving a read request or on the read
connection. A deferred transaction that reads and then writes fails at once with
"database is locked" when another process committed in between (the busy timeout does
not apply to that case), so several server processes posting at once would see errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine

from ..extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# The database could not answer: PostgreSQL down, restarting or failing over (a refused
# or dropped connection), SQLite locked beyond the busy timeout or its disk full, the
# pool out of connections. The request is answered 503 (web/errors.py), nothing stored.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={_busy_milliseconds}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Outage:
    """Tells the log when this process finds the database unavailable, and when it gets
    a connection again: two lines an outage, not one per refused request."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.refusals = 0

    def refused(self, error: BaseException) -> None:
        """A request was answered 503 because of ``error``."""
        self.refusals += 1
        if self.since is None:
            self.since = time.monotonic()
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()
            current_app.logger.warning(
                "database unavailable, answering 503 until it is back: %s",
                reason[0][:200] if reason else type(error).__name__,
            )

    def connected(self, *_args: Any) -> None:
        """A connection was checked out of the pool, pinged where the server can drop it."""
        if self.since is not None:
            logging.getLogger(__name__).warning(
                "database reachable again after %.1f s (%d requests answered 503)",
                time.monotonic() - self.since,
                self.refusals,
            )
            self.since, self.refusals = None, 0


outage = Outage()

_busy_milliseconds = 10_000  # SQLITE_BUSY_SECONDS, set by init_app

_READING = "discussion_reading"


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for reads that should neither wait for writers nor hold them up.

    SQLite locks the whole database for a write transaction, and every transaction of a
    POST begins IMMEDIATE (see above), so these reads take a connection of their own
    (one per app context) that takes no write lock; its snapshot ends with the block.
    Other databases lock rows: the reads share the session's connection (one checkout
    and one pre-ping per request, not two).
    """
    if db.engine.dialect.name != "sqlite":
        yield db.session.connection()
        return
    connection = g.get("read_connection")
    if connection is None:
        connection = g.read_connection = db.engine.connect().execution_options(**{_READING: True})
    try:
        yield connection
    finally:
        connection.rollback()


def read_only(connection: Connection) -> Connection:
    """A connection whose SQLite transactions take no write lock (for reads outside any
    request, such as a streamed response)."""
    return connection.execution_options(**{_READING: True})


def only_reads_follow() -> None:
    """This request writes nothing more (it is answering a refusal): SQLite transactions
    it begins from now on take no write lock."""
    g.only_reads = True


@contextmanager
def only_reads() -> Iterator[None]:
    """Within the block, SQLite transactions this app context begins take no write lock
    (a worker reading at length while requests write); end the transaction inside it."""
    before = g.get("only_reads", False)
    g.only_reads = True
    try:
        yield
    finally:
        g.only_reads = before


def _close_read_connection(_error: BaseException | None) -> None:
    connection = g.pop("read_connection", None)
    if connection is not None:
        connection.close()


def _begin_sqlite(connection: Connection) -> None:
    reads = (
        connection.get_execution_options().get(_READING)
        or (has_app_context() and g.get("only_reads", False))
        or (has_request_context() and request.method in READ_METHODS)
    )
    connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")


def engine_options(app: Flask) -> None:
    """Before the engine exists: ping pooled connections where a server can drop them (a
    restarted PostgreSQL: the pool recovers by itself), bound the time to connect."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.startswith("sqlite"):
        options.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        # An unreachable server fails a request in seconds instead of the system's
        # minutes, so the reader gets the 503 page while a worker is still theirs.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", app.config["DATABASE_CONNECT_SECONDS"])
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def init_app(app: Flask) -> None:
    """Attach per-connection settings to the app's engine."""
    global _busy_milliseconds
    _busy_milliseconds = int(float(app.config["SQLITE_BUSY_SECONDS"]) * 1000)
    app.teardown_appcontext(_close_read_connection)
    with app.app_context():
        engine: Engine = db.engine
        event.listen(engine, "checkout", outage.connected)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _configure_sqlite)
            event.listen(engine, "begin", _begin_sqlite)
