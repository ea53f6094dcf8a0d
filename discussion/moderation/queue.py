"""The moderation queue: tabs by state, filters, keyset pages, and what a row shows."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, func, select
from sqlalchemy.orm import selectinload

from ..discovery import fulltext
from ..extensions import cache, db
from ..models import Comment, CommentState, Publication

QUEUES = ("pending", "reported", "approved", "rejected", "spam", "all")
_WHOLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
BUSIEST_SECONDS = 60  # how long the busiest-publications menu may be out of date


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

    One count per state: each can use an index on the state (a single GROUP BY has to
    read the whole table); "all" is their sum.
    """
    result = {}
    for status in QUEUES:
        if status == "all":
            continue
        stmt = _filtered(query, select(func.count()).select_from(Comment))
        result[status] = db.session.scalar(stmt.where(_status_filter(status))) or 0
    result["all"] = sum(result[s.value] for s in CommentState)
    return result


def busiest_publications(query: QueueQuery, limit: int = 30) -> list[tuple[int, str, int]]:
    """The publications with most comments in this tab: (id, title, count), for the filter.

    Counting per publication reads every comment of the tab, so the list is cached for
    ``BUSIEST_SECONDS``: it only orders a menu.
    """
    key = f"busiest-publications/{query.status}/{limit}"
    counts = cache.get(key)
    if counts is None:
        counts = _busiest(query.status, limit)
        cache.set(key, counts, timeout=BUSIEST_SECONDS)
    counts = dict(counts)
    if query.publication_id is not None:
        counts.setdefault(query.publication_id, 0)
    titles = dict(
        db.session.execute(
            select(Publication.id, Publication.title).where(Publication.id.in_(list(counts)))
        ).all()
    )
    return sorted(
        ((pid, titles[pid], n) for pid, n in counts.items() if pid in titles),
        key=lambda row: (-row[2], row[1]),
    )


def _busiest(status: str, limit: int) -> dict[int, int]:
    stmt = select(Comment.publication_id, func.count().label("n"))
    condition = _status_filter(status)
    if condition is not None:
        stmt = stmt.where(condition)
    top = stmt.group_by(Comment.publication_id).order_by(func.count().desc()).limit(limit)
    return {publication_id: n for publication_id, n in db.session.execute(top)}


def pending_count() -> int:
    """Comments awaiting a decision, for the moderator's navigation."""
    return db.session.scalar(select(func.count()).where(Comment.state == CommentState.PENDING)) or 0


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
