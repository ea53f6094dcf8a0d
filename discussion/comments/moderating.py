"""Moderators on readers' comments outside the queue's decisions: choosing editors' picks
(from the queue or the article page) and reading an edited comment's earlier texts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..accounts.access import requires
from ..extensions import db
from ..models import Comment, CommentEdit
from ..web import clock
from ..web.params import safe_next
from . import picks

bp = Blueprint("picks", __name__, url_prefix="/moderation/comments")

moderator_required = requires(lambda person: person.can_moderate)


def _back() -> Response:
    """Where the button was: the queue or the article page (a local address only)."""
    default = url_for("moderation.queue", status="approved")
    return redirect(safe_next(request.form.get("next"), default), code=303)


@bp.post("/<id:comment_id>/feature")
@moderator_required
def feature(comment_id: int) -> Response:
    if picks.feature(comment_id, current_user, clock.now()):
        db.session.commit()
        flash("The comment is now an editors' pick.", "success")
    else:
        flash("Only an approved, visible comment can be picked; it may be one already.", "error")
    return _back()


@bp.post("/<id:comment_id>/unfeature")
@moderator_required
def unfeature(comment_id: int) -> Response:
    if picks.unfeature(comment_id, current_user):
        db.session.commit()
        flash("The comment is no longer an editors' pick.", "success")
    else:
        flash("That comment was not an editors' pick.", "info")
    return _back()


@bp.get("/<id:comment_id>/edits")
@moderator_required
def edits(comment_id: int) -> str:
    """Every text an edited comment had, oldest first, and the current one."""
    comment = db.get_or_404(Comment, comment_id)
    earlier = db.session.scalars(
        select(CommentEdit)
        .where(CommentEdit.comment_id == comment_id)
        .order_by(CommentEdit.replaced_at, CommentEdit.id)
    ).all()
    return render_template("comments/edits.html", comment=comment, earlier=earlier)


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> Response:
    flash("Nothing was changed: the page had expired. Please try again.", "error")
    return redirect(url_for("moderation.queue"), code=303)
