"""Reader pages: the front page, the publications index and the article page."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import aliased
from werkzeug.http import is_resource_modified

from ..comments import editing, fragments, posting, thread
from ..comments.forms import CommentForm
from ..comments.visitor import own_comment_ids
from ..discovery import metadata
from ..extensions import cache, db
from ..models import (
    Author,
    Comment,
    CommentState,
    Publication,
    PublicationType,
    Topic,
    utcnow,
)
from ..moderation import settings
from ..web import clock, database, formtoken, pagecache
from ..web.params import page_arg, parse_id
from . import catalog, related

bp = Blueprint("publications", __name__)


@bp.get("/")
def front() -> Response:
    def page() -> str:
        latest = catalog.latest(current_app.config["FRONT_PAGE_PUBLICATIONS"])
        return render_template(
            "publications/front.html",
            publications=latest,
            counts=thread.visible_counts(p.id for p in latest),
            discussed=catalog.most_discussed(clock.now(), MOST_DISCUSSED_SHOWN),
        )

    return _listing(("front",), page)


MOST_DISCUSSED_SHOWN = 5
LABELS = {"topics": Topic, "types": PublicationType, "authors": Author}


@bp.get("/<any(topics, types, authors):kind>/<slug>")
def label(kind: str, slug: str) -> Response:
    """A topic's, type's or author's page: the latest of their publications, as USIP's
    topic pages list them (an author's with the bio; a topic's with its most discussed)."""

    def page() -> str:
        found = catalog.by_label_slug(LABELS[kind], slug)
        if found is None:
            moved = catalog.moved_filters(*((slug, None) if kind == "types" else (None, slug)))
            if kind == "authors" or moved is None:
                abort(404)
            target = url_for("publications.label", kind=kind, slug=next(iter(moved.values())))
            abort(redirect(target, code=301))
        filters = catalog.Filters(
            type=found if kind == "types" else None,
            topic=found if kind == "topics" else None,
            author=found if kind == "authors" else None,
        )
        config = current_app.config
        pages = catalog.index_page(filters, page_arg(), config["PUBLICATIONS_PER_PAGE"])
        if pages.page > pages.pages:
            abort(404)
        discussed = (
            catalog.most_discussed(clock.now(), MOST_DISCUSSED_SHOWN, topic=found)
            if kind == "topics"
            else []
        )
        return render_template(
            "publications/label.html",
            kind=kind,
            label=found,
            pages=pages,
            counts=thread.visible_counts(p.id for p in pages.items),
            discussed=discussed,
        )

    return _listing(("label", kind, slug, request.args.get("page")), page)


@bp.get("/publications/")
def index() -> Response:
    def page() -> str:
        type_slug, topic_slug = request.args.get("type"), request.args.get("topic")
        labels = catalog.all_labels()
        filters = catalog.resolve_filters(type_slug, topic_slug, labels)
        if filters is None:
            moved = catalog.moved_filters(type_slug, topic_slug)
            if moved is None:
                abort(404)
            kept = {k: v for k, v in request.args.items() if k not in ("type", "topic")}
            abort(redirect(url_for("publications.index", **kept, **moved), code=301))
        config = current_app.config
        pages = catalog.index_page(filters, page_arg(), config["PUBLICATIONS_PER_PAGE"])
        if pages.page > pages.pages:
            abort(404)
        return render_template(
            "publications/index.html",
            pages=pages,
            filters=filters,
            labels=labels,
            counts=thread.visible_counts(p.id for p in pages.items),
        )

    args = request.args
    return _listing(("index", args.get("type"), args.get("topic"), args.get("page")), page)


def _listing(key: tuple[Any, ...], page: Callable[[], str]) -> Response:
    """A listing (``page()`` builds it, or aborts: 404, or a 301 to where it moved): the
    same for every reader not signed in and without a notice, so kept in the process as
    long as the shared copy (:func:`pagecache.keep`) under ``key``, the arguments the page
    reads (as given: ``page()`` checks them, and what aborts is never kept): readers
    with a session (everyone who commented) skip its queries too. Shared
    whole with those without one. Signed-in staff (their navigation) and a notice get it
    built anew."""
    if current_user.is_authenticated or session.get("_flashes"):
        return make_response(page()).make_conditional(request)
    response = make_response(pagecache.keep(("listing", *key), page))
    response.add_etag()
    if _is_plain_visit():
        pagecache.share(response)
    return response.make_conditional(request)


@bp.get("/publications/<slug>")
def article(slug: str) -> Response | str | bytes:
    if _is_plain_visit():
        state = catalog.page_state(slug)
        if state is None:
            return _moved_or_404(slug)
        return _cached_article(state)
    if "reply_to" not in request.args:
        place = _kept_place(slug)
        if place is None:
            return _moved_or_404(slug)
        page = _reader_article(place, slug)
        if page is not None:
            return page
    publication = catalog.by_slug(slug)
    if publication is None:
        return _moved_or_404(slug)
    form = CommentForm(publication_id=publication.id)
    if current_user.is_authenticated:  # staff comment as themselves
        form.name.data = current_user.username
    reply_to = parse_id(request.args.get("reply_to"))
    if reply_to is not None and posting.replyable(reply_to, publication.id):
        form.parent_id.data = str(reply_to)
    return render_article(publication, form)


def _moved_or_404(slug: str) -> Response:
    """A publication's old address (its slug changed after it was public), or its address
    in other case: 301 to the canonical one, keeping the query string; else 404."""
    current = catalog.moved_to(slug)
    if current is None and slug != slug.lower() and catalog.page_state(slug.lower()):
        current = slug.lower()
    if current is None:
        abort(404)
    target = url_for("publications.article", slug=current)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=301)


@bp.get("/publications/<slug>/")
def article_with_slash(slug: str) -> Response:
    """The article's address with a trailing slash: 301 to the one without."""
    target = url_for("publications.article", slug=slug)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=301)


