"""Posting comments: validate, store as pending, redirect (post/redirect/get)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from . import comments
from .extensions import db
from .forms import CommentForm
from .reading import get_publication, render_article
from .visitor import remember_comment

bp = Blueprint("commenting", __name__)

CLOSED = "Comments are closed on this publication. Your comment was not posted; its text is below."
EXPIRED = (
    "Your comment was not posted: the form had expired or came from another site. "
    "Your text is still here; please send it again."
)
THANKS = "Thank you. Your comment awaits moderation; only you can see it until it is approved."


@bp.post("/publications/<slug>/comments")
def post(slug: str) -> Response | tuple[str, int]:
    publication = get_publication(slug)
    form = CommentForm(publication_id=publication.id)
    if not publication.comments_open:
        return render_article(publication, form, form_notice=CLOSED), 403
    if not form.validate_on_submit():
        return render_article(publication, form), 400
    comment = comments.post_comment(
        publication,
        name=form.name.data or "",
        email=form.email.data,
        body=form.body.data or "",
        parent_id=form.parent,
        honeypot=form.website.data,
    )
    db.session.commit()
    remember_comment(comment.id)
    flash(THANKS, "success")
    return redirect(url_for("reading.article", slug=slug, _anchor="your-comments"), code=303)


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> tuple[str, int]:
    """A refused token still gives the reader back every character they typed."""
    publication = get_publication(request.view_args["slug"] if request.view_args else "")
    form = CommentForm(publication_id=publication.id)
    return render_article(publication, form, form_notice=EXPIRED), 400
