"""Readers' writes: posting comments, reporting them, the poster's private status link,
editing and deleting one's own comment, links to one comment, recommending, and the
count an open article page polls."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, TooManyRequests
from werkzeug.wrappers import Response

from ..extensions import cache, csrf, db, limiter
from ..mail import limits as mail_limits
from ..mail import notices
from ..models import Comment, CommentState, utcnow
from ..moderation import decisions, reports, settings
from ..moderation.actions import REJECT_REASONS
from ..moderation.forms import ActionForm
from ..publications import catalog
from ..publications.views import get_publication, render_article, sort_arg, thread_url
from ..web import clock, database, formtoken, links, pagecache
from ..web.errors import render_error
from ..web.params import parse_id
from . import editing, limits, posting, recommending, sanitizer, status, thread
from .forms import CommentForm, EditForm, OwnForm, RecommendForm, ReportForm
from .privacy import keyed_hash
from .visitor import own_comment_ids, remember_comment, request_origin, visitor_id

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
@limits.posting
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
    if form.previewing:  # shown exactly as it would be published, the form still filled
        database.only_reads_follow()
        return render_article(
            get_publication(slug), form, preview=sanitizer.render(form.body.data or "")
        )
    address = request.remote_addr or ""
    comment = posting.submit(
        publication,
        name=form.name.data or "",
        email=form.email.data,
        body=form.body.data or "",
        parent_id=form.parent,
        root_id=form.root_id,
        honeypot=form.website.data,
        staff=current_user if current_user.is_authenticated else None,
        notify_outcome=form.notify_outcome.data,
        notify_replies=form.notify_replies.data,
        origin=request_origin(),
        settings=rule_settings,
        address_key=current_app.config["SECRET_KEY"],
        may_ask=lambda: mail_limits.may_request_confirmation(address),
        spam=settings.spam_settings(),
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


TOO_MANY_RECOMMENDATIONS = (
    "Your recommendation was not counted: too many from your address in a short time. "
    "Please wait a minute."
)


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> Any:
    """Rate limited: a 429 page that still holds the reader's text."""
    if request.endpoint == "comments.recommend":
        return _refused(error, TOO_MANY_RECOMMENDATIONS)
    return _refused(error, SLOW_DOWN)


def _refused(error: HTTPException, notice: str) -> Any:
    """The page the reader was on, with their text and why it was refused; the plain
    error page when there is no such page (an error handler must not raise)."""
    database.only_reads_follow()
    args = request.view_args or {}
    publication = catalog.by_slug(args.get("slug", ""))
    if publication is None:
        return render_error(error)
    if request.endpoint in ("comments.edit", "comments.delete"):
        found = db.session.get(Comment, args.get("comment_id", 0))
        if found is None or found.publication_id != publication.id:
            return render_error(error)
        form = EditForm(formdata=None)
        form.body.data = request.form.get("body", found.body_text)
        form.token.data = request.form.get("token", "")
        notice = notice.replace("Your comment was not posted", "Your change was not saved")
        page = _edit_page(publication, found, form, notice=notice, allowed=True)
    elif request.endpoint == "comments.report":
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
@limiter.limit(
    lambda: current_app.config["RATELIMIT_REPORTS"], methods=["POST"], deduct_when=limits.answered
)
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
    code = 400 if request.method == "POST" else 200
    return render_template(
        "comments/report.html", publication=publication, comment=comment, form=form
    ), code


# --- the poster's private status link ------------------------------------------------------


@bp.app_template_global()
def comment_status_url(comment_id: int) -> str:
    """A private, signed link to a comment's moderation status: from SITE_URL when it is
    configured (as in mails), never from a Host header a proxy did not vouch for."""
    token = status.token_for(comment_id, current_app.config["SECRET_KEY"])
    if current_app.config.get("SITE_URL"):
        return links.absolute("comments.status", token=token)
    return url_for("comments.status", token=token, _external=True)


def _from_token(token: str) -> Comment:
    comment_id = status.comment_id_of(token, current_app.config["SECRET_KEY"])
    comment = db.session.get(Comment, comment_id) if comment_id is not None else None
    if comment is None:
        abort(404)
    return comment