def _is_plain_visit() -> bool:
    """A reader with nothing of their own on the page: no notice, no pending comment,
    no reply in progress, not signed in."""
    return (
        "reply_to" not in request.args
        and not own_comment_ids()
        and not session.get("_flashes")
        and not current_user.is_authenticated
    )


class _Body(NamedTuple):
    """The article page as every reader without a notice or comment of their own gets it,
    cut where the reader's part goes (:data:`_READER`), with the ids of the comments it
    shows and where each thread of its list lies in ``after``: a reader whose comments
    are among them gets those threads rendered for them in their place
    (:func:`_own_threads`). Kept encoded: each view then encodes only its own parts."""

    before: bytes
    after: bytes
    comment_ids: frozenset[int]
    says_empty: bool  # "No comments yet", which a reader with a pending comment is not told
    comments_open: bool
    roots: tuple[int, ...]  # the list's top-level comments, in order
    spans: tuple[tuple[int, int], ...]  # where each one's thread lies in ``after``
    thread_of: dict[int, int]  # each comment of the list: the index of its thread


class _Article(NamedTuple):
    """What the reader's part needs of the publication (as the template names it)."""

    id: int
    slug: str


# Where the reader's part goes: random, and no text on a page holds NUL (the body is cut
# there before it is kept).
_READER = f"\x00{secrets.token_hex(8)}\x00"
_THREAD = f"\x00{secrets.token_hex(8)}\x00"  # before each thread of the list, and after it


class _StaffMarks(NamedTuple):
    """Where the body kept for staff takes each one's navigation, form token and name.
    The body is kept with them, in a cache other processes may share (Redis): so they
    are the same in every process of the site, derived from its secret key."""

    nav: str
    token: str
    name: str


def _staff_marks() -> _StaffMarks:
    return _staff_marks_for(repr(current_app.secret_key))


@functools.lru_cache(maxsize=4)
def _staff_marks_for(secret: str) -> _StaffMarks:
    digest = hashlib.blake2b(secret.encode(), digest_size=24, person=b"staff-marks").hexdigest()
    return _StaffMarks(*(f"\x00{digest[i : i + 16]}\x00" for i in range(0, 48, 16)))


class _Staff(NamedTuple):
    """What the page kept for staff knows of who reads it: what they may do, not who
    they are (the template's ``current_user`` while it is rendered)."""

    can_moderate: bool
    can_edit: bool
    is_admin: bool
    is_authenticated: bool = True


def _staff() -> _Staff | None:
    """The signed-in reader's role, or None for a reader who is not signed in."""
    if not current_user.is_authenticated:
        return None
    return _Staff(current_user.can_moderate, current_user.can_edit, current_user.is_admin)


