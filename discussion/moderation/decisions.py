"""Decisions: a moderator's action on a comment, guarded in SQL, recorded, undoable."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, update

from ..extensions import db
from ..mail import notices
from ..models import Comment, CommentState, Decision, Moderator, Report
from ..operations import metrics
from ..publications.catalog import touch
from . import spamscore
from .actions import NOTE_LENGTH, REJECT_REASONS, Action

BULK_LIMIT = 500  # comments one bulk action may name
KEPT_NOTE = "Reports reviewed; the comment stays."


class Conflict(Exception):
    """The comment changed (or vanished) since the moderator saw it."""


def allowed_actions(comment: Comment) -> list[Action]:
    """The actions a moderator may take on this comment now, in button order."""
    return [a for a in Action if a.allows(comment.state, reported=comment.open_reports > 0)]


def resolve(name: str, state: CommentState) -> Action:
    """The action a button named ``name`` means for a comment in ``state``: approving an
    approved (reported) comment keeps it. ValueError for an unknown name."""
    action = Action(name)
    if action is Action.APPROVE and state is CommentState.APPROVED:
        return Action.KEEP
    return action


def history(comment_ids: Sequence[int]) -> dict[int, list[Decision]]:
    """Each comment's decision history, oldest first, in one query."""
    found: dict[int, list[Decision]] = defaultdict(list)
    if comment_ids:
        for d in db.session.scalars(
            select(Decision).where(Decision.comment_id.in_(list(comment_ids))).order_by(Decision.id)
        ):
            found[d.comment_id].append(d)
    return found


def can_undo(decisions: Sequence[Decision]) -> bool:
    """Whether the latest of a comment's decisions (oldest first) changed its state, so
    undoing it means something. Keeping a reported comment changed nothing."""
    return bool(decisions) and decisions[-1].from_state is not decisions[-1].to_state


def act(
    comment_id: int,
    name: str,
    moderator: Moderator,
    *,
    reason: str | None = None,
    note: str | None = None,
    seen: CommentState | None = None,
) -> Decision:
    """Apply the action named ``name``; the UPDATE only matches the state it starts from.

    ``seen`` is the state the moderator was looking at: if the comment has changed
    since (another moderator decided), nothing happens and :class:`Conflict` says so.
    Two moderators acting at once: one wins, the other gets :class:`Conflict`.
    """
    row = db.session.execute(
        select(Comment.state, Comment.open_reports).where(Comment.id == comment_id)
    ).first()
    if row is None:
        raise Conflict("That comment no longer exists.")
    current, reports = row
    if seen is not None and current is not seen:
        raise Conflict(f"Not changed: that comment is {current.value} now (someone decided).")
    action = resolve(name, current)
    if not action.allows(current, reported=reports > 0):
        if action is Action.KEEP:
            raise Conflict("That comment is already approved.")
        raise Conflict(f"That comment is {current.value} now; it cannot be {action.past}.")
    if action is Action.KEEP:
        return _keep(comment_id, moderator, note)
    return _transition(comment_id, current, action.target, moderator, reason=reason, note=note)


def _note(text: str | None) -> str | None:
    return (text or "").strip()[:NOTE_LENGTH] or None


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
    if to_state is not CommentState.APPROVED:
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
    if to_state is not CommentState.APPROVED:
        _resolve_reports(comment_id)
    refusal = to_state in (CommentState.REJECTED, CommentState.SPAM)
    reason = reason if reason in REJECT_REASONS and refusal else None
    notices.comment_decided(comment_id, to_state, reason=reason)  # mails, in this transaction
    if moderator is not None:  # the spam score learns from people, not from the rules
        text = db.session.scalar(select(Comment.body_text).where(Comment.id == comment_id))
        spamscore.learn_decision(comment_id, text or "", spamscore.label_for(to_state, reason))
    return _record(
        comment_id, moderator, from_state, to_state, reason=reason, note=_note(note), undoes=undoes
    )


def _keep(comment_id: int, moderator: Moderator, note: str | None) -> Decision:
    result = db.session.execute(
        update(Comment)
        .where(
            Comment.id == comment_id,
            Comment.state == CommentState.APPROVED,
            Comment.open_reports > 0,
        )
        .values(open_reports=0, hidden=False)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise Conflict("That comment is already approved.")
    _touch_page_of(comment_id)
    _resolve_reports(comment_id)
    approved = CommentState.APPROVED
    return _record(comment_id, moderator, approved, approved, note=_note(note) or KEPT_NOTE)


def _record(
    comment_id: int,
    moderator: Moderator | None,
    from_state: CommentState,
    to_state: CommentState,
    *,
    reason: str | None = None,
    note: str | None = None,
    undoes: Decision | None = None,
) -> Decision:
    decision = Decision(
        comment_id=comment_id,
        moderator_id=moderator.id if moderator else None,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        note=note,
        undoes_id=undoes.id if undoes else None,
    )
    db.session.add(decision)
    db.session.flush()
    metrics.count_on_commit(metrics.DECIDED, to_state)
    return decision


def _touch_page_of(comment_id: int) -> None:
    publication_id = db.session.scalar(
        select(Comment.publication_id).where(Comment.id == comment_id)
    )
    touch([publication_id] if publication_id else [])


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
    if not can_undo([last]):
        raise Conflict("The last decision kept the comment as it was; there is nothing to undo.")
    return _transition(
        comment_id,
        last.to_state,
        last.from_state,
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
    comment_ids: Iterable[int], name: str, moderator: Moderator, *, reason: str | None = None
) -> BulkResult:
    """Apply one action to several comments (at most ``BULK_LIMIT``); each is guarded
    on its own."""
    result = BulkResult([], [])
    for comment_id in list(dict.fromkeys(comment_ids))[:BULK_LIMIT]:
        try:
            with db.session.begin_nested():
                act(comment_id, name, moderator, reason=reason)
        except Conflict:
            result.skipped.append(comment_id)
        else:
            result.done.append(comment_id)
    return result
