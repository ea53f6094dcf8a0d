"""Moderation: queues, state changes guarded in SQL, undo, history, reports, rule figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import publications, rules
from .extensions import cache, db
from .models import Comment, CommentState, Decision, Hold, Moderator, Publication, Report

P, A, R, S = (CommentState.PENDING, CommentState.APPROVED, CommentState.REJECTED, CommentState.SPAM)

# action -> (states it may start from, state it leads to)
ACTIONS: dict[str, tuple[frozenset[CommentState], CommentState]] = {
    "approve": (frozenset({P}), A),
    "reject": (frozenset({P, A}), R),
    "spam": (frozenset({P, A, R}), S),
    "restore": (frozenset({R, S}), P),
}
REJECT_REASONS = {
    "off-topic": "Off-topic",
    "abusive": "Abusive or uncivil",
    "spam": "Spam or advertising",
    "personal": "Personal information",
    "misleading": "Misleading or false",
    "other": "Other",
}
REPORT_REASONS = {"spam": "Spam", "abusive": "Abusive", "off-topic": "Off-topic", "other": "Other"}
QUEUES = ("pending", "reported", "approved", "rejected", "spam", "all")


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
        pattern = (
            "%" + query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        stmt = stmt.where(
            or_(
                Comment.body_text.ilike(pattern, escape="\\"),
                Comment.name.ilike(pattern, escape="\\"),
                Comment.email.ilike(pattern, escape="\\"),
            )
        )
    return stmt


def _status_filter(status: str):  # type: ignore[no-untyped-def]
    if status == "reported":
        return (Comment.state == A) & (Comment.open_reports > 0)
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

    Counting per publication reads every comment of the tab, so the list is cached for a
    minute: it only orders a menu.
    """
    key = f"busiest-publications/{query.status}/{limit}"
    counts = cache.get(key)
    if counts is None:
        counts = _busiest(query.status, limit)
        cache.set(key, counts, timeout=60)
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
    return db.session.scalar(select(func.count()).where(Comment.state == P)) or 0


def author_history(emails: Iterable[str | None]) -> dict[str, dict[str, int]]:
    """Approved and rejected counts per email, in one query."""
    wanted = sorted({e for e in emails if e})
    history: dict[str, dict[str, int]] = {e: {"approved": 0, "rejected": 0} for e in wanted}
    if not wanted:
        return history
    rows = db.session.execute(
        select(Comment.email, Comment.state, func.count())
        .where(Comment.email.in_(wanted), Comment.state.in_([A, R]))
        .group_by(Comment.email, Comment.state)
    )
    for email, state, n in rows:
        history[email][state.value] = n
    return history


def decisions(comment_ids: Sequence[int]) -> dict[int, list[Decision]]:
    """Each comment's decision history, oldest first, in one query."""
    found: dict[int, list[Decision]] = defaultdict(list)
    if comment_ids:
        for d in db.session.scalars(
            select(Decision).where(Decision.comment_id.in_(list(comment_ids))).order_by(Decision.id)
        ):
            found[d.comment_id].append(d)
    return found