def _body_key(state: catalog.PageState) -> str:
    """The cache key of the shared body: the publication's version, the thread's page,
    order and tab, whether comments are open, the hour's form token, the live mark (a
    prefix of its own: a shared cache may still hold whole pages under "article/", bodies
    as text under "article-body/" and without their threads' places under
    "article-bytes/")."""
    page = page_arg()
    open_now = posting.is_open(state, settings.rule_settings(), utcnow().date())
    return (
        f"article-threads/{state.id}/{state.cache_version}/{page}/{sort_arg()}/{_picks_tab()}/"
        f"{int(open_now)}/{formtoken.window()}/{catalog.live_mark()}"
    )


def _body(state: catalog.PageState, key: str, staff: _Staff | None = None) -> _Body:
    """The shared body for ``key``, rendered once per cache key; for ``staff``, the one
    all staff with that role get, with marks where each one's own details go."""
    if staff is not None:
        key += "/staff/" + "".join(str(int(flag)) for flag in staff)
    found = cache.get(key)
    if found is not None:
        return _Body(*found)
    publication = db.get_or_404(Publication, state.id)
    form = CommentForm(publication_id=publication.id)
    marks = _staff_marks() if staff is not None else None
    if marks is not None:  # staff comment as themselves
        form.name.data = marks.name
    context = _article_context(publication, form, _NOBODY)
    context.update(reader_part=Markup(_READER), own_pending=[], thread_mark=Markup(_THREAD))
    if marks is not None:
        context.update(
            current_user=staff, staff_nav=Markup(marks.nav), csrf_token=lambda: marks.token
        )
    before, _, after = render_template("publications/article.html", **context).partition(_READER)
    nodes = context["thread"].nodes
    # [what precedes the list, each thread, what follows] when the list was rendered
    pieces = [piece.encode() for piece in after.split(_THREAD)]
    spans, offset = [], len(pieces[0])
    for piece in pieces[1:-1]:
        spans.append((offset, offset + len(piece)))
        offset += len(piece)
    if len(spans) != len(nodes):  # no list (the picks tab): no thread is filled in
        spans = []
    listed = nodes if spans else []
    shown = [c.id for c in context["picks"] or ()] + list(_ids(nodes))
    body = _Body(
        before.encode(),
        b"".join(pieces),
        frozenset(shown),
        not nodes and context["picks"] is None,
        context["comments_open"],
        tuple(node.comment.id for node in listed),
        tuple(spans),
        {i: index for index, node in enumerate(listed) for i in _ids([node])},
    )
    cache.set(key, tuple(body))
    return body


def _ids(nodes: list[thread.Node]) -> Iterator[int]:
    for node in nodes:
        yield node.comment.id
        yield from _ids(node.replies)


def _cached_article(state: catalog.PageState) -> Response:
    """The page most readers get, the same for all of them: rendered once per cache
    version of the publication (and hour of the form's token), marked for shared caches
    for ``SHARED_PAGE_SECONDS``; 304 when the reader's copy is current."""
    key = _body_key(state)
    etag = hashlib.sha256(key.encode()).hexdigest()
    if is_resource_modified(request.environ, etag=etag):
        body = _body(state, key)
        response = make_response(body.before + body.after)  # a plain visit: no part of theirs
    else:  # the asker (nginx revalidating, a browser) has this version: no body is built
        response = make_response(b"")
    response.set_etag(etag)
    pagecache.share(response)
    return response.make_conditional(request)


class _Place(NamedTuple):
    """Which shared body a page of a publication gets: the publication's state and the
    body's cache key (:func:`_body_key`)."""

    state: catalog.PageState
    key: str


def _place(slug: str) -> _Place | None:
    state = catalog.page_state(slug)
    return None if state is None else _Place(state, _body_key(state))


def _kept_place(slug: str) -> _Place | None:
    """:func:`_place`, kept as long as the shared page (:func:`pagecache.keep`): readers
    with a session get the body as fresh as those without, without a query."""
    args = (page_arg(), sort_arg(), _picks_tab())
    return pagecache.keep(("article-place", slug, *args), lambda: _place(slug))


def _reader_article(place: _Place, slug: str) -> bytes | None:
    """The page of a reader with a notice or comments of their own, or signed in: the
    shared body (staff's, for staff) with their part filled in, and the threads in it
    that hold their comments (whose buttons are theirs) rendered for them. None, and the
    page is built whole, when it shows a comment of a signed-in reader's own or one of
    theirs outside the list (an editors' pick), or says there are none while one of
    theirs awaits. Once one of theirs here was decided, the body is at least as fresh as
    that."""
    own_ids = own_comment_ids()
    own = _own(place.state.id, own_ids)
    if own.settled:
        place = _place(slug) or place
    key, state, staff = place.key, place.state, _staff()
    body = pagecache.keep(("article-body", key, staff), lambda: _body(state, key, staff))
    if own.pending and body.says_empty:
        return None
    publication = _Article(state.id, slug)
    after = body.after
    shown = body.comment_ids.intersection(own_ids)
    if shown:
        after = _own_threads(body, shown, publication, own) if staff is None else None
        if after is None:
            return None
    page = body.before + _reader_part(publication, own).encode() + after
    return page if staff is None else _staff_filled_in(page)


