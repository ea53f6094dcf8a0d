"""Readers recommending comments: one recommendation per reader (their visitor cookie)
and a few per client address (clearing cookies does not multiply votes), never their
own comment; the count is kept on the comment for sorting."""

from __future__ import annotations

import enum
from collections.abc import Collection

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Comment, Recommendation
from ..publications.catalog import touch


class Outcome(enum.Enum):
    """What became of a recommendation; the value is what the reader is told."""

    COUNTED = "Thank you: your recommendation is counted."
    ALREADY = "You have already recommended this comment."
    OWN = "You cannot recommend your own comment."
    ADDRESS = "This comment has already been recommended from your network."


def recommend(
    comment: Comment,
    *,
    visitor: str,
    address: str,
    own_ids: Collection[int],
    per_address: int,
) -> Outcome:
    """Count one reader's recommendation of a visible comment (the caller checked it is).

    ``visitor`` and ``address`` are keyed hashes of the visitor cookie's id and of the
    client address (the same hash as ``Comment.ip_hash``); ``own_ids`` the comments this
    visitor posted.
    """
    if comment.id in own_ids or (comment.ip_hash is not None and comment.ip_hash == address):
        return Outcome.OWN
    mine = select(
        exists().where(Recommendation.comment_id == comment.id, Recommendation.visitor == visitor)
    )
    if db.session.scalar(mine):
        return Outcome.ALREADY
    from_address = select(func.count()).where(
        Recommendation.comment_id == comment.id, Recommendation.address == address
    )
    if (db.session.scalar(from_address) or 0) >= per_address:
        return Outcome.ADDRESS
    try:
        with db.session.begin_nested():  # the same reader twice at once: one row
            db.session.execute(
                insert(Recommendation),
                [{"comment_id": comment.id, "visitor": visitor, "address": address}],
            )
    except IntegrityError:
        return Outcome.ALREADY
    db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id)
        .values(recommendations=Comment.recommendations + 1)
        .execution_options(synchronize_session=False)
    )
    touch([comment.publication_id])
    return Outcome.COUNTED
