"""The desk's screens: the list, writing and editing, previews, revisions, the related
list an editor steers. Editors and admins only."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_user
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from ..accounts import staff
from ..accounts.access import admin_required
from ..accounts.forms import LoginForm
from ..comments.forms import CommentForm
from ..extensions import db, limiter
from ..media import library
from ..models import Author, Publication
from ..moderation.forms import ActionForm
from ..publications import related
from ..publications.views import render_article
from ..web import clock, links
from ..web.params import page_arg, parse_id, without_control_characters
from . import editing, labels, listing, previews
from .forms import PublicationForm

bp = Blueprint("desk", __name__)

EXPIRED = "Not saved: the form had expired. Your text is below, unchanged; please save again."
RESUMED = "You are signed in again. Your text is below, not yet saved: save it when ready."
CARRIED_OUT = frozenset({"csrf_token", "username", "password", "next", "target"})


@bp.before_request
def editors_only() -> Any:
    """Anonymous visitors sign in (keeping what they were saving); others need the editor
    role (a moderator gets 403)."""
    if request.endpoint in ("desk.resume", "desk.shared_preview"):
        return None
    if not current_user.is_authenticated:
        if request.method == "POST" and request.endpoint in ("desk.new", "desk.edit"):
            return _sign_in_again(request.form, request.path, status=401)
        return current_app.login_manager.unauthorized()
    if not current_user.can_edit:
        abort(403)
    return None


def _sign_in_again(form: MultiDict, target: str, *, status: int, error: str | None = None) -> Any:
    """A sign-in form that carries every field the editor was saving."""
    carried = [(k, v) for k, v in form.items(multi=True) if k not in CARRIED_OUT]
    login = LoginForm(formdata=None)
    if error:
        login.password.errors = [error]
    return render_template("desk/resume.html", form=login, carried=carried, target=target), status


def _failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


@bp.post("/desk/resume")
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ADDRESS"],
    deduct_when=_failed,
    key_func=get_remote_address,
)
def resume() -> Any:
    """Sign in again and get back the form being saved, filled as it was (not saved)."""
    target = request.form.get("target", "")
    publication_id = _edit_target(target)
    login = LoginForm()
    person = None
    if login.validate_on_submit():
        person = staff.authenticate(login.username.data or "", login.password.data or "")
    if person is None or not person.can_edit:
        g.login_failed = True
        return _sign_in_again(
            request.form,
            target,
            status=401,
            error="That username and password do not match an editor's account.",
        )
    login_user(person)
    data = MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in CARRIED_OUT])
    form = PublicationForm(formdata=data)
    form.validate()
    publication = db.session.get(Publication, publication_id) if publication_id else None
    return _edit_page(publication, form, notice=RESUMED)


def _edit_target(target: str) -> int | None:
    """The publication an edit URL names; None for a new one; 404 for anything else."""
    if target == url_for("desk.new"):
        return None
    parts = target.strip("/").split("/")
    if len(parts) == 4 and parts[:2] == ["desk", "publications"] and parts[3] == "edit":
        publication_id = parse_id(parts[2])
        if publication_id is not None:
            return publication_id
    abort(404)


@bp.errorhandler(CSRFError)
def csrf_refused(_error: CSRFError) -> Any:
    """An expired form: the editor gets it back as typed, nothing saved."""
    if request.endpoint in ("desk.new", "desk.edit") and current_user.is_authenticated:
        args = request.view_args or {}
        publication = (
            db.session.get(Publication, args["publication_id"])
            if "publication_id" in args
            else None
        )
        form = PublicationForm(formdata=request.form)
        form.validate()
        return _edit_page(publication, form, notice=EXPIRED, status=400)
    if request.endpoint in ("desk.new", "desk.edit"):
        return _sign_in_again(request.form, request.path, status=401)
    flash("Nothing was changed: the page had expired. Please try again.", "error")
    return redirect(url_for("desk.index"), code=303)


# --- the list ----------------------------------------------------------------------


@bp.get("/desk/")
def index() -> str:
    status_arg = request.args.get("status", "")
    statuses = {s.value: s for s in editing.Status}
    if status_arg and status_arg not in statuses:
        abort(404)
    type_arg, topic_arg = request.args.get("type", ""), request.args.get("topic", "")
    query = listing.DeskQuery(
        search=without_control_characters(request.args.get("q", "")).strip()[:200],
        status=statuses.get(status_arg),
        type_id=parse_id(type_arg),
        topic_id=parse_id(topic_arg),
    )
    if (type_arg and query.type_id is None) or (topic_arg and query.topic_id is None):
        abort(404)
    now = clock.now()
    pages = listing.page(
        query, now=now, page=page_arg(), per_page=current_app.config["DESK_PAGE_SIZE"]
    )
    return render_template(
        "desk/index.html",
        pages=pages,
        query=query,
        statuses=list(editing.Status),
        status_of=lambda p: editing.status(p, now),
        types=listing.types(),
        topics=listing.topics(),
        args={k: v for k, v in request.args.items() if k != "page" and v},
    )


# --- writing -----------------------------------------------------------------------


@bp.route("/desk/publications/new", methods=["GET", "POST"])
def new() -> Any:
    form = PublicationForm()
    if request.method == "GET":
        form.revision.data = "0"
        return _edit_page(None, form)
    return _save(None, form)


@bp.route("/desk/publications/<id:publication_id>/edit", methods=["GET", "POST"])
def edit(publication_id: int) -> Any:
    publication = db.get_or_404(Publication, publication_id)
    if request.method == "GET":
        form = PublicationForm.showing(editing.Draft.of(publication), publication.revision)
        if publication.published_at is not None:
            form.published_at.data = _site_naive(publication.published_at)
        return _edit_page(publication, form)
    return _save(publication, PublicationForm())


def _site_naive(value: Any) -> Any:
    return clock.in_site_zone(value).replace(tzinfo=None)


def _save(publication: Publication | None, form: PublicationForm) -> Any:
    try:
        action = editing.Action(request.form.get("action", ""))
    except ValueError:
        action = None
    upload = request.files.get("figure")
    has_figure = bool(upload and upload.filename) or bool(publication and publication.figure_id)
    valid = form.validate_on_submit()
    if not valid or form.needs_alt(has_figure) or action is None:
        notice = "Not saved. Please correct the fields marked below." if form.errors else None
        if action is None and not form.errors:
            notice = "Not saved: choose Save draft, Publish or Unpublish."
        return _edit_page(publication, form, notice=notice, status=400)
    figure_id = publication.figure_id if publication else None
    if upload and upload.filename:
        try:
            figure_id = library.upload(
                upload.read(),
                upload.filename,
                form.figure_alt.data or "",
                current_user,
                library.storage(),
            ).id
        except library.UploadRefused as refused:
            db.session.rollback()
            form.figure.errors = [str(refused)]
            return _edit_page(publication, form, notice="Not saved: see the figure.", status=400)
    published_at = form.published_at.data
    draft = form.draft(clock.from_site_zone(published_at) if published_at else None, figure_id)
    now = clock.now()
    try:
        saved = editing.save(
            publication,
            draft,
            action,
            current_user,
            now=now,
            started_from=parse_id(form.revision.data) if publication is not None else None,
        )
    except editing.Conflict as conflict:
        db.session.rollback()
        current = db.session.get(Publication, publication.id) if publication else None
        return _edit_page(current, form, notice=str(conflict), status=409, conflict=True)
    except editing.DeskError as refused:
        db.session.rollback()
        if publication is not None:
            publication = db.session.get(Publication, publication.id)
        form.slug.errors = [*form.slug.errors, str(refused)]
        return _edit_page(publication, form, notice="Not saved.", status=400)
    db.session.commit()
    flash(_saved_message(saved), "success")
    return redirect(url_for("desk.edit", publication_id=saved.publication.id), code=303)


def _saved_message(saved: editing.Saved) -> str:
    publication = saved.publication
    if saved.status is editing.Status.SCHEDULED:
        when = clock.in_site_zone(publication.published_at).strftime("%Y-%m-%d %H:%M")
        return f"Scheduled: “{publication.title}” appears at {when}."
    return {
        editing.Status.DRAFT: f"Draft saved: “{publication.title}”.",
        editing.Status.PUBLISHED: f"Published: “{publication.title}”.",
        editing.Status.UNPUBLISHED: f"Unpublished: “{publication.title}” is off the site.",
    }[saved.status]


def _edit_page(
    publication: Publication | None,
    form: PublicationForm,
    *,
    notice: str | None = None,
    status: int = 200,
    conflict: bool = False,
) -> Any:
    now = clock.now()
    preview_url = None
    if publication is not None:
        try:
            preview_url = links.absolute(
                "desk.shared_preview",
                token=previews.token(publication.id, current_app.config["SECRET_KEY"]),
            )
        except links.NoSiteAddress:  # shown as a note: the link needs the site's address
            preview_url = None
    html = render_template(
        "desk/edit.html",
        publication=publication,
        form=form,
        notice=notice,
        conflict=conflict,
        status=editing.status(publication, now) if publication else None,
        revisions=editing.revisions(publication) if publication else [],
        related=related.entries(publication, public_only=False) if publication else [],
        excluded=related.excluded(publication) if publication else [],
        preview_url=preview_url,
        preview_hours=current_app.config["PREVIEW_LINK_HOURS"],
        types=listing.types(),
        topics=listing.topics(),
        action_form=ActionForm(),
        site_zone=current_app.config["SITE_TIMEZONE"],
    )
    return html, status


# --- previews ----------------------------------------------------------------------


def _preview(publication: Publication, banner: str) -> Any:
    page = render_article(
        publication, CommentForm(publication_id=publication.id), preview_banner=banner
    )
    response = current_app.make_response(page)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/desk/publications/<id:publication_id>/preview")
def preview(publication_id: int) -> Any:
    publication = db.get_or_404(Publication, publication_id)
    return _preview(publication, "Preview: this is how readers will see the article.")


@bp.get("/preview/<token>")
def shared_preview(token: str) -> Any:
    """A shared preview link: no sign-in, until it expires."""
    max_age = current_app.config["PREVIEW_LINK_HOURS"] * 3600
    publication_id = previews.publication_id(token, current_app.config["SECRET_KEY"], max_age)
    publication = db.session.get(Publication, publication_id) if publication_id else None
    if publication is None:
        abort(404)
    return _preview(publication, "Preview shared by the newsroom: not yet public.")


# --- revisions ---------------------------------------------------------------------


@bp.get("/desk/publications/<id:publication_id>/revisions/<id:number>")
def revision(publication_id: int, number: int) -> str:
    publication = db.get_or_404(Publication, publication_id)
    old = editing.revision(publication, number)
    if old is None:
        abort(404)
    return render_template(
        "desk/revision.html",
        publication=publication,
        revision=old,
        changes=editing.compare(editing.Draft.from_snapshot(old.fields), publication),
        action_form=ActionForm(),
    )


@bp.post("/desk/publications/<id:publication_id>/revisions/<id:number>/restore")
def restore(publication_id: int, number: int) -> Response:
    publication = db.get_or_404(Publication, publication_id)
    if not ActionForm().validate_on_submit():
        flash(EXPIRED, "error")
        return redirect(url_for("desk.edit", publication_id=publication.id), code=303)
    try:
        editing.restore(publication, number, current_user, now=clock.now())
    except editing.DeskError as refused:
        db.session.rollback()
        flash(f"Not restored: {refused}", "error")
    else:
        db.session.commit()
        flash(f"Revision {number} restored.", "success")
    return redirect(url_for("desk.edit", publication_id=publication_id), code=303)


# --- the related list ----------------------------------------------------------------


@bp.post(
    "/desk/publications/<id:publication_id>/related/<id:related_id>/"
    "<any(pin, unpin, exclude, include):change>"
)
def steer_related(publication_id: int, related_id: int, change: str) -> Response:
    publication = db.get_or_404(Publication, publication_id)
    db.get_or_404(Publication, related_id)
    if not ActionForm().validate_on_submit():
        flash("Nothing was changed: the page had expired. Please try again.", "error")
    else:
        related.steer(publication, related_id, change, current_user)
        db.session.commit()
        flash(
            {
                "pin": "Pinned to the top of the related list.",
                "unpin": "Unpinned.",
                "exclude": "Excluded from the related list.",
                "include": "Allowed back into the related list.",
            }[change],
            "success",
        )
    return redirect(
        url_for("desk.edit", publication_id=publication_id, _anchor="related"), code=303
    )


# --- types, topics, authors --------------------------------------------------------


@bp.get("/desk/labels")
@admin_required
def labels_page() -> str:
    return render_template(
        "desk/labels.html",
        kinds=[(kind, labels.with_counts(kind)) for kind in labels.KINDS],
        action_form=ActionForm(),
    )


@bp.post("/desk/labels/<any(type, topic):kind>/<id:label_id>/<any(rename, merge):change>")
@admin_required
def change_label(kind: str, label_id: int, change: str) -> Response:
    if not ActionForm().validate_on_submit():
        flash("Nothing was changed: the page had expired. Please try again.", "error")
        return redirect(url_for("desk.labels_page"), code=303)
    try:
        if change == "rename":
            label = labels.rename(kind, label_id, request.form.get("name", ""), current_user)
            message = f"Renamed: now “{label.name}”; the old filter address leads here."
        else:
            into = parse_id(request.form.get("into", ""))
            if into is None:
                raise editing.DeskError("Choose the one to merge into.")
            label = labels.merge(kind, label_id, into, current_user)
            message = (
                f"Merged into “{label.name}”. Related lists take it up at the next refresh-related."
            )
    except editing.DeskError as refused:
        db.session.rollback()
        flash(f"Not changed: {refused}", "error")
    else:
        db.session.commit()
        flash(message, "success")
    return redirect(url_for("desk.labels_page"), code=303)


@bp.get("/desk/authors")
def authors_page() -> str:
    return render_template("desk/authors.html", authors=labels.authors())


@bp.route("/desk/authors/<id:author_id>", methods=["GET", "POST"])
def author_page(author_id: int) -> Any:
    author = db.get_or_404(Author, author_id)
    status = 200
    if request.method == "POST":
        bio = request.form.get("bio", "")
        if not ActionForm().validate_on_submit():
            flash(EXPIRED, "error")
            status = 400
        else:
            try:
                labels.set_bio(author, bio, current_user)
            except editing.DeskError as refused:
                db.session.rollback()
                flash(f"Not saved: {refused}", "error")
                status = 400
            else:
                db.session.commit()
                flash(f"Saved: {author.name}'s bio.", "success")
                return redirect(url_for("desk.author_page", author_id=author.id), code=303)
        return render_template(
            "desk/author.html", author=author, bio=bio, action_form=ActionForm()
        ), status
    return render_template(
        "desk/author.html", author=author, bio=author.bio or "", action_form=ActionForm()
    )
