"""Search, Atom feeds, sitemaps, robots.txt and the favicon."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import UTC, date, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from ..models import Author, PublicationType, Topic
from ..publications import catalog
from ..web import clock, links
from ..web.params import page_arg
from . import feeds, fulltext, search, sitemaps

bp = Blueprint("discovery", __name__)

# Pages crawlers have no business in: staff screens, sign-in, private status links,
# search results.
PRIVATE_PATHS = ("/moderation/", "/desk/", "/auth/", "/comments/status/", "/search")


@bp.get("/robots.txt")
def robots() -> Response:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    # Without the site's address there is no absolute sitemap address to give.
    with contextlib.suppress(links.NoSiteAddress):
        lines.append(f"Sitemap: {links.absolute('discovery.sitemap_index')}")
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


FIRST_YEAR, LAST_YEAR = 1800, 2999  # of the dates a search can be narrowed to
SEARCH_SUGGESTIONS = 6  # latest publications offered by an empty or fruitless search


def _day(name: str, notes: list[str]) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        notes.append(f"“{value}” is not a date like 2026-11-27, so it was left out.")
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # far days overflow a time zone's shift
        notes.append(f"Dates run from {FIRST_YEAR} to {LAST_YEAR}, so {value} was left out.")
        return None
    return day


@bp.get("/search")
def search_page() -> str:
    """Publications matching a reader's words; never an error for what they typed."""
    raw = request.args.get("q", "")
    query = fulltext.parse(raw)
    notes: list[str] = []
    if query.shortened:
        notes.append(
            f"Only the first {fulltext.MAX_QUERY_LENGTH} characters and "
            f"{fulltext.MAX_ITEMS} words of a search are used."
        )
    type_slug, topic_slug = request.args.get("type") or None, request.args.get("topic") or None
    labels = catalog.all_labels()
    filters = catalog.resolve_filters(type_slug, topic_slug, labels)
    if filters is None:
        notes.append("That type or topic does not exist, so the search covers them all.")
        filters = catalog.Filters()
    narrowing = search.Narrowing(
        filters,
        since=_day("from", notes),
        until=_day("to", notes),
        newest_first=request.args.get("sort") == "newest",
    )
    page = page_arg()
    if page > search.MAX_PAGE:
        abort(404)
    if query.common:
        words = ", ".join(f"“{w}”" for w in query.common)
        notes.append(f"Words too common to look for were left out: {words}.")
    if raw.strip() and not query:
        notes.append(
            "Add a word to look for: a search needs at least one word that is not left out."
        )
    results = search.search(query, narrowing, page) if query else None
    if results is not None and page > 1 and not results.results:
        abort(404)
    fruitless = results is None or not results.results
    suggestion = search.respelled(query, narrowing) if results and fruitless else None
    response = render_template(
        "discovery/search.html",
        raw=raw,
        query=query,
        narrowing=narrowing,
        results=results,
        suggestion=suggestion,
        notes=notes,
        labels=labels,
        latest=catalog.latest(SEARCH_SUGGESTIONS) if fruitless else [],
    )
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)


FEED_SECONDS = 60  # how long feed readers and caches may keep a feed
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_FILTERS = {"topic": Topic, "type": PublicationType, "author": Author}


def _atom(feed: feeds.Feed) -> Response:
    response = Response(
        render_template("discovery/feed.xml", feed=feed, epoch=EPOCH),
        mimetype="application/atom+xml",
    )
    response.set_etag(feed.etag)
    if feed.updated is not None:
        response.last_modified = feed.updated
    response.cache_control.public = True
    response.cache_control.max_age = FEED_SECONDS
    return response.make_conditional(request)


def _site_address_or_503() -> None:
    try:
        links.site_url()
    except links.NoSiteAddress:
        abort(503, "Feeds need the site's address: set SITE_URL.")


@bp.get("/feeds/publications.atom")
def publications_feed() -> Response:
    """The latest publications; ``?topic=``, ``?type=`` or ``?author=`` narrow it."""
    _site_address_or_503()
    chosen = {k: request.args.get(k) for k in FEED_FILTERS if request.args.get(k)}
    if len(chosen) > 1:
        abort(404)
    label = None
    for kind, slug in chosen.items():
        label = catalog.by_label_slug(FEED_FILTERS[kind], slug)
        if label is None:
            abort(404)
    kind = next(iter(chosen), None)
    filters = catalog.Filters(**({kind: label} if kind else {}))
    site = current_app.config["SITE_NAME"]
    title = f"{site}: {label.name}" if label is not None else f"{site}: publications"
    page_url = (
        links.absolute("publications.label", kind=f"{kind}s", slug=label.slug)
        if label is not None
        else links.absolute("publications.index")
    )
    self_url = links.absolute("discovery.publications_feed", **chosen)
    return _atom(feeds.publications(filters, title, self_url, page_url))


@bp.get("/feeds/comments.atom")
def comments_feed() -> Response:
    """The latest approved comments, site-wide."""
    _site_address_or_503()
    site = current_app.config["SITE_NAME"]
    return _atom(
        feeds.comments(
            None,
            f"{site}: latest comments",
            links.absolute("discovery.comments_feed"),
            links.absolute("publications.front"),
        )
    )


@bp.get("/publications/<slug>/comments.atom")
def article_comments_feed(slug: str) -> Response:
    """One article's approved comments."""
    _site_address_or_503()
    publication = catalog.by_slug(slug)
    if publication is None:
        abort(404)
    return _atom(
        feeds.comments(
            publication,
            f"Comments on “{publication.title}”",
            links.absolute("discovery.article_comments_feed", slug=slug),
            links.absolute("publications.article", slug=slug),
        )
    )


def _xml(lines: Iterable[str]) -> Response:
    response = Response(lines, mimetype="application/xml")
    response.cache_control.public = True
    response.cache_control.max_age = FEED_SECONDS
    return response


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    _site_address_or_503()
    return _xml(list(sitemaps.index(clock.now())))


@bp.get("/sitemaps/publications-<id:number>.xml")
def publications_sitemap(number: int) -> Response:
    _site_address_or_503()
    now = clock.now()
    if number > len(sitemaps.parts(now)):
        abort(404)
    return _xml(sitemaps.publications(number, now))


@bp.get("/sitemaps/news.xml")
def news_sitemap() -> Response:
    _site_address_or_503()
    return _xml(list(sitemaps.news(clock.now(), current_app.config["SITE_NAME"])))
