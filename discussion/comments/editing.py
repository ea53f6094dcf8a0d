"""A poster's own comment: the window in which they may edit or delete it, editing (the
text sanitized and judged by the rules again, the earlier text kept for moderators) and
deleting (withdrawn while pending; removed from the page once approved, leaving a stub
only where replies hang under it)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, insert, select, update

from ..extensions import db
from ..models import Comment, CommentEdit, CommentState, Decision, Hold
from ..publications.catalog import PageState, touch
from . import posting, rules, sanitizer

EDITABLE = (CommentState.PENDING, CommentState.APPROVED)


class Refusal(enum.Enum):
    """Why a poster may not change their comment; the value is what they are told."""

    NOT_YOURS = (
        "This comment can only be changed from the browser it was posted from, or through "
        "its private status link."
    )
    TOO_LATE = "The time to change this comment has passed."
    SETTLED = "This comment can no longer be changed: it has been moderated."


def deadline(comment: Comment, minutes: int) -> datetime:
    """Until when the poster may edit or delete the comment."""
    return comment.created_at + timedelta(minutes=minutes)


def refusal(comment: Comment, *, owned: bool, now: datetime, minutes: int) -> Refusal | None:
    """Why the poster may not change the comment now, or None when they may: their own
    (same browser or status link), still pending or approved, within ``minutes``."""
    if not owned:
        return Refusal.NOT_YOURS
    if comment.state not in EDITABLE or comment.deleted_at is not None:
        return Refusal.SETTLED
    if now >= deadline(comment, minutes):
        return Refusal.TOO_LATE
    return None


@dataclass(frozen=True)
class Edited:
    """An edit's outcome: the comment's state before and after the rules judged it."""

    before: CommentState
    after: CommentState


def edit(
    comment: Comment,
    body: str,
    *,
    publication: PageState,
    now: datetime,
    settings: rules.RuleSettings,
    address_key: str | None = None,
) -> Edited:
    """Replace the comment's text (the caller checked :func:`refusal`).

    The new text is rendered by the sanitizer and judged by the rules as a new comment
    would be (a staff comment stays published, as it was posted): a text a rule would
    hold goes back to pending with its reasons, recorded as a decision of the rules.
    The earlier text is kept (:class:`CommentEdit`).
    """
    before = comment.state
    text_hash = posting.body_hash(body)
    if comment.staff_id is not None:  # staff speak for the newsroom, as when they posted
        verdict = rules.Verdict("approved", ())
    else:
        verdict = posting.judge(
            publication,
            body=body,
            text_hash=text_hash,
            email=comment.email,
            ip_hash=comment.ip_hash,
            settings=settings,
            today=now.date(),
            address_key=address_key,
            duplicates=False,
        )
    after = CommentState(verdict.state)
    db.session.execute(
        insert(CommentEdit),
        [
            {
                "comment_id": comment.id,
                "body_text": comment.body_text,
                "body_html": comment.body_html,
                "state": before,
                "replaced_at": now,
            }
        ],
    )
    comment.body_text = body
    comment.body_html = sanitizer.render(body)
    comment.body_hash = text_hash
    comment.sanitizer_version = sanitizer.SANITIZER_VERSION
    comment.edited_at = now
    comment.state = after
    if after is not CommentState.APPROVED:
        comment.featured_at = comment.featured_by = None
    db.session.execute(delete(Hold).where(Hold.comment_id == comment.id))
    if verdict.holds:
        db.session.execute(
            insert(Hold),
            [
                {
                    "comment_id": comment.id,
                    "rule": h.rule,
                    "detail": h.detail,
                    "matches": list(h.matches),
                }
                for h in verdict.holds
            ],
        )
    if after is not before:
        db.session.add(
            Decision(
                comment_id=comment.id,
                moderator_id=None,
                from_state=before,
                to_state=after,
                note="Decided by the moderation rules when its poster edited it.",
                created_at=now,
            )
        )
    if CommentState.APPROVED in (before, after):
        touch([comment.publication_id])
    db.session.flush()
    return Edited(before, after)


def remove(comment: Comment, *, now: datetime) -> bool:
    """Delete the comment at its poster's wish (the caller checked :func:`refusal`).

    Pending: withdrawn (deleted). Approved: gone from the page; the row stays as a stub,
    its text erased, when any reply hangs under it (shown while a reply is visible),
    else it is deleted. Returns whether it was published before.
    """
    if comment.state is CommentState.PENDING:
        posting.withdraw(comment.id)
        return False
    has_replies = db.session.scalar(select(exists().where(Comment.parent_id == comment.id)))
    touch([comment.publication_id])
    if has_replies:
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment.id)
            .values(
                deleted_at=now,
                body_text="",
                body_html="",
                featured_at=None,
                featured_by=None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.execute(delete(CommentEdit).where(CommentEdit.comment_id == comment.id))
        db.session.expire(comment)
    else:
        db.session.execute(delete(Comment).where(Comment.id == comment.id))
    return True
