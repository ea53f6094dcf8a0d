"""``/embed.js`` and the thread it frames on the publisher's other sites: the approved
comments of the page's publication, the comment form (posting as the article's form
does), the poster's own pending comments and replies, framed only by ``EMBED_ORIGINS``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, TooManyRequests

from ..comments import limits, posting, status, thread
from ..comments.forms import CommentForm
from ..comments.visitor import request_origin
from ..extensions import csrf, db
from ..mail import limits as mail_limits
from ..models import Comment, CommentState, Publication, utcnow
from ..moderation import settings
from ..web import database, pagecache, security
from ..web.errors import database_unavailable, render_error
from ..web.params import page_arg, parse_id, without_control_characters
from . import pages

bp = Blueprint("embed", __name__)

MINE_KEPT = 5  # the poster's latest comments a framed thread keeps showing
NOT_HERE = "Comments are not available for this page."
EXPIRED = (
    "Your comment was not posted: the form had expired. Your text is still here; "
    "please send it again."
)
SLOW_DOWN = (
    "Your comment was not posted: too many comments from your address in a short time. "
    "Your text is still here; please wait a minute and send it again."
)
THANKS = "Thank you. Your comment awaits moderation; only you can see it until it is approved."
PUBLISHED = "Thank you. Your comment is published."


@bp.get("/embed.js")
def script() -> Response:
    """The script publishers add to their pages (an hour in browsers and shared caches)."""
    source = Path(current_app.static_folder or "", "js", "embed.js").read_bytes()
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    response.add_etag()
    return response.make_conditional(request)


_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
FONTS = {"serif": "var(--serif)", "sans": "var(--sans)"}


@bp.get("/embed/style.css")
def style() -> Response:
    """What a publisher chose to fit the framed thread to their site (``data-accent``, a
    colour for links and buttons; ``data-font``, serif or sans), as a stylesheet: the
    frame's CSP allows no inline style. Anything else is ignored."""
    accent = request.args.get("accent", "")
    font = FONTS.get(request.args.get("font", ""))
    rules = []
    if _COLOUR.fullmatch(accent):
        rules.append(f":root {{ --link: {accent}; --navy: {accent}; --focus: {accent}; }}")
    if font:
        rules.append(f".embedded__body {{ font-family: {font}; }}")
    response = Response("\n".join(rules) + "\n", mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _framed_by_embed_origins(response: Response) -> Response:
    """Only pages of ``EMBED_ORIGINS`` (and this site) may frame the thread."""
    allowed = " ".join(["'self'", *sorted(security.embed_origins())])
    response.headers["Content-Security-Policy"] = security.CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {allowed}"
    )
    return response


class Framed:
    """The page a framed thread is for, from the query string."""

    def __init__(self) -> None:
        url = pages.normalize(request.args.get("url", ""))
        if url is None or pages.origin_of(url) not in security.embed_origins():
            abort(404)
        self.url = url
        title = without_control_characters(request.args.get("title", ""))
        self.title = " ".join(title.split())[:300]
        self.publication = pages.publication_for(url)
        self.mine = _mine(request.args.get("mine", ""))
        accent, font = request.args.get("accent", ""), request.args.get("font", "")
        self.look = {
            "accent": accent if _COLOUR.fullmatch(accent) else "",
            "font": font if font in FONTS else "",
        }

    def address(self, **more: Any) -> str:
        """This framed thread's address, with ``more`` in its query string."""
        args = {
            "url": self.url,
            "title": self.title,
            "mine": ",".join(self.mine),
            **self.look,
            **more,
        }
        return url_for("embed.thread") + "?" + urlencode({k: v for k, v in args.items() if v})


def _mine(text: str) -> list[str]:
    """The poster's status tokens carried in the address (theirs only: signed)."""
    key = current_app.config["SECRET_KEY"]
    tokens = [t for t in text.split(",")[-MINE_KEPT:] if t]
    return [t for t in tokens if status.comment_id_of(t, key) is not None]


