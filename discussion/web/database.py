"""Engine settings per database.

SQLite: WAL, its durability (``SQLITE_SYNCHRONOUS``), a busy timeout and foreign keys;
transactions begun by us (SQLAlchemy's recipe for pysqlite), IMMEDIATE unless serving a
read request or on the read connection. A deferred transaction that reads and then
writes fails at once with "database is locked" when another process committed in between
(the busy timeout does not apply to that case), so several server processes posting at
once would see errors.

PostgreSQL: a bound on the time to connect, and each pooled connection checked before
use without a round trip.
"""

from __future__ import annotations

import logging
import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from psycopg.pq import TransactionStatus
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from ..extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Errors that may mean the database cannot answer; :func:`unavailable` decides.
UNAVAILABLE = (exc.DBAPIError, exc.TimeoutError)
# SQLite result codes of a database that cannot answer now: busy or locked beyond the
# busy timeout, an I/O error, full, cannot open the file, read-only file system.
_SQLITE_UNAVAILABLE = frozenset({5, 6, 8, 10, 13, 14})
# PostgreSQL SQLSTATE classes and codes: connection exceptions (08), the server shutting
# down or starting (57P01-57P03), out of disk, memory or connections (53), read-only
# after failing over to a standby (25006).
_POSTGRES_UNAVAILABLE = ("08", "57P01", "57P02", "57P03", "53", "25006")


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database cannot answer this moment (a 503, and the
    request may be sent again), rather than a fault of the code or the schema (a 500
    with its traceback: "no such table" is an OperationalError too).

    PostgreSQL down, restarting or failing over (a refused or dropped connection, a
    read-only standby), SQLite locked beyond the busy timeout or its disk full, the
    pool out of connections."""
    if isinstance(error, exc.TimeoutError):
        return True
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    original = error.orig
    code = getattr(original, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_UNAVAILABLE  # extended codes keep the primary in the low byte
    state = getattr(original, "sqlstate", None)
    if state:
        return state.startswith(_POSTGRES_UNAVAILABLE)
    # No code at all: the driver failed before any server answered (refused, timed out).
    return isinstance(error, exc.OperationalError | exc.InterfaceError)


# What SQLITE_SYNCHRONOUS may be: never OFF, which may corrupt the file on a power loss.
_SYNCHRONOUS_CHOICES = frozenset({"FULL", "NORMAL"})


def _configure_sqlite(
    busy_milliseconds: int, synchronous: str, dbapi_connection: Any, _record: Any
) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute(f"PRAGMA busy_timeout={busy_milliseconds}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Outage:
    """Tells the log when this process finds the database unavailable, and when it works
    again: two lines an outage, not one per refused request. A server that was down is
    back when a connection is checked out again (checked first); a SQLite file that was
    locked or full, whose reads went on meanwhile, when a transaction commits."""

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

    def back(self, *_args: Any) -> None:
        """The database answered again (a checkout, or a session's commit, see the class)."""
        if self.since is not None:
            (current_app.logger if has_app_context() else logging.getLogger(__name__)).warning(
                "database reachable again after %.1f s (%d requests answered 503)",
                time.monotonic() - self.since,
                self.refusals,
            )
            self.since, self.refusals = None, 0


outage = Outage()

_READING = "discussion_reading"


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection for reads that should neither wait for writers nor hold them up.

    SQLite locks the whole database for a write transaction, and every transaction of a
    POST begins IMMEDIATE (see above), so these reads take a connection of their own
    (one per app context) that takes no write lock; its snapshot ends with the block.

    PostgreSQL locks rows, and at its default isolation (READ COMMITTED) each statement
    reads what was committed when it began, in a transaction or not. A request that
    writes, or whose session has begun, reads on the session's connection; a read
    request otherwise on a connection of its own in autocommit: no BEGIN and no
    ROLLBACK, two round trips fewer. A read request that goes on to the session holds
    both connections to its end (a second checkout).
    """
    sqlite = db.engine.dialect.name == "sqlite"
    if not sqlite and not _reads_alone():
        yield db.session.connection()
        return
    connection = g.get("read_connection")
    if connection is None:
        options = {_READING: True} if sqlite else {"isolation_level": "AUTOCOMMIT"}
        connection = g.read_connection = db.engine.connect().execution_options(**options)
    try:
        yield connection
    finally:
        connection.rollback()


def _reads_alone() -> bool:
    """A read request whose session has not begun: its reads join no transaction."""
    return _read_request() and not (db.session.registry.has() and db.session().in_transaction())


def _read_request() -> bool:
    return has_request_context() and request.method in READ_METHODS


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


def _end_session(_error: BaseException | None) -> None:
    """End the request's transaction before Flask-SQLAlchemy discards the session.

    Should the server have gone away since the last query (a restart while the page was
    rendering), the rollback fails; the answer is built and nothing was half-written, so
    it still goes out (not a 500). SQLAlchemy has invalidated the dead connection: the
    pool opens a new one in its place."""
    if not db.session.registry.has():
        return
    try:
        db.session.close()
    except UNAVAILABLE as error:
        if not unavailable(error):  # not an outage: said, with its traceback
            current_app.logger.error("ending the request's transaction failed", exc_info=error)


def _close_read_connection(_error: BaseException | None) -> None:
    connection = g.pop("read_connection", None)
    if connection is not None:
        connection.close()


def _begin_sqlite(connection: Connection) -> None:
    reads = (
        connection.get_execution_options().get(_READING)
        or (has_app_context() and g.get("only_reads", False))
        or _read_request()
    )
    if reads:
        # A deferred BEGIN takes no lock and cannot wait: sent to the driver itself, a
        # read skips a round through SQLAlchemy (about 60 µs, on every GET). Should it
        # fail all the same, it is sent again below, to fail as SQLAlchemy's error.
        try:
            connection.connection.driver_connection.execute("BEGIN")  # type: ignore[union-attr]
            return
        except sqlite3.Error:
            pass
    connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")


def _replace_dropped(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Before a pooled PostgreSQL connection is used: has the server dropped it (a
    restart, a shutdown, a terminated backend, ``idle_session_timeout``)? Asked without
    a round trip: between requests the server sends nothing unasked (the app never
    LISTENs) but its last words as it closes a connection. A connection psycopg knows to
    be closed or not idle, or whose socket has anything to read, is given up: the pool
    connects anew (SQLAlchemy's custom pessimistic check, ``DisconnectionError``).

    A ping (``pool_pre_ping``) would ask the server instead: a round trip on every
    checkout (a light read's second) and, on a busy machine, a wait for the server's turn.
    It still catches what this cannot: a server that vanished without closing its
    connections (a failover that moves an address); set it for such a setup."""
    if dbapi_connection.info.transaction_status != TransactionStatus.IDLE:
        raise exc.DisconnectionError("the connection is closed or was left in a transaction")
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    if poller.poll(0):
        raise exc.DisconnectionError("the server closed the connection")


def engine_options(app: Flask) -> None:
    """Before the engine exists: bound the time to connect to PostgreSQL."""
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.startswith("postgresql"):
        # An unreachable server fails a request in seconds instead of the system's
        # minutes, so the reader gets the 503 page while a worker is still theirs.
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("connect_timeout", app.config["DATABASE_CONNECT_SECONDS"])
        options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def init_app(app: Flask) -> None:
    """Attach per-connection settings to the app's engine."""
    app.teardown_appcontext(_close_read_connection)
    app.teardown_appcontext(_end_session)  # after Flask-SQLAlchemy's, so it runs first
    synchronous = str(app.config["SQLITE_SYNCHRONOUS"]).upper()
    if synchronous not in _SYNCHRONOUS_CHOICES:
        raise ValueError(
            "SQLITE_SYNCHRONOUS must be FULL (the default) or NORMAL, not "
            f"{app.config['SQLITE_SYNCHRONOUS']!r}"
        )
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            busy = int(float(app.config["SQLITE_BUSY_SECONDS"]) * 1000)
            event.listen(engine, "connect", partial(_configure_sqlite, busy, synchronous))
            event.listen(engine, "begin", _begin_sqlite)
            if not event.contains(Session, "after_commit", outage.back):
                event.listen(Session, "after_commit", outage.back)
        else:  # a dropped connection is replaced before the server counts as back
            event.listen(engine, "checkout", _replace_dropped)
            event.listen(engine, "checkout", outage.back)
