"""Readers' reports of approved comments, and hiding a comment many readers report."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Comment, Report
from ..publications.catalog import touch

REPORT_REASONS = {"spam": "Spam", "abusive": "Abusive", "off-topic": "Off-topic", "other": "Other"}


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
        touch([comment.publication_id])
    return True


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
