"""Editors' picks: moderators feature approved comments (a badge, the Picks tab) and
take them back. Each change is one guarded UPDATE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from ..extensions import db
from ..models import Comment, CommentState, Moderator
from ..publications.catalog import touch


class NotAllowed(Exception):
    """The person may not choose picks (only moderators and admins may)."""


def _publication_of(comment_id: int) -> int | None:
    return db.session.scalar(select(Comment.publication_id).where(Comment.id == comment_id))


def feature(comment_id: int, actor: Moderator, now: datetime) -> bool:
    """Make an approved, shown comment an editors' pick; False when it is not one that
    can be picked (or already is)."""
    if not actor.can_moderate:
        raise NotAllowed
    result = db.session.execute(
        update(Comment)
        .where(
            Comment.id == comment_id,
            Comment.state == CommentState.APPROVED,
            ~Comment.hidden,
            Comment.deleted_at.is_(None),
            Comment.featured_at.is_(None),
        )
        .values(featured_at=now, featured_by=actor.id)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    touch([_publication_of(comment_id) or 0])
    return True


def unfeature(comment_id: int, actor: Moderator) -> bool:
    """Take a comment out of the editors' picks; False when it was not one."""
    if not actor.can_moderate:
        raise NotAllowed
    result = db.session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.featured_at.is_not(None))
        .values(featured_at=None, featured_by=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    touch([_publication_of(comment_id) or 0])
    return True