@bp.get("/comments/status/<token>", endpoint="status")
def status_page(token: str) -> str:
    comment = _from_token(token)
    last = decisions.history([comment.id]).get(comment.id, [])
    reason = next((d.reason for d in reversed(last) if d.reason), None)
    return render_template(
        "comments/status.html",
        comment=comment,
        reason=REJECT_REASONS.get(reason or ""),
        form=ActionForm(),
        token=token,
        until=_until(comment),
    )


def _until(comment: Comment) -> Any:
    """Until when the poster may still edit or delete the comment, if they may now."""
    minutes = current_app.config["COMMENT_EDIT_MINUTES"]
    if editing.refusal(comment, owned=True, now=clock.now(), minutes=minutes) is not None:
        return None
    return editing.deadline(comment, minutes)


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


# --- the poster's own comment: edit, delete -----------------------------------------------

EDITED = "Your comment is updated."
EDIT_HELD = "Your edit is saved and awaits moderation: only you can see it until it is approved."
DELETED = "Your comment is deleted."
WITHDRAWN = "Your comment was withdrawn and deleted."


def _own_comment(publication_id: int, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.publication_id != publication_id:
        abort(404)
    return comment


def _owns(comment: Comment, token: str | None) -> bool:
    """Posted from this browser (its visitor cookie), or the status link's token is given."""
    if comment.id in own_comment_ids():
        return True
    return (
        bool(token) and status.comment_id_of(token, current_app.config["SECRET_KEY"]) == comment.id
    )


def _refusal(comment: Comment, token: str | None) -> editing.Refusal | None:
    return editing.refusal(
        comment,
        owned=_owns(comment, token),
        now=clock.now(),
        minutes=current_app.config["COMMENT_EDIT_MINUTES"],
    )


def _edit_page(
    publication: Any,
    comment: Comment,
    form: EditForm,
    *,
    notice: str | None = None,
    preview: str | None = None,
    allowed: bool = False,
) -> str:
    return render_template(
        "comments/edit.html",
        publication=publication,
        comment=comment,
        form=form,
        delete_form=OwnForm(formdata=None, token=form.token.data),
        form_notice=notice,
        preview=preview,
        allowed=allowed,
        until=editing.deadline(comment, current_app.config["COMMENT_EDIT_MINUTES"]),
    )


@bp.route("/publications/<slug>/comments/<id:comment_id>/edit", methods=["GET", "POST"])
@limits.posting  # each edit is judged and kept like a new comment (a preview is not)
def edit(slug: str, comment_id: int) -> Any:
    publication = get_publication(slug)
    comment = _own_comment(publication.id, comment_id)
    form = EditForm()
    if request.method == "GET":
        form.body.data = comment.body_text
        form.token.data = request.args.get("token", "")
    refused = _refusal(comment, form.token.data)
    if refused is not None:  # the text comes back, so nothing typed is lost
        if request.method == "POST":
            database.only_reads_follow()
        return _edit_page(publication, comment, form, notice=refused.value), 403
    if request.method == "GET":
        return _edit_page(publication, comment, form, allowed=True)
    if not form.validate_on_submit():
        database.only_reads_follow()
        return _edit_page(publication, comment, form, allowed=True), 400
    if form.previewing:
        database.only_reads_follow()
        preview = sanitizer.render(form.body.data or "")
        return _edit_page(publication, comment, form, preview=preview, allowed=True)
    state = catalog.page_state(slug)
    if state is None:
        abort(404)
    outcome = editing.edit(
        comment,
        form.body.data or "",
        publication=state,
        now=clock.now(),
        settings=settings.rule_settings(),
        address_key=current_app.config["SECRET_KEY"],
    )
    if outcome.before is not outcome.after:
        if outcome.after is CommentState.PENDING:  # held again: as any held comment
            notices.alert_held(comment_id, now=clock.now())
        elif outcome.after is CommentState.APPROVED:  # published by the edit
            notices.comment_decided(comment_id, CommentState.APPROVED)
    db.session.commit()
    session.pop("_flashes", None)
    if outcome.after is CommentState.APPROVED:
        flash(EDITED, "success")
    else:  # as when posting: rejected and spam look pending to the poster
        flash(EDIT_HELD, "success")
    return _back_to(slug, comment_id, outcome.after, form.token.data)


def _back_to(slug: str, comment_id: int, state: CommentState, token: str | None) -> Response:
    """The status link's page when the poster came through it, else the article."""
    if token and comment_id not in own_comment_ids():
        return redirect(url_for("comments.status", token=token), code=303)
    anchor = f"comment-{comment_id}" if state is CommentState.APPROVED else "your-comments"
    return redirect(url_for("publications.article", slug=slug, _anchor=anchor), code=303)


@bp.post("/publications/<slug>/comments/<id:comment_id>/delete")
def delete(slug: str, comment_id: int) -> Any:
    publication = get_publication(slug)
    comment = _own_comment(publication.id, comment_id)
    form = OwnForm()
    refused = _refusal(comment, form.token.data)
    if refused is not None:
        database.only_reads_follow()
        edit_form = EditForm(formdata=None, token=form.token.data)
        edit_form.body.data = comment.body_text
        return _edit_page(publication, comment, edit_form, notice=refused.value), 403
    published = editing.remove(comment, now=clock.now())
    db.session.commit()
    session.pop("_flashes", None)
    flash(DELETED if published else WITHDRAWN, "success")
    return redirect(url_for("publications.article", slug=slug, _anchor="comments"), code=303)


# --- links to one comment, recommending ----------------------------------------------------


@bp.get("/publications/<slug>/comments/<id:comment_id>")
def permalink(slug: str, comment_id: int) -> Response:
    """A comment's own address: the page of the thread that shows it, at the comment."""
    publication = get_publication(slug)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.publication_id != publication.id:
        abort(404)
    if not thread.is_visible(comment):
        abort(404)
    sort = sort_arg()
    page = thread.page_of(
        comment, sort=sort, per_page=current_app.config["COMMENT_THREADS_PER_PAGE"]
    )
    return redirect(thread_url(slug, page, sort, f"comment-{comment_id}"), code=303)


@bp.post("/publications/<slug>/comments/<id:comment_id>/recommend")
@csrf.exempt  # the form carries the shared page token, checked by RecommendForm
@limiter.limit(lambda: current_app.config["RATELIMIT_RECOMMENDATIONS"], deduct_when=limits.answered)
def recommend(slug: str, comment_id: int) -> Response:
    publication = get_publication(slug)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.publication_id != publication.id:
        abort(404)
    form = RecommendForm()
    page = parse_id(form.page.data) or 1
    sort = form.sort.data if form.sort.data in thread.SORTS else sort_arg()
    back = thread_url(slug, page, sort, f"comment-{comment_id}")
    if not form.validate_on_submit():
        flash(
            "Your recommendation was not counted: the page had expired. Please try again.", "error"
        )
        return redirect(back, code=303)
    if not thread.is_visible(comment):
        abort(404)
    key = current_app.config["SECRET_KEY"]
    outcome = recommending.recommend(
        comment,
        visitor=keyed_hash(visitor_id(), key, "recommender"),
        address=keyed_hash(request.remote_addr or "", key, "address"),
        own_ids=own_comment_ids(),
        per_address=current_app.config["RECOMMENDATIONS_PER_ADDRESS"],
    )
    db.session.commit()
    session.pop("_flashes", None)
    flash(outcome.value, "success" if outcome is recommending.Outcome.COUNTED else "info")
    return redirect(back, code=303)


# --- new comments without reloading -------------------------------------------------------


@bp.get("/publications/<slug>/comments/count")
def count(slug: str) -> Response:
    """How many comments readers can see: what an open article page asks every few
    seconds. The same for everyone, so shared caches answer most of it (the script asks
    without cookies); counted once per cache version of the publication."""
    state = catalog.page_state(slug)
    if state is None:
        abort(404)
    key = f"comment-count/{state.id}/{state.cache_version}"
    visible = cache.get(key)
    if visible is None:
        visible = thread.visible_counts([state.id]).get(state.id, 0)
        cache.set(key, visible)
    response = jsonify(count=visible)
    response.set_etag(hashlib.sha256(key.encode()).hexdigest())
    pagecache.share(response)
    return response.make_conditional(request)


@bp.app_template_global()
def page_token() -> str:
    """The token of the forms on shared article pages (comment, recommend)."""
    return formtoken.current()
