"""Readers' writes: posting comments, reporting them, and the poster's private status link."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.wrappers import Response

from ..extensions import csrf, db, limiter
from ..mail import limits as mail_limits
from ..mail import notices
from ..models import Comment, CommentState, utcnow
from ..moderation import decisions, reports, settings
from ..moderation.actions import REJECT_REASONS
from ..moderation.forms import ActionForm
from ..publications import catalog
from ..publications.views import get_publication, render_article
from ..web import database, links
from ..web.errors import render_error
from . import posting
from .forms import CommentForm, ReportForm
from .privacy import keyed_hash
from .visitor import remember_comment, visitor_id

bp = Blueprint("comments", __name__)

CLOSED = "Comments are closed on this publication. Your comment was not posted; its text is below."
EXPIRED = (
    "Your comment was not posted: the form had expired or came from another site. "
    "Your text is still here; please send it again."
)
SLOW_DOWN = (
    "Your comment was not posted: too many comments from your address in a short time. "
    "Your text is still here; please wait a minute and send it again."
)
THANKS = "Thank you. Your comment awaits moderation; only you can see it until it is approved."
PUBLISHED = "Thank you. Your comment is published."


@bp.post("/publications/<slug>/comments")
@csrf.exempt  # the form checks its own token, the one shared by all readers (pagetoken)
@limiter.limit(lambda: current_app.config["RATELIMIT_COMMENTS"])
def post(slug: str) -> Response | tuple[str, int]:
    publication = catalog.page_state(slug)  # light: the full row only for a refusal
    if publication is None:
        abort(404)
    form = CommentForm(publication_id=publication.id)
    rule_settings = settings.rule_settings()
    if not posting.is_open(publication, rule_settings, utcnow().date()):
        database.only_reads_follow()
        return render_article(get_publication(slug), form, form_notice=CLOSED), 403
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            raise CSRFError(form.csrf_token.errors[0])
        if form.parent_id.errors:  # the parent is gone: sending again posts a new comment
            form.parent_id.data = ""
        database.only_reads_follow()
        return render_article(get_publication(slug), form), 400
    address = request.remote_addr or ""
    comment = posting.post_comment(
        publication,
        name=form.name.data or "",
        email=form.email.data,
        body=form.body.data or "",
        parent_id=form.parent,
        root_id=form.root_id,
        honeypot=form.website.data,
        origin=posting.Origin(
            ip_hash=keyed_hash(address, current_app.config["SECRET_KEY"], "address"),
            ip_address=address or None,
            user_agent=request.user_agent.string or None,
        ),
        settings=rule_settings,
        address_key=current_app.config["SECRET_KEY"],
        spam=settings.spam_settings(),
    )
    if not comment.refused:  # a blocked author's post causes no mail at all
        notices.comment_posted(  # in the same transaction: no comment, no mail
            comment.id,
            comment.state,
            root_id=form.root_id,
            email=form.email.data or None,
            notify_outcome=form.notify_outcome.data,
            notify_replies=form.notify_replies.data,
            may_ask=lambda: mail_limits.may_request_confirmation(address),
        )
    comment_id, published = comment.id, comment.state is CommentState.APPROVED
    db.session.commit()
    remember_comment(comment_id)
    session.pop("_flashes", None)  # only the latest notice matters
    if published:
        flash(PUBLISHED, "success")
        anchor = f"comment-{comment_id}"
    else:  # rejected and spam look pending to the poster: no hint for spammers
        flash(THANKS, "success")
        anchor = "your-comments"
    return redirect(url_for("publications.article", slug=slug, _anchor=anchor), code=303)


@bp.errorhandler(CSRFError)
def csrf_refused(error: CSRFError) -> Any:
    """A refused token still gives the reader back every character they typed."""
    return _refused(error, EXPIRED)


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> Any:
    """Rate limited: a 429 page that still holds the reader's text."""
    return _refused(error, SLOW_DOWN)


def _refused(error: HTTPException, notice: str) -> Any:
    """The page the reader was on, with their text and why it was refused; the plain
    error page when there is no such page (an error handler must not raise)."""
    database.only_reads_follow()
    args = request.view_args or {}
    publication = catalog.by_slug(args.get("slug", ""))
    if publication is None:
        return render_error(error)
    if request.endpoint == "comments.report":
        comment = posting.replyable(args.get("comment_id", 0), publication.id)
        if comment is None:
            return render_error(error)
        page = render_template(
            "comments/report.html",
            publication=publication,
            comment=comment,
            form=ReportForm(),
            form_notice=notice,
        )
    else:
        form = CommentForm(publication_id=publication.id)
        page = render_article(publication, form, form_notice=notice)
    return page, error.code


# --- reports ----------------------------------------------------------------------------


def _reportable(publication_id: int, comment_id: int) -> Comment:
    comment = posting.replyable(comment_id, publication_id)
    if comment is None:
        abort(404)
    return comment


@bp.route("/publications/<slug>/comments/<id:comment_id>/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REPORTS"], methods=["POST"])
def report(slug: str, comment_id: int) -> Any:
    publication = get_publication(slug)
    comment = _reportable(publication.id, comment_id)
    form = ReportForm()
    if form.validate_on_submit():
        reporter = keyed_hash(visitor_id(), current_app.config["SECRET_KEY"], "reporter")
        hide_after = settings.current()["reports_to_hide"]
        address = keyed_hash(request.remote_addr or "", current_app.config["SECRET_KEY"], "address")
        if reports.report(comment, reporter, form.reason.data or "", hide_after, address=address):
            db.session.commit()
            flash("Thank you. Moderators will review this comment.", "success")
        else:
            flash("You have already reported this comment; moderators will review it.", "info")
        return redirect(
            url_for("publications.article", slug=slug, _anchor=f"comment-{comment.id}"), code=303
        )
    status = 400 if request.method == "POST" else 200
    return render_template(
        "comments/report.html", publication=publication, comment=comment, form=form
    ), status


# --- the poster's private status link ------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="comment-status")


@bp.app_template_global()
def comment_status_url(comment_id: int) -> str:
    """A private, signed link to a comment's moderation status: from SITE_URL when it is
    configured (as in mails), never from a Host header a proxy did not vouch for."""
    token = _serializer().dumps(comment_id)
    if current_app.config.get("SITE_URL"):
        return links.absolute("comments.status", token=token)
    return url_for("comments.status", token=token, _external=True)


def _from_token(token: str) -> Comment:
    try:
        comment_id = _serializer().loads(token)
    except BadSignature:
        abort(404)
    comment = db.session.get(Comment, comment_id) if isinstance(comment_id, int) else None
    if comment is None:
        abort(404)
    return comment


@bp.get("/comments/status/<token>")
def status(token: str) -> str:
    comment = _from_token(token)
    last = decisions.history([comment.id]).get(comment.id, [])
    reason = next((d.reason for d in reversed(last) if d.reason), None)
    return render_template(
        "comments/status.html",
        comment=comment,
        reason=REJECT_REASONS.get(reason or ""),
        form=ActionForm(),
        token=token,
    )


@bp.post("/comments/status/<token>/withdraw")
def withdraw(token: str) -> Response:
    comment = _from_token(token)  # the CSRF token is checked before any view runs
    slug = comment.publication.slug
    if not posting.withdraw(comment.id):
        flash("Your comment was not withdrawn: it has already been moderated.", "error")
        return redirect(url_for("comments.status", token=token), code=303)
    db.session.commit()
    flash("Your comment was withdrawn and deleted.", "success")
    return redirect(url_for("publications.article", slug=slug, _anchor="comments"), code=303)