class _PageNumber(NamedTuple):
    page: int  # (as Flask-SQLAlchemy's pagination names it)


class _ThreadPage(NamedTuple):
    """What one thread needs of the page around it (as the template names it): the
    page and order its forms come back to."""

    pages: _PageNumber
    sort: str


def _own_threads(
    body: _Body, own_shown: frozenset[int], publication: _Article, own: _Own
) -> bytes | None:
    """The body's ``after`` with the threads holding the reader's own comments rendered
    for them (no Recommend button on theirs, their edit links), read afresh; None when
    one of them is not in the list (an editors' pick) or its top-level comment is no
    longer shown."""
    indices: set[int] = set()
    for comment_id in own_shown:
        index = body.thread_of.get(comment_id)
        if index is None:
            return None
        indices.add(index)
    around = _ThreadPage(_PageNumber(page_arg()), sort_arg())
    max_depth = current_app.config["COMMENT_MAX_DEPTH"]
    pieces, last = [], 0
    for index in sorted(indices):
        node = thread.one(publication.id, body.roots[index], max_depth=max_depth)
        if node is None:
            return None
        start, end = body.spans[index]
        html = render_template(
            "publications/_thread.html",
            node=node,
            publication=publication,
            comments_open=body.comments_open,
            thread=around,
            editable=own.editable,
            own_ids=set(own.ids),
        )
        pieces += [body.after[last:start], html.encode()]
        last = end
    pieces.append(body.after[last:])
    return b"".join(pieces)


def _staff_filled_in(page: bytes) -> bytes:
    """The page kept for staff with the signed-in reader's navigation, form token (bound
    to their session) and name filled in where it marks them."""
    nav = render_template("_staff_nav.html")  # first: it makes the session's token
    marks = _staff_marks()
    return (
        page.replace(marks.nav.encode(), nav.encode())
        .replace(marks.token.encode(), generate_csrf().encode())
        .replace(marks.name.encode(), escape(current_user.username).encode())
    )


class _Own(NamedTuple):
    """The reader's own recent comments: their ids, those on this publication awaiting
    moderation, those they may still edit or delete, with until when, and whether any
    of theirs on it is no longer pending (approved, refused or withdrawn)."""

    ids: list[int]
    pending: list[Row[Any]]  # as :data:`_OWN_COMMENTS` reads them
    editable: dict[int, datetime]
    settled: bool


_NOBODY = _Own([], [], {}, False)

_Parent = aliased(Comment)
# What the page shows of the reader's own comments on one publication, with the name of
# the comment each replies to: read on each of their views, so a plain query, not the ORM.
_OWN_COMMENTS = (
    select(
        Comment.id,
        Comment.state,
        Comment.name,
        Comment.body_html,
        Comment.created_at,
        Comment.edited_at,
        Comment.deleted_at,
        Comment.featured_at,
        Comment.staff_id,
        Comment.recommendations,
        _Parent.name.label("parent_name"),
    )
    .outerjoin(_Parent, _Parent.id == Comment.parent_id)
    .where(
        Comment.id.in_(bindparam("ids", expanding=True)),
        Comment.publication_id == bindparam("publication_id"),
    )
    .order_by(Comment.created_at, Comment.id)
)


def _own(publication_id: int, own_ids: list[int]) -> _Own:
    """The reader's own comments (``own_ids``, from their session) on this publication,
    read in one query: on a page only comments of its publication are theirs to show."""
    if not own_ids:
        return _NOBODY
    minutes = current_app.config["COMMENT_EDIT_MINUTES"]
    now = clock.now()
    with database.reading() as connection:
        found = connection.execute(
            _OWN_COMMENTS, {"ids": own_ids, "publication_id": publication_id}
        ).all()
    pending = [c for c in found if c.state is CommentState.PENDING]
    return _Own(
        own_ids,
        pending,
        {
            c.id: editing.deadline(c, minutes)
            for c in found
            if editing.refusal(c, owned=True, now=now, minutes=minutes) is None
        },
        len(pending) < len(found),
    )


