"""Isso's SQLite database: threads matched to publications by URI, comments (mode 1
approved, 2 pending, 4 deleted) with their parents. Isso keeps comments as typed
Markdown, which is what this site stores too."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..models import CommentState
from .importing import MAX_COMMENT_LENGTH, Importer, IncomingComment
from .threads import ThreadMatcher
from .xmlstream import NotTheFormat

FORMAT = "an Isso database"
MODES = {1: CommentState.APPROVED, 2: CommentState.PENDING, 4: CommentState.REJECTED}
DELETED_TEXT = "(deleted on Isso)"
_COMMENTS = (
    "SELECT tid, id, parent, created, mode, remote_addr, text, author, email, website"
    " FROM comments ORDER BY id"
)


def _open(path: Path) -> sqlite3.Connection:
    """The database, read-only (the import never changes it), trusting nothing in its
    schema: only plain tables are read, and no function a view or trigger names runs."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        connection.execute("PRAGMA trusted_schema = OFF")
        tables = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.DatabaseError as error:
        raise NotTheFormat(f"This is not {FORMAT}: {error}.") from error
    if not {"threads", "comments"} <= tables:
        connection.close()
        raise NotTheFormat(f"This is not {FORMAT}: it has no threads and comments tables.")
    return connection


def run(
    importer: Importer,
    path: Path,
    matcher: ThreadMatcher,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Import an Isso database, row by row; returns how many comments it holds."""
    connection = _open(path)
    try:
        threads: dict[int, int | None] = {}
        for tid, uri, title in connection.execute("SELECT id, uri, title FROM threads"):
            threads[tid] = matcher.match(
                f"{tid} {uri}"[:250],
                uri or "",
                title or uri or "",
                _first_comment(connection, tid),
            )
        total = connection.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
        for done, row in enumerate(connection.execute(_COMMENTS), start=1):
            _comment(importer, row, threads)
            if progress:
                progress(done)
        return total
    except sqlite3.DatabaseError as error:
        raise NotTheFormat(f"The Isso database could not be read: {error}.") from error
    finally:
        connection.close()


def _first_comment(connection: sqlite3.Connection, tid: int) -> datetime | None:
    created = connection.execute(
        "SELECT MIN(created) FROM comments WHERE tid = ?", (tid,)
    ).fetchone()[0]
    return _time(created)


def _time(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _comment(importer: Importer, row: tuple, threads: dict[int, int | None]) -> None:
    tid, comment_id, parent, created, mode, address, text, author, email, website = row
    where = f"comment {comment_id}"
    if tid not in threads:
        importer.warn(f"{where}: its thread {tid} is not in the database; skipped")
        importer.skip_comment("thread not in the file")
        return
    publication_id = threads[tid]
    if publication_id is None:
        importer.skip_comment("thread matched no publication")
        return
    state = MODES.get(mode)
    if state is None:
        importer.warn(f"{where}: mode {mode!r} is not one Isso uses; held")
        state = CommentState.PENDING
    body = str(text or "").replace("\r\n", "\n").strip()
    if len(body) > MAX_COMMENT_LENGTH:
        importer.warn(f"{where}: {len(body):,} characters, longer than any comment; skipped")
        importer.skip_comment("too long")
        return
    if not body:
        if state is not CommentState.REJECTED:
            importer.skip_comment("empty")
            return
        body = DELETED_TEXT  # kept, so its replies keep their place
    when = _time(created)
    if when is None:
        importer.warn(f"{where}: no readable date; skipped")
        importer.skip_comment("malformed")
        return
    importer.comment(
        IncomingComment(
            source_id=f"comment {comment_id}",
            publication_id=publication_id,
            content=body,
            kind="markdown",
            created_at=when,
            state=state,
            name=str(author or ""),
            email=str(email or "") or None,
            website=str(website or "") or None,
            address=str(address or "") or None,
            parent_source_id=f"comment {parent}" if parent is not None else None,
            where=where,
        )
    )
