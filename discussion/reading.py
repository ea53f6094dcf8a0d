"""Reader pages: the front page, the publications index and the article page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from . import comments, publications, settings
from .forms import CommentForm
from .models import Publication, utcnow
from .pages import page_arg
from .visitor import own_comment_ids

bp = Blueprint("reading", __name__)


@bp.get("/")
def front() -> str:
    latest = publications.latest(current_app.config["FRONT_PAGE_PUBLICATIONS"])
    counts = comments.approved_counts(p.id for p in latest)
    return render_template("reading/front.html", publications=latest, counts=counts)


@bp.get("/publications/")
def index() -> str:
    filters = publications.resolve_filters(request.args.get("type"), request.args.get("topic"))
    if filters is None:
        abort(404)
    pages = publications.index_page(
        filters, page_arg(), current_app.config["PUBLICATIONS_PER_PAGE"]
    )
    return render_template(
        "reading/index.html",
        pages=pages,
        filters=filters,
        types=publications.all_types(),
        topics=publications.all_topics(),
        counts=comments.approved_counts(p.id for p in pages.items),
    )


@bp.get("/publications/<slug>")
def article(slug: str) -> str:
    publication = get_publication(slug)
    form = CommentForm(publication_id=publication.id)
    reply_to = request.args.get("reply_to", "")
    if reply_to.isdigit() and comments.replyable(int(reply_to), publication.id):
        form.parent_id.data = reply_to
    return render_article(publication, form)


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
    parent = None
    if form.parent_id.data and str(form.parent_id.data).isdigit():
        parent = comments.replyable(int(form.parent_id.data), publication.id)
    rule_settings = settings.rule_settings(request.host.split(":")[0])
    return render_template(
        "reading/article.html",
        publication=publication,
        comments_open=comments.is_open(publication, rule_settings, utcnow().date()),
        thread=thread,
        own_pending=comments.own_pending(publication, own_comment_ids()),
        form=form,
        form_notice=form_notice,
        reply_parent=parent,
        related=publications.related_entries(publication),
    )