def _reader_part(publication: Publication | _Article, own: _Own) -> str:
    """The reader's notice and their comments awaiting moderation; for a reader not
    signed in without a notice, as rendered before for the same comments
    (:func:`fragments.kept`); nothing without either (most views)."""

    def render() -> str:
        return render_template(
            "publications/_reader.html",
            publication=publication,
            own_pending=own.pending,
            editable=own.editable,
            own_ids=set(own.ids),
        )

    notice = get_flashed_messages()  # (read once a request: the template gets it too)
    if not own.pending:
        return render() if notice else ""
    if notice or current_user.is_authenticated:
        return render()
    return fragments.kept(
        (
            "reader",
            publication.id,
            publication.slug,
            [(*c, own.editable.get(c.id)) for c in own.pending],
            # where the status links point (SITE_URL, else this request's address)
            current_app.config.get("SITE_URL") or (request.scheme, request.host),
            request.script_root,
        ),
        render,
    )


def get_publication(slug: str) -> Publication:
    """The publication with this slug, or 404."""
    publication = catalog.by_slug(slug)
    if publication is None:
        abort(404)
    return publication


def render_article(
    publication: Publication,
    form: CommentForm,
    *,
    form_notice: str | None = None,
    preview_banner: str | None = None,
    preview: str | None = None,
) -> str:
    """The article page, with the comment form as given (fresh, or holding the reader's
    text, with its ``preview`` when asked); the desk's previews add a banner above it.

    What belongs to one reader (their pending comments, what they may still edit,
    moderators' buttons) is only on pages that are never shared: a reader with a
    session or signed in is not served the shared page."""
    own = _own(publication.id, own_comment_ids())
    context = _article_context(
        publication,
        form,
        own,
        form_notice=form_notice,
        preview_banner=preview_banner,
        preview=preview,
    )
    context.update(own_pending=own.pending, reader_part=Markup(_reader_part(publication, own)))
    return render_template("publications/article.html", **context)


def _article_context(
    publication: Publication,
    form: CommentForm,
    own: _Own,
    *,
    form_notice: str | None = None,
    preview_banner: str | None = None,
    preview: str | None = None,
) -> dict[str, Any]:
    """The article template's values but the reader's part (``reader_part``,
    ``own_pending``); ``own`` marks the reader's comments in the thread."""
    config = current_app.config
    comments = thread.page(
        publication,
        page=page_arg(),
        per_page=config["COMMENT_THREADS_PER_PAGE"],
        max_depth=config["COMMENT_MAX_DEPTH"],
        sort=sort_arg(),
    )
    parent_id = parse_id(form.parent_id.data)
    parent = posting.replyable(parent_id, publication.id) if parent_id is not None else None
    return {
        "publication": publication,
        "comments_open": posting.is_open(publication, settings.rule_settings(), utcnow().date()),
        "thread": comments,
        "editable": own.editable,
        "own_ids": set(own.ids),
        "picks": thread.picks(publication) if _picks_tab() else None,
        "form": form,
        "form_notice": form_notice,
        "preview": preview,
        "sorts": thread.SORTS,
        "thread_url": thread_url,
        "reply_parent": parent,
        "related": related.entries(publication),
        "preview_banner": preview_banner,
        "metadata": metadata.article(publication, comments),
        "thread_mark": "",  # (_body marks where each thread lies)
    }


def _picks_tab() -> bool:
    """The reader opened the Picks tab (``?tab=picks``)."""
    return request.args.get("tab") == "picks"


def sort_arg() -> str:
    """The thread's order from ``?sort=``; the site's default for anything else."""
    sort = request.args.get("sort", "")
    return sort if sort in thread.SORTS else current_app.config["COMMENT_SORT_DEFAULT"]


def first_pages(slug: str) -> list[str]:
    """The article's first page in each of the thread's orders, as its links give them."""
    return [thread_url(slug, 1, sort) for sort in thread.SORTS]


def thread_url(slug: str, page: int, sort: str, anchor: str | None = None) -> str:
    """The article at one page of its thread in one order (defaults left out), at
    ``anchor`` if given."""
    args: dict[str, Any] = {}
    if page > 1:
        args["page"] = page
    if sort != current_app.config["COMMENT_SORT_DEFAULT"]:
        args["sort"] = sort
    return url_for("publications.article", slug=slug, _anchor=anchor, **args)
