"""The moderation queue: tabs by state, filters, keyset pages, and what a row shows."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Row
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
# What each tab holds: comments in this state (None: any), and only those with open
# reports or not. The SQL condition and the check of a search's matches both read it.
_TABS: dict[str, tuple[CommentState | None, bool]] = {
    "pending": (CommentState.PENDING, False),
    "reported": (CommentState.APPROVED, True),
    "approved": (CommentState.APPROVED, False),
    "rejected": (CommentState.REJECTED, False),
    "spam": (CommentState.SPAM, False),
    "all": (None, False),
}
QUEUES = tuple(_TABS)
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


# A comment a moderator's full-text search found, as much of it as the tabs need:
# (id, state, open_reports, publication_id), in this order (see matches).
Match = Row[Any]


def _in_tab(status: str, state: CommentState, reported: bool) -> bool:
    wanted, only_reported = _TABS[status]
    return wanted in (None, state) and (reported or not only_reported)


def _status_filter(status: str) -> ColumnElement[bool] | None:
    """The tab's condition in SQL (None: every comment), as :func:`_in_tab` checks it."""
    wanted, only_reported = _TABS[status]
    condition = None if wanted is None else Comment.state == wanted
    return condition & (Comment.open_reports > 0) if only_reported else condition


def matches(query: QueueQuery) -> list[Match] | None:
    """A full-text search's matches, newest first: the newest
    ``fulltext.COMMENTS_SEARCHED`` in every tab and publication, read once for both the
    page and the counts. None when the query has no full-text search (none, or an email
    address)."""
    search = query.search.strip()
    if not search or "@" in search:
        return None
    words = fulltext.parse(search)
    if not words:
        return []
    columns = (Comment.id, Comment.state, Comment.open_reports, Comment.publication_id)
    return fulltext.newest_matching_comments(db.session, words, *columns)


def _in_publication(query: QueueQuery, found: list[Match]) -> Iterable[Match]:
    wanted = query.publication_id
    return found if wanted is None else (m for m in found if m.publication_id == wanted)


def _filtered(query: QueueQuery, stmt):  # type: ignore[no-untyped-def]
    """A query without a full-text search: its publication, and the email address looked
    for (a whole one, by its index; a part, by its start)."""
    if query.publication_id is not None:
        stmt = stmt.where(Comment.publication_id == query.publication_id)
    search = query.search.strip()
    if _WHOLE_ADDRESS.fullmatch(search):
        stmt = stmt.where(Comment.email == search)
    elif "@" in search:
        stmt = stmt.where(Comment.email.startswith(search, autoescape=True))
    return stmt


_ROW_OPTIONS = (
    selectinload(Comment.publication),
    selectinload(Comment.parent),
    selectinload(Comment.holds),
)


def queue_page(
    query: QueueQuery,
    *,
    after: int | None = None,
    limit: int = 25,
    found: list[Match] | None = None,
) -> QueuePage:
    """One page of a queue, keyset-paginated by id (ids grow with time); ``found`` is
    the query's :func:`matches` when already read.

    Stable while others moderate: a page starts strictly after the last id seen.
    """
    found = matches(query) if found is None else found
    condition = _status_filter(query.status)
    if found is not None:
        rows: list[Comment] = []
        ids = [
            id_
            for id_, state, reports, _ in _in_publication(query, found)
            if _in_tab(query.status, state, reports > 0)
        ]
        if not query.newest_first:
            ids.reverse()
        if after is not None:
            ids = [i for i in ids if (i < after if query.newest_first else i > after)]
        shown = ids[:limit]
        if shown:
            # Still in the tab: another moderator may have decided one since it was found.
            stmt = select(Comment).where(Comment.id.in_(shown)).options(*_ROW_OPTIONS)
            stmt = stmt if condition is None else stmt.where(condition)
            loaded = {c.id: c for c in db.session.scalars(stmt)}
            rows = [loaded[i] for i in shown if i in loaded]
        return QueuePage(rows, shown[-1] if len(ids) > limit else None)
    stmt = _filtered(query, select(Comment))
    if condition is not None:
        stmt = stmt.where(condition)
    if after is not None:
        stmt = stmt.where(Comment.id < after if query.newest_first else Comment.id > after)
    stmt = stmt.order_by(Comment.id.desc() if query.newest_first else Comment.id.asc())
    rows = list(db.session.scalars(stmt.options(*_ROW_OPTIONS).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(rows, rows[-1].id if more and rows else None)


def counts(query: QueueQuery, found: list[Match] | None = None) -> dict[str, int]:
    """How many comments each tab holds, under the same publication and search filters.

    Without a search the counts are read from the tallies the database keeps
    (``comment_counts``, per publication ``comment_counts_by_publication``): a few rows,
    whatever the size of the queue. A full-text search counts its :func:`matches`
    (``found`` when already read); an email address counts its comments in one grouped
    query, "all" being their sum.
    """
    if not query.search.strip():
        return _tallied(query.publication_id)
    found = matches(query) if found is None else found
    if found is not None:
        tally = Counter(
            (state, reports > 0) for _, state, reports, _ in _in_publication(query, found)
        )
        return {
            status: sum(
                n for (state, reported), n in tally.items() if _in_tab(status, state, reported)
            )
            for status in QUEUES
        }
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