def _render(framed: Framed, form: CommentForm, *, notice: str | None = None, code: int = 200):  # type: ignore[no-untyped-def]
    config = current_app.config
    p = framed.publication
    rule_settings = settings.rule_settings()
    if p is not None:
        found = thread.page(
            p,
            page=page_arg(),
            per_page=config["COMMENT_THREADS_PER_PAGE"],
            max_depth=config["COMMENT_MAX_DEPTH"],
        )
        open_now = posting.is_open(p, rule_settings, utcnow().date())
    else:
        found, open_now = None, pages.may_create(framed.url)
    key = config["SECRET_KEY"]
    ids = [status.comment_id_of(t, key) for t in framed.mine]
    own = (
        db.session.scalars(
            db.select(Comment)
            .where(Comment.id.in_([i for i in ids if i]), Comment.publication_id == p.id)
            .order_by(Comment.id)
        ).all()
        if p is not None and ids
        else []
    )
    parent_id = parse_id(form.parent_id.data)
    parent = posting.replyable(parent_id, p.id) if p is not None and parent_id else None
    page = render_template(
        "embed/thread.html",
        framed=framed,
        publication=p,
        thread=found,
        comments_open=open_now,
        own=[(c, status.token_for(c.id, key)) for c in own if c.state is CommentState.PENDING],
        form=form,
        reply_parent=parent,
        notice=notice,
        form_notice=None if notice in (THANKS, PUBLISHED) else notice,
    )
    response = _framed_by_embed_origins(make_response(page, code))
    if code == 200 and not framed.mine and not request.args.get("reply_to") and not notice:
        response.add_etag()
        pagecache.share(response)
        return response.make_conditional(request)
    return response


def thread_page() -> Response:
    framed = Framed()
    if framed.publication is None and not pages.may_create(framed.url):
        return _render(framed, _form(None), notice=NOT_HERE, code=404)
    form = _form(framed.publication)
    reply_to = parse_id(request.args.get("reply_to"))
    if reply_to and framed.publication and posting.replyable(reply_to, framed.publication.id):
        form.parent_id.data = str(reply_to)
    notice = {"pending": THANKS, "published": PUBLISHED}.get(request.args.get("posted", ""))
    return _render(framed, form, notice=notice)


bp.add_url_rule("/embed/thread", "thread", thread_page, methods=["GET"])  # endpoint "thread"


def _form(publication: Publication | None) -> CommentForm:
    return CommentForm(publication_id=publication.id if publication else 0)


@bp.post("/embed/thread")
@csrf.exempt  # the form checks its own token, the one shared by all readers
@limits.posting
def post() -> Response | tuple[Response, int]:
    framed = Framed()
    p = framed.publication
    if p is None and not pages.may_create(framed.url):
        abort(404)
    form = _form(p)
    rule_settings = settings.rule_settings()
    if p is not None and not posting.is_open(p, rule_settings, utcnow().date()):
        database.only_reads_follow()
        return _render(framed, form, notice="Comments are closed on this page.", code=403)
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            raise CSRFError(form.csrf_token.errors[0])
        if form.parent_id.errors:
            form.parent_id.data = ""
        database.only_reads_follow()
        return _render(framed, form, code=400)
    if p is None:
        p = framed.publication = pages.create(framed.url, framed.title)
    address = request.remote_addr or ""
    posted = posting.submit(
        p,
        name=form.name.data or "",
        email=form.email.data,
        body=form.body.data or "",
        parent_id=form.parent,
        root_id=form.root_id,
        honeypot=form.website.data,
        notify_outcome=form.notify_outcome.data,
        notify_replies=form.notify_replies.data,
        origin=request_origin(),
        settings=rule_settings,
        spam=settings.spam_settings(),
        address_key=current_app.config["SECRET_KEY"],
        may_ask=lambda: mail_limits.may_request_confirmation(address),
    )
    db.session.commit()
    framed.mine = [*framed.mine, status.token_for(posted.id, current_app.config["SECRET_KEY"])]
    published = posted.state is CommentState.APPROVED
    anchor = f"#comment-{posted.id}" if published else "#your-comments"
    target = framed.address(posted="published" if published else "pending") + anchor
    return redirect(target, code=303)


@bp.errorhandler(CSRFError)
def expired(error: CSRFError) -> Any:
    return _refused(error, EXPIRED)


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> Any:
    return _refused(error, SLOW_DOWN)


def _unavailable(error: Exception) -> Response:
    """The 503 page with the reader's text, shown inside the frame like the thread."""
    return _framed_by_embed_origins(database_unavailable(error))


for _error in database.UNAVAILABLE:
    bp.register_error_handler(_error, _unavailable)


def _refused(error: HTTPException, notice: str) -> Any:
    """The framed thread again, holding the reader's text, saying why it was refused."""
    database.only_reads_follow()
    try:
        framed = Framed()
    except HTTPException:
        return render_error(error)
    form = _form(framed.publication)
    return _render(framed, form, notice=notice, code=error.code or 400)
