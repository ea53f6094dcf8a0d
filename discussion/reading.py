"""Reader pages: the front page, the publications index and the article page."""

from __future__ import annotations

import hashlib

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    render_template,
    request,
    session,
)
from flask_login import current_user

from . import comments, pagecache, pagetoken, publications, settings
from .extensions import cache, db
from .forms import CommentForm
from .models import Publication, utcnow
from .pages import page_arg, parse_id
from .visitor import own_comment_ids

bp = Blueprint("reading", __name__)


@bp.get("/")
def front() -> Response:
    latest = publications.latest(current_app.config["FRONT_PAGE_PUBLICATIONS"])
    counts = comments.approved_counts(p.id for p in latest)
    return _listing(render_template("reading/front.html", publications=latest, counts=counts))


@bp.get("/publications/")
def index() -> Response:
    filters = publications.resolve_filters(request.args.get("type"), request.args.get("topic"))
    if filters is None:
        abort(404)
    pages = publications.index_page(
        filters, page_arg(), current_app.config["PUBLICATIONS_PER_PAGE"]
    )
    if pages.page > pages.pages:
        abort(404)
    return _listing(
        render_template(
            "reading/index.html",
            pages=pages,
            filters=filters,
            types=publications.all_types(),
            topics=publications.all_topics(),
            counts=comments.approved_counts(p.id for p in pages.items),
        )
    )


def _listing(html: str) -> Response:
    """A listing: the same for every first-time reader, so shared like the article."""
    response = make_response(html)
    if _is_plain_visit():
        response.add_etag()
        _share(response)
    return response.make_conditional(request)


@bp.get("/publications/<slug>")
def article(slug: str) -> Response | str:
    if _is_plain_visit():
        state = publications.page_state(slug)
        if state is None:
            abort(404)
        return _cached_article(state)
    publication = get_publication(slug)
    form = CommentForm(publication_id=publication.id)
    reply_to = parse_id(request.args.get("reply_to"))
    if reply_to is not None and comments.replyable(reply_to, publication.id):
        form.parent_id.data = str(reply_to)
    return render_article(publication, form)


def _is_plain_visit() -> bool:
    """A reader with nothing of their own on the page: no notice, no pending comment,
    no reply in progress, not signed in."""
    return (
        "reply_to" not in request.args
        and not own_comment_ids()
        and not session.get("_flashes")
        and not current_user.is_authenticated
    )


def _cached_article(state: publications.PageState) -> Response:
    """The page most readers get, the same for all of them: rendered once per cache
    version of the publication (and hour of the form's token), marked for shared caches
    for ``SHARED_PAGE_SECONDS``; 304 when the reader's copy is current."""
    page = page_arg()
    open_now = comments.is_open(state, settings.rule_settings(), utcnow().date())
    key = f"article/{state.id}/{state.cache_version}/{page}/{int(open_now)}/{pagetoken.window()}"
    html = cache.get(key)
    if html is None:
        publication = db.get_or_404(Publication, state.id)
        html = render_article(publication, CommentForm(publication_id=publication.id))
        cache.set(key, html)
    response = make_response(html)
    response.set_etag(hashlib.sha256(key.encode()).hexdigest())
    _share(response)
    return response.make_conditional(request)


def _share(response: Response) -> None:
    """Mark a page every first-time reader gets alike for shared caches (this process's
    page cache, nginx, a CDN) for ``SHARED_PAGE_SECONDS``; browsers revalidate it."""
    seconds = current_app.config["SHARED_PAGE_SECONDS"]
    if seconds > 0:
        response.cache_control.public = True
        response.cache_control.max_age = 0
        response.cache_control.s_maxage = seconds
        # nginx counts whole seconds: with s-maxage alone it keeps the page up to a
        # second longer. This absolute expiry (the start of the last second it may be
        # served in) ends it when the process's own copy ends (pagecache.shared_until).
        response.headers["X-Accel-Expires"] = f"@{pagecache.shared_until(seconds) - 1}"


def get_publication(slug: str) -> Publication:
    """The publication with this slug, or 404."""
    publication = publications.by_slug(slug)
    if publication is None:
        abort(404)
    return publication


def render_article(
    publication: Publication, form: CommentForm, *, form_notice: str | None = None
) -> str:
    """The article page, with the comment form as given (fresh, or holding the reader's text)."""
    config = current_app.config
    thread = comments.thread(
        publication,
        page=page_arg(),
        per_page=config["COMMENT_THREADS_PER_PAGE"],
        max_depth=config["COMMENT_MAX_DEPTH"],
    )
    parent_id = parse_id(form.parent_id.data)
    parent = comments.replyable(parent_id, publication.id) if parent_id is not None else None
    return render_template(
        "reading/article.html",
        publication=publication,
        comments_open=comments.is_open(publication, settings.rule_settings(), utcnow().date()),
        thread=thread,
        own_pending=comments.own_pending(publication, own_comment_ids()),
        form=form,
        form_notice=form_notice,
        reply_parent=parent,
        related=publications.related_entries(publication),
    )
