"""The API's blueprint (``/api/v1``): thin views over the catalogue, the thread, posting,
the status token and the moderation services; anonymous reads shared like the pages."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    json,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_cors import CORS
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ..comments import limits, posting, status, thread
from ..comments.forms import CommentForm
from ..comments.visitor import request_origin
from ..embed import pages
from ..extensions import cache, csrf, db
from ..mail import limits as mail_limits
from ..models import Author, Comment, CommentState, Publication, TokenScope, utcnow
from ..moderation import decisions, queue, settings
from ..publications import catalog
from ..web import database, errors, pagecache, security
from ..web.params import MAX_ID, parse_id, without_control_characters
from . import bodies, document, represent, tokens
from .problems import KINDS, Problem, from_exception

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies authenticate here; browsers' cross-site posts: web/security.py

DEFAULT_LIMIT = 20
CORS_PATHS = r"/api/v1/(?!moderation/).*"  # the moderation API stays same-origin only


@bp.record_once
def _setup(state: Any) -> None:
    """Errors anywhere under /api/ (unknown addresses too) answer as problem documents;
    browsers on ``EMBED_ORIGINS`` pages may read the public API and post (CORS)."""
    app = state.app
    errors.answer_under(app, "/api/", from_exception)
    with app.app_context():
        origins = sorted(security.embed_origins())
    CORS(
        app,
        resources={CORS_PATHS: {"origins": origins}},
        methods=["GET", "POST", "DELETE"],
        allow_headers=["Content-Type"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-Id"],
        max_age=600,
        supports_credentials=False,
    )


@bp.errorhandler(HTTPException)
def problem(error: HTTPException) -> Response:
    """Every error raised by an API view answers as a problem document."""
    if (error.code or 500) >= 500:
        db.session.rollback()
    return from_exception(error)


@bp.before_request
def _known_parameters() -> None:
    """Query parameters the document does not name are refused, not silently ignored (a
    misspelt filter would otherwise return everything)."""
    rule = request.url_rule
    if rule is None or request.method == "OPTIONS":
        return
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix(bp.url_prefix or ""))
    known = document.query_parameters(path, request.method)
    if known is None:
        return
    unknown = sorted(set(request.args) - known)
    if unknown:
        names = ", ".join(repr(n[:40]) for n in unknown[:5])
        raise Problem("invalid-parameter", f"Unknown query parameter(s): {names}.")


def _shared(body: Any, etag_key: str | None = None) -> Response:
    """A public read: JSON with an ETag; marked for shared caches (this process's page
    cache, nginx, a CDN) like the pages when no token came with it; 304 when current."""
    response = make_response(body if isinstance(body, str) else json.dumps(body))
    response.mimetype = "application/json"
    if etag_key is None:
        response.add_etag()
    else:
        response.set_etag(hashlib.sha256(etag_key.encode()).hexdigest())
    if "Authorization" not in request.headers:
        pagecache.share(response)
    return response.make_conditional(request)


def _int_arg(name: str, default: int, *, low: int = 1, high: int = 10**9) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    value = parse_id(text)
    if value is None or not low <= value <= high:
        raise Problem("invalid-parameter", f"`{name}` must be a whole number from {low} to {high}.")
    return value


# --- the document and its reference page ------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return _shared(document.build())


@bp.get("/reference")
def reference() -> str:
    return render_template(
        "api/reference.html", spec=document.build(), problems=list(KINDS.values())
    )


# --- publications ---------------------------------------------------------------------


def _cursor(text: str | None) -> tuple[datetime, int] | None:
    if not text:
        return None
    try:
        when, _, ident = base64.urlsafe_b64decode(text.encode("ascii")).decode().partition("|")
        after = (datetime.fromisoformat(when), int(ident))
    except (ValueError, UnicodeError, binascii.Error):
        raise Problem("invalid-parameter", "`cursor` is not one this API gave.") from None
    if after[0].tzinfo is None:
        raise Problem("invalid-parameter", "`cursor` is not one this API gave.")
    return after


def _next_cursor(last: Publication) -> str:
    raw = f"{last.published_at.isoformat() if last.published_at else ''}|{last.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _filters() -> catalog.Filters:
    """The index's filters from the query string; a renamed or merged type or topic is
    followed to its new slug, as the index redirects to it."""
    type_slug, topic_slug = request.args.get("type"), request.args.get("topic")
    filters = catalog.resolve_filters(type_slug, topic_slug)
    if filters is None:
        moved = catalog.moved_filters(type_slug, topic_slug)
        filters = catalog.resolve_filters(moved.get("type"), moved.get("topic")) if moved else None
    if filters is None:
        raise Problem("invalid-parameter", "No type or topic has that slug.")
    author_slug = request.args.get("author")
    if author_slug is None:
        return filters
    author = catalog.by_label_slug(Author, author_slug)
    if author is None:
        raise Problem("invalid-parameter", f"No author has the slug {author_slug[:80]!r}.")
    return catalog.Filters(type=filters.type, topic=filters.topic, author=author)


def _open_now(publication: Publication | catalog.PageState) -> bool:
    return posting.is_open(publication, settings.rule_settings(), utcnow().date())


@bp.get("/publications")
def publications() -> Response:
    filters = _filters()
    limit = _int_arg("limit", DEFAULT_LIMIT, high=document.MAX_PAGE_SIZE)
    items, more = catalog.listing_after(filters, _cursor(request.args.get("cursor")), limit)
    counts = thread.visible_counts(p.id for p in items)
    rule_settings, today = settings.rule_settings(), utcnow().date()
    return _shared(
        {
            "items": [
                represent.publication_card(
                    p,
                    counts.get(p.id, 0),
                    comments_open=posting.is_open(p, rule_settings, today),
                )
                for p in items
            ],
            "next_cursor": _next_cursor(items[-1]) if more and items else None,
        }
    )


def _missing(slug: str, endpoint: str) -> Response:
    """A publication's old slug answers 301 to its current one, keeping the query (as
    the article page does); any other 404."""
    current = catalog.moved_to(slug)
    if current is None:
        raise Problem("not-found", "No public publication has this slug.")
    target = url_for(endpoint, slug=current)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, code=301)


@bp.get("/publications/<slug>")
def publication(slug: str) -> Response:
    p = catalog.by_slug(slug)
    if p is None:
        return _missing(slug, "api.publication")
    count = thread.visible_counts([p.id]).get(p.id, 0)
    return _shared(represent.publication(p, count, comments_open=_open_now(p)))


# --- threads and counts -----------------------------------------------------------------


@bp.get("/publications/<slug>/comments", endpoint="thread")
def thread_page(slug: str) -> Response:
    state = catalog.page_state(slug)
    if state is None:
        return _missing(slug, "api.thread")
    page = _int_arg("page", 1)
    open_now = _open_now(state)
    key = f"api-thread/{state.id}/{state.cache_version}/{page}/{int(open_now)}"
    body = cache.get(key)
    if body is None:
        body = json.dumps(thread_body(db.get_or_404(Publication, state.id), page, open_now))
        cache.set(key, body)
    return _shared(body, etag_key=key)


def thread_body(p: Publication, page: int, open_now: bool) -> dict[str, Any]:
    config = current_app.config
    per_page = config["COMMENT_THREADS_PER_PAGE"]
    found = thread.page(p, page=page, per_page=per_page, max_depth=config["COMMENT_MAX_DEPTH"])
    if page > max(found.pages.pages, 1):
        raise Problem("not-found", f"The thread has {max(found.pages.pages, 1)} page(s).")
    return {
        "publication": p.slug,
        "approved_count": found.visible_count,
        "page": page,
        "pages": max(found.pages.pages, 1),
        "per_page": per_page,
        "comments_open": open_now,
        "items": [represent.node(n) for n in found.nodes],
    }


@bp.get("/counts")
def counts() -> Response:
    slugs, urls = request.args.getlist("slug"), request.args.getlist("url")
    if len(slugs) + len(urls) > document.MAX_COUNTED:
        raise Problem(
            "invalid-parameter", f"Ask for at most {document.MAX_COUNTED} slugs and urls at once."
        )
    ids = catalog.public_ids(slugs)
    normal = {u: pages.normalize(u) for u in urls}
    by_url = pages.publication_ids(n for n in normal.values() if n)
    approved = thread.visible_counts({*ids.values(), *by_url.values()})

    def count(publication_id: int | None) -> int | None:
        return None if publication_id is None else approved.get(publication_id, 0)

    return _shared(
        {
            "slugs": {s: count(ids.get(s)) for s in slugs},
            "urls": {u: count(by_url.get(n) if n else None) for u, n in normal.items()},
        }
    )


# --- posting, and the poster's status ----------------------------------------------------


@bp.post("/publications/<slug>/comments")
@security.open_to_embed_origins
@limits.posting
def post_comment(slug: str) -> tuple[Response, int, dict[str, str]]:
    publication = catalog.page_state(slug)
    if publication is None:
        raise Problem("not-found", "No public publication has this slug.")
    fields = bodies.json_body("NewComment")
    return post_to(publication, slug, fields)


def post_to(
    publication: catalog.PageState | Publication, slug: str, fields: dict[str, Any]
) -> tuple[Response, int, dict[str, str]]:
    """Post JSON ``fields`` as the form would be posted: the form's own validation, then
    :func:`posting.submit`; commits."""
    rule_settings = settings.rule_settings()
    if not posting.is_open(publication, rule_settings, utcnow().date()):
        database.only_reads_follow()
        raise Problem("comments-closed", "Comments are closed on this publication.")
    form = CommentForm(
        formdata=_as_form(fields), meta={"csrf": False}, publication_id=publication.id
    )
    if not form.validate():
        database.only_reads_follow()
        errors = [
            {"field": name, "detail": message}
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise Problem("invalid-fields", "Some fields are not valid; see errors.", errors=errors)
    address = request.remote_addr or ""
    posted = posting.submit(
        publication,
        name=form.name.data or "",
        email=form.email.data,
        body=form.body.data or "",
        parent_id=form.parent,
        root_id=form.root_id,
        honeypot=None,
        notify_outcome=form.notify_outcome.data,
        notify_replies=form.notify_replies.data,
        origin=request_origin(),
        settings=rule_settings,
        spam=settings.spam_settings(),
        address_key=current_app.config["SECRET_KEY"],
        may_ask=lambda: mail_limits.may_request_confirmation(address),
    )
    db.session.commit()
    comment = db.session.get(Comment, posted.id)
    token = status.token_for(posted.id, current_app.config["SECRET_KEY"])
    own = represent.page_url("comments.status", token=token)
    body = {
        "id": posted.id,
        # rejected and spam look pending to the poster, as on the form: no hint for spammers
        "state": "approved" if posted.state is CommentState.APPROVED else "pending",
        "status_token": token,
        "links": {"status": _status_path(token), "status_page": own},
        "comment": represent.comment(comment) if comment else {},
    }
    response = make_response(json.dumps(body))
    response.mimetype = "application/json"
    return response, 201, {"Location": _status_path(token)}


def _status_path(token: str) -> str:
    return url_for("api.comment_status", token=token)


def _as_form(fields: dict[str, Any]) -> MultiDict:
    data: MultiDict = MultiDict()
    for name in ("name", "email", "body"):
        if fields.get(name) is not None:
            data[name] = fields[name]
    if fields.get("parent_id") is not None:
        data["parent_id"] = str(fields["parent_id"])
    for name in ("notify_outcome", "notify_replies"):
        if fields.get(name):
            data[name] = "y"
    return data


def _from_token(token: str) -> Comment:
    comment_id = status.comment_id_of(token, current_app.config["SECRET_KEY"])
    comment = db.session.get(Comment, comment_id) if comment_id is not None else None
    if comment is None:
        raise Problem("not-found", "No comment has this status token (or it was withdrawn).")
    return comment


@bp.get("/comments/status/<token>")
def comment_status(token: str) -> Response:
    comment = _from_token(token)
    last = decisions.history([comment.id]).get(comment.id, [])
    reason = next((d.reason for d in reversed(last) if d.reason), None)
    response = make_response(json.dumps(represent.status(comment, reason)))
    response.mimetype = "application/json"
    return response


@bp.delete("/comments/status/<token>")
@security.open_to_embed_origins
def withdraw(token: str) -> tuple[str, int]:
    comment = _from_token(token)
    if not posting.withdraw(comment.id):
        raise Problem("conflict", "Not withdrawn: the comment has already been moderated.")
    db.session.commit()
    return "", 204


# --- moderation, for newsroom tools ------------------------------------------------------


def _staff(scope: TokenScope) -> Any:
    """The account behind the bearer token, allowed as on the screens (moderators and
    admins) and by the token's scope."""
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    found = tokens.holder(secret.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        raise Problem(
            "unauthorized",
            "Send `Authorization: Bearer <token>` with a live token of an active account.",
            headers={"WWW-Authenticate": 'Bearer realm="discussion"'},
        )
    person, token = found
    if not person.can_moderate:
        raise Problem("forbidden", "Only moderators and admins may moderate.")
    if not tokens.allows(token, scope):
        raise Problem(
            "forbidden", f"This token's scope is {token.scope.value}; this needs {scope.value}."
        )
    return person


@bp.get("/moderation/queue")
def moderation_queue() -> Response:
    _staff(TokenScope.READ)
    db.session.commit()  # the token's last use
    status_name = request.args.get("status", "pending")
    if status_name not in queue.QUEUES:
        raise Problem("invalid-parameter", f"`status` is one of {', '.join(queue.QUEUES)}.")
    order = request.args.get("order", "newest")
    if order not in ("newest", "oldest"):
        raise Problem("invalid-parameter", "`order` is newest or oldest.")
    publication_id = _int_arg("publication", 0, high=MAX_ID) or None
    query = queue.QueueQuery(
        status=status_name,
        publication_id=publication_id,
        search=without_control_characters(request.args.get("q", "")).strip()[:200],
        newest_first=order == "newest",
    )
    after = _int_arg("after", 0, high=MAX_ID) or None
    limit = _int_arg("limit", 25, high=document.MAX_PAGE_SIZE)
    found = queue.matches(query)
    page = queue.queue_page(query, after=after, limit=limit, found=found)
    body = {
        "items": [represent.queue_item(c, decisions.allowed_actions(c)) for c in page.comments],
        "next_after": page.next_after,
        "counts": queue.counts(query, found),
    }
    response = make_response(json.dumps(body))
    response.mimetype = "application/json"
    return response


@bp.post("/moderation/comments/<id:comment_id>/decisions")
def decide(comment_id: int) -> Response:
    person = _staff(TokenScope.DECIDE)
    fields = bodies.json_body("DecisionRequest")
    seen = fields.get("seen_state")
    try:
        decision = decisions.act(
            comment_id,
            fields["action"],
            person,
            reason=fields.get("reason"),
            note=fields.get("note"),
            seen=CommentState(seen) if seen else None,
        )
    except decisions.Conflict as error:
        db.session.rollback()
        if db.session.get(Comment, comment_id) is None:
            raise Problem("not-found", "No comment has this id.") from None
        raise Problem("conflict", str(error)) from None
    body = represent.decision(decision)
    db.session.commit()
    response = make_response(json.dumps(body))
    response.mimetype = "application/json"
    return response
