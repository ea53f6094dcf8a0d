"""The moderation queue: tabs by state, filters, keyset pages, and what a row shows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from ..discovery import fulltext
from ..extensions import db
from ..models import (
    Comment,
    CommentCount,
    CommentState,
    Publication,
    PublicationCommentCount,
)

COMPACT_WAIT = "2s"  # see compact_tallies
QUEUES = ("pending", "reported", "approved", "rejected", "spam", "all")
_WHOLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- queues ------------------------------------------------------------------


@dataclass(frozen=True)
class QueueQuery:
    """What a moderator is looking at."""

    status: str = "pending"
    publication_id: int | None = None
    search: str = ""
    newest_first: bool = True


@dataclass
class QueuePage:
    """A page of the queue and the cursor of the next one (None on the last page)."""

    comments: list[Comment]
    next_after: int | None


def _filtered(query: QueueQuery, stmt):  # type: ignore[no-untyped-def]
    if query.publication_id is not None:
        stmt = stmt.where(Comment.publication_id == query.publication_id)
    if query.search:
        stmt = stmt.where(search_condition(query.search))
    return stmt


def search_condition(search: str) -> ColumnElement[bool]:
    """What a moderator's search finds: comments from an email address (a whole one, by
    its index; a part, by its start), else the words of comments and names (full text,
    stemmed, on both databases)."""
    search = search.strip()
    if _WHOLE_ADDRESS.fullmatch(search):
        return Comment.email == search
    if "@" in search:
        return Comment.email.startswith(search, autoescape=True)
    words = fulltext.parse(search)
    if not words:
        return false()
    return fulltext.comments_matching(db.session, words)


def _status_filter(status: str):  # type: ignore[no-untyped-def]
    if status == "reported":
        return (Comment.state == CommentState.APPROVED) & (Comment.open_reports > 0)
    if status == "all":
        return None
    return Comment.state == CommentState(status)


def queue_page(query: QueueQuery, *, after: int | None = None, limit: int = 25) -> QueuePage:
    """One page of a queue, keyset-paginated by id (ids grow with time).

    Stable while others moderate: a page starts strictly after the last id seen.
    """
    stmt = _filtered(query, select(Comment))
    condition = _status_filter(query.status)
    if condition is not None:
        stmt = stmt.where(condition)
    if after is not None:
        stmt = stmt.where(Comment.id < after if query.newest_first else Comment.id > after)
    stmt = stmt.order_by(Comment.id.desc() if query.newest_first else Comment.id.asc())
    stmt = stmt.options(
        selectinload(Comment.publication),
        selectinload(Comment.parent),
        selectinload(Comment.holds),
    )
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(rows, rows[-1].id if more and rows else None)


def counts(query: QueueQuery) -> dict[str, int]:
    """How many comments each tab holds, under the same publication and search filters.

    Without a search the counts are read from the tallies the database keeps
    (``comment_counts``, per publication ``comment_counts_by_publication``): a few rows,
    whatever the size of the queue. A search counts the matching comments in one grouped
    query (the matches are looked for once, not once per tab); "all" is their sum.
    """
    if not query.search:
        return _tallied(query.publication_id)
    reported = func.count().filter(_status_filter("reported"))
    stmt = _filtered(query, select(Comment.state, func.count(), reported)).group_by(Comment.state)
    result = dict.fromkeys(QUEUES, 0)
    for state, n, open_reports in db.session.execute(stmt):
        result[state.value] = n
        result["reported"] += open_reports
    result["all"] = sum(result[s.value] for s in CommentState)
    return result


def _tallied(publication_id: int | None) -> dict[str, int]:
    if publication_id is None:
        stmt = select(CommentCount.status, func.sum(CommentCount.n)).group_by(CommentCount.status)
    else:
        stmt = select(PublicationCommentCount.status, PublicationCommentCount.n).where(
            PublicationCommentCount.publication_id == publication_id
        )
    found = {status: int(n or 0) for status, n in db.session.execute(stmt)}
    return {status: found.get(status, 0) for status in QUEUES}


def compact_tallies() -> None:
    """After a bulk load on PostgreSQL: rewrite the tallies' tables. Every comment stored
    updates a tally row, and each update leaves a dead row version behind; a million in a
    row left 55 MB for 80 rows, read whole by every queue page (65 ms) until rewritten
    (VACUUM FULL: milliseconds for these few rows). Autovacuum keeps them small under a
    steady flow of comments; SQLite needs nothing. The rewrite locks the tables: it waits
    at most ``COMPACT_WAIT`` for transactions using them (posts would queue behind it),
    else it is left for another time and said."""
    engine = db.engine
    if engine.dialect.name != "postgresql":
        return
    names = ", ".join((CommentCount.__tablename__, PublicationCommentCount.__tablename__))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"SET lock_timeout = '{COMPACT_WAIT}'")
        try:
            connection.exec_driver_sql(f"VACUUM (FULL, ANALYZE) {names}")
        except OperationalError as error:
            current_app.logger.warning("tallies not compacted (%s): busy", error.orig)


def busiest_publications(query: QueueQuery, limit: int = 30) -> list[tuple[int, str, int]]:
    """The publications with most comments in this tab: (id, title, count), for the filter;
    read from the per-publication tallies (an index on the tab and the count)."""
    rows = db.session.execute(
        select(Publication.id, Publication.title, PublicationCommentCount.n)
        .join(PublicationCommentCount, PublicationCommentCount.publication_id == Publication.id)
        .where(PublicationCommentCount.status == query.status, PublicationCommentCount.n > 0)
        .order_by(PublicationCommentCount.n.desc())
        .limit(limit)
    ).all()
    found = [(pid, title, n) for pid, title, n in rows]
    if query.publication_id is not None and query.publication_id not in {r[0] for r in found}:
        title = db.session.scalar(
            select(Publication.title).where(Publication.id == query.publication_id)
        )
        if title is not None:
            found.append(
                (query.publication_id, title, _tallied(query.publication_id)[query.status])
            )
    return sorted(found, key=lambda row: (-row[2], row[1]))


def pending_count() -> int:
    """Comments awaiting a decision, for the moderator's navigation."""
    return _tallied(None)["pending"]


def author_history(emails: Iterable[str | None]) -> dict[str, dict[str, int]]:
    """Approved and rejected counts per email, in one query."""
    wanted = sorted({e for e in emails if e})
    history: dict[str, dict[str, int]] = {e: {"approved": 0, "rejected": 0} for e in wanted}
    if not wanted:
        return history
    rows = db.session.execute(
        select(Comment.email, Comment.state, func.count())
        .where(
            Comment.email.in_(wanted),
            Comment.state.in_([CommentState.APPROVED, CommentState.REJECTED]),
        )
        .group_by(Comment.email, Comment.state)
    )
    for email, state, n in rows:
        history[email][state.value] = n
    return history