def open_reports(comment_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Unresolved report reasons per comment, in one query."""
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if comment_ids:
        rows = db.session.execute(
            select(Report.comment_id, Report.reason, func.count())
            .where(Report.comment_id.in_(list(comment_ids)), ~Report.resolved)
            .group_by(Report.comment_id, Report.reason)
        )
        for comment_id, reason, n in rows:
            found[comment_id][reason] = n
    return found


# --- decisions -----------------------------------------------------------------


class Conflict(Exception):
    """The comment changed (or vanished) since the moderator saw it."""


def act(
    comment_id: int,
    action: str,
    moderator: Moderator,
    *,
    reason: str | None = None,
    note: str | None = None,
    seen: CommentState | None = None,
) -> Decision:
    """Apply an action; the UPDATE only matches the state the decision starts from.

    ``seen`` is the state the moderator was looking at: if the comment has changed
    since (another moderator decided), nothing happens and :class:`Conflict` says so.
    Two moderators acting at once: one wins, the other gets :class:`Conflict`.
    Approving an approved comment that readers reported keeps it and clears the reports.
    """
    from_states, to_state = ACTIONS[action]
    current = db.session.scalar(select(Comment.state).where(Comment.id == comment_id))
    if current is None:
        raise Conflict("That comment no longer exists.")
    if seen is not None and current is not seen:
        raise Conflict(f"Not changed: that comment is {current.value} now (someone decided).")
    if action == "approve" and current is A:
        return _dismiss_reports(comment_id, moderator, note)
    if current not in from_states:
        raise Conflict(f"That comment is {current.value} now; it cannot be {_past(action)}.")
    return _transition(comment_id, current, to_state, moderator, reason=reason, note=note)


def _past(action: str) -> str:
    return {
        "approve": "approved",
        "reject": "rejected",
        "spam": "marked as spam",
        "restore": "restored",
    }[action]


def _transition(
    comment_id: int,
    from_state: CommentState,
    to_state: CommentState,
    moderator: Moderator | None,
    *,
    reason: str | None = None,
    note: str | None = None,
    undoes: Decision | None = None,
) -> Decision:
    values: dict = {"state": to_state, "hidden": False}
    if to_state is not A:
        values["open_reports"] = 0
    result = db.session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.state == from_state)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise Conflict("Someone else decided on that comment a moment ago.")
    _touch_page_of(comment_id)
    if to_state is not A:
        _resolve_reports(comment_id)
    decision = Decision(
        comment_id=comment_id,
        moderator_id=moderator.id if moderator else None,
        from_state=from_state.value,
        to_state=to_state.value,
        reason=reason if reason in REJECT_REASONS and to_state in (R, S) else None,
        note=(note or "").strip()[:2000] or None,
        undoes_id=undoes.id if undoes else None,
    )
    db.session.add(decision)
    db.session.flush()
    return decision


def _dismiss_reports(comment_id: int, moderator: Moderator, note: str | None) -> Decision:
    result = db.session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.state == A, Comment.open_reports > 0)
        .values(open_reports=0, hidden=False)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise Conflict("That comment is already approved.")
    _touch_page_of(comment_id)
    _resolve_reports(comment_id)
    decision = Decision(
        comment_id=comment_id,
        moderator_id=moderator.id,
        from_state=A.value,
        to_state=A.value,
        note=(note or "").strip()[:2000] or "Reports reviewed; the comment stays.",
    )
    db.session.add(decision)
    db.session.flush()
    return decision


def _touch_page_of(comment_id: int) -> None:
    publication_id = db.session.scalar(
        select(Comment.publication_id).where(Comment.id == comment_id)
    )
    publications.touch([publication_id] if publication_id else [])


def _resolve_reports(comment_id: int) -> None:
    db.session.execute(
        update(Report)
        .where(Report.comment_id == comment_id, ~Report.resolved)
        .values(resolved=True)
    )


def undo(comment_id: int, moderator: Moderator) -> Decision:
    """Reverse the comment's latest state change, if nothing changed since."""
    last = db.session.scalar(
        select(Decision).where(Decision.comment_id == comment_id).order_by(Decision.id.desc())
    )
    if last is None:
        raise Conflict("There is no decision to undo on that comment.")
    if last.from_state == last.to_state:
        raise Conflict("The last decision kept the comment as it was; there is nothing to undo.")
    return _transition(
        comment_id,
        CommentState(last.to_state),
        CommentState(last.from_state),
        moderator,
        note=f"Undid decision #{last.id}.",
        undoes=last,
    )


@dataclass
class BulkResult:
    """How a bulk action went."""

    done: list[int]
    skipped: list[int]


def act_on_many(
    comment_ids: Iterable[int], action: str, moderator: Moderator, *, reason: str | None = None
) -> BulkResult:
    """Apply one action to several comments; each is guarded on its own."""
    result = BulkResult([], [])
    for comment_id in dict.fromkeys(comment_ids):
        try:
            with db.session.begin_nested():
                act(comment_id, action, moderator, reason=reason)
        except Conflict:
            result.skipped.append(comment_id)
        else:
            result.done.append(comment_id)
    return result


# --- readers' reports ---------------------------------------------------------------


def report(
    comment: Comment, reporter: str, reason: str, hide_after: int, *, address: str | None = None
) -> bool:
    """Record a reader's report; False when this reader already reported the comment.

    Once open reports come from ``hide_after`` different addresses (so one person
    clearing cookies cannot do it alone), the comment is hidden until a moderator decides.
    """
    if reason not in REPORT_REASONS:
        raise ValueError(reason)
    try:
        with db.session.begin_nested():
            db.session.add(
                Report(comment_id=comment.id, reporter=reporter, reason=reason, address=address)
            )
    except IntegrityError:
        return False
    addresses = db.session.scalar(
        select(func.count(func.distinct(Report.address))).where(
            Report.comment_id == comment.id, ~Report.resolved
        )
    )
    hide = (addresses or 0) >= hide_after
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(open_reports=Comment.open_reports + 1, hidden=Comment.hidden | hide)
        .execution_options(synchronize_session="fetch")
    )
    if hide:
        publications.touch([comment.publication_id])
    return True


# --- how the rules do ------------------------------------------------------------------


@dataclass(frozen=True)
class RuleFigures:
    """How often a rule held comments, and how often moderators then approved them."""

    rule: str
    label: str
    held: int
    approved: int
    rejected: int

    @property
    def approved_share(self) -> float:
        return self.approved / self.held if self.held else 0.0


def rule_figures() -> list[RuleFigures]:
    """Per rule: comments it held and what moderators decided, in one query."""
    rows = db.session.execute(
        select(
            Hold.rule,
            func.count(),
            func.sum(case((Comment.state == A, 1), else_=0)),
            func.sum(case((Comment.state.in_([R, S]), 1), else_=0)),
        )
        .join(Comment, Comment.id == Hold.comment_id)
        .group_by(Hold.rule)
    )
    found = {rule: (held, int(ok or 0), int(no or 0)) for rule, held, ok, no in rows}
    return [
        RuleFigures(rule, label, *found.get(rule, (0, 0, 0))) for rule, label in rules.RULES.items()
    ]
