"""The pages of other sites that show a publication's comments: addresses normalised,
matched to publications (their own article address here, or one an embed registered),
and minimal publications made for new pages when the site allows it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..comments import sanitizer
from ..extensions import db
from ..models import Publication, PublicationState, PublicationUrl
from ..publications import catalog, content
from ..web import clock, links, security

URL_LENGTH = 2000  # longer addresses are not pages anyone links to
TITLE_LENGTH = Publication.__table__.c.title.type.length
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize(url: str) -> str | None:
    """The form an address is stored and matched in: http(s) only, scheme and host in
    lower case, no default port, no fragment, "/" for an empty path; None when the text
    is not such an address."""
    if not url or len(url) > URL_LENGTH or any(ord(c) < 33 for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def origin_of(url: str) -> str:
    """The origin (scheme, host, port) of a normalised address."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def publication_ids(urls: Iterable[str]) -> dict[str, int]:
    """The public publication each normalised address is the page of, in two queries:
    addresses registered by the embed, and this site's own article addresses."""
    wanted = list(dict.fromkeys(urls))
    found: dict[str, int] = {}
    if not wanted:
        return found
    by_hash = {url_hash(u): u for u in wanted}
    rows = db.session.execute(
        select(PublicationUrl.url_hash, Publication.id)
        .join(Publication, Publication.id == PublicationUrl.publication_id)
        .where(PublicationUrl.url_hash.in_(list(by_hash)), catalog.public())
    )
    for digest, publication_id in rows:
        found[by_hash[digest]] = publication_id
    own = {_own_slug(u): u for u in wanted if u not in found}
    own.pop(None, None)
    for slug, publication_id in catalog.public_ids(s for s in own if s).items():
        found[own[slug]] = publication_id
    return found


def _own_slug(url: str) -> str | None:
    """The slug when the address is one of this site's article pages (none known when
    SITE_URL is not set: the embedded thread still works for other sites' pages)."""
    try:
        site = normalize(links.site_url())
    except links.NoSiteAddress:
        return None
    if site is None or origin_of(site) != origin_of(url):
        return None
    base = urlsplit(site).path.rstrip("/")
    path = urlsplit(url).path
    prefix = f"{base}/publications/"
    slug = path[len(prefix) :].rstrip("/") if path.startswith(prefix) else ""
    return slug if catalog.is_slug(slug) else None


def publication_for(url: str) -> Publication | None:
    """The public publication whose page this normalised address is, if any."""
    publication_id = publication_ids([url]).get(url)
    return db.session.get(Publication, publication_id) if publication_id else None


def may_create(url: str) -> bool:
    """Whether a comment on this unknown page may create its publication: the site allows
    it (``EMBED_CREATE_PUBLICATIONS``) and the page is on an allowed origin."""
    return bool(current_app.config.get("EMBED_CREATE_PUBLICATIONS")) and (
        origin_of(url) in security.embed_origins()
    )


def create(url: str, title: str) -> Publication:
    """A minimal public publication for a page of another site: its title, a link to the
    page, comments open; the page's address registered for it. When another request
    registered the page a moment ago, its publication."""
    title = " ".join(title.split())[:TITLE_LENGTH] or url[:TITLE_LENGTH]
    path_name = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    publication = Publication(
        slug=content.free_slug(Publication, path_name or title),  # type: ignore[arg-type]
        title=title,
        summary="",
        body_source=f"[Read it where it was published]({url})",
        state=PublicationState.PUBLISHED,
        published_at=clock.now(),
    )
    publication.body_html = sanitizer.render_article(publication.body_source)
    try:
        with db.session.begin_nested():
            db.session.add(publication)
            db.session.flush()
            db.session.add(
                PublicationUrl(url_hash=url_hash(url), url=url, publication_id=publication.id)
            )
    except IntegrityError:
        existing = publication_for(url)
        if existing is None:
            raise
        return existing
    return publication
