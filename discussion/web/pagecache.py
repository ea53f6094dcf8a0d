"""Each server process keeps the pages first-time readers get, a second at a time.

A caching proxy in front of the site does the same (``deploy/nginx.conf``): it keeps a
response the app marked ``Cache-Control: public, s-maxage=N`` for N seconds and serves
it to requests that carry neither the session nor the remember-me cookie. Doing it in
the process as well means most reads of a busy article never reach Flask, with or
without a proxy. Only views that opt in are kept (the article page and the listings
first-time readers get); everything else, and every request with the visitor's cookies,
passes straight through. Pages that cannot be shared whole (a reader with a session)
keep here, as long as a shared page, what all their readers share (:func:`keep`: an
article's body, a listing).

A change committed in this process empties its cache at once (:func:`changed`, called
by :func:`discussion.publications.catalog.touch` and when rules change); other
processes, and nginx, serve it within N seconds (``SHARED_PAGE_SECONDS``): every copy expires at the
same whole second (:func:`shared_until`). nginx gets a changed article at once when the
app is told where it is (:mod:`discussion.publications.refresh`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from flask import Flask, Response, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session
from werkzeug.datastructures import ResponseCacheControl
from werkzeug.http import (
    is_resource_modified,
    parse_cache_control_header,
    parse_cookie,
    unquote_etag,
)

from ..extensions import db

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)
_CHANGED = "pages_changed"
_T = TypeVar("_T")
_NOT_MODIFIED_DROPS = {"content-type", "content-length"}
# The caching proxy asking for a changed page afresh (discussion/publications/refresh.py);
# heeded only when the app is configured to send it (``PROXY_REFRESH_URL``): the proxy
# then passes it on only from its refresh address (deploy/nginx.conf).
REFRESH_HEADER = "X-Cache-Refresh"
_REFRESH_ENVIRON = "HTTP_" + REFRESH_HEADER.upper().replace("-", "_")


@dataclass(slots=True)
class _Entry:
    expires: float
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str | None


class PageCache:
    """WSGI middleware: shareable GET responses for anonymous requests, kept N seconds."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        private_cookies: Iterable[str],
        max_entries: int,
        proxy_refreshes: bool = False,
    ) -> None:
        self.app = app
        self.private_cookies = frozenset(private_cookies)
        self.max_entries = max_entries
        self.proxy_refreshes = proxy_refreshes  # honour :data:`REFRESH_HEADER`
        self.listeners: list[Callable[[frozenset[int]], None]] = []  # :func:`on_change`'s
        self.entries: dict[tuple[str, ...], _Entry] = {}
        self.values: dict[Hashable, tuple[float, Any]] = {}  # :meth:`keep`'s
        self.generation = 0  # pages rendered before a change are not kept after it
        self.lock = threading.Lock()  # threaded servers (the quickstart's)
        self.count: Callable[[bool], None] = lambda hit: None  # metrics: a hit, or a miss

    def clear(self) -> None:
        """Forget every page (a change was committed)."""
        with self.lock:
            self.entries.clear()
            self.values.clear()
            self.generation += 1

    def keep(self, key: Hashable, make: Callable[[], _T], seconds: int) -> _T:
        """``make()``, kept under ``key`` until a page shared now for ``seconds`` expires,
        or a change is committed here (see :func:`keep`)."""
        found = self.values.get(key)
        if found is not None and found[0] > _now():
            return found[1]  # type: ignore[no-any-return]
        generation = self.generation
        value = make()
        with self.lock:
            if generation == self.generation:  # no change was committed meanwhile
                now = _now()  # what expired goes now: kept bodies are large
                self.values = {k: v for k, v in self.values.items() if v[0] > now}
                if key not in self.values and len(self.values) >= self.max_entries:
                    self.values.pop(next(iter(self.values)))
                self.values[key] = (shared_until(seconds), value)
        return value

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        if method not in ("GET", "HEAD") or not self._anonymous(environ):
            return self.app(environ, start_response)
        key = (
            environ["wsgi.url_scheme"],
            environ.get("HTTP_HOST", ""),
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ORIGIN", ""),  # CORS answers differ by origin (the API's)
        )
        if self.proxy_refreshes and _REFRESH_ENVIRON in environ:  # not a reader: no count
            entry = None
        else:
            entry = self.entries.get(key)
            if entry is not None and entry.expires > _now():
                self.count(True)
                return self._serve(entry, environ, start_response)
            self.count(False)
        if method == "HEAD" or self.max_entries <= 0:
            return self.app(environ, start_response)
        return self._fetch(key, entry, environ, start_response)

    def _anonymous(self, environ: WSGIEnvironment) -> bool:
        if "HTTP_AUTHORIZATION" in environ:
            return False
        if "HTTP_COOKIE" not in environ:
            return True
        return not self.private_cookies.intersection(parse_cookie(environ))

    def _fetch(
        self,
        key: tuple[str, ...],
        stale: _Entry | None,
        environ: WSGIEnvironment,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """Ask the app; keep its answer when it is shareable, else pass it straight on.
        When the app cannot answer (503: its database is down), the copy that expired
        is served instead, as nginx does (``proxy_cache_use_stale``)."""
        generation = self.generation
        answer: list[Any] = []  # [status, headers, seconds it may be shared]

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seconds = _shared_seconds(status, headers)
            answer[:] = [status, headers, seconds]
            if not seconds and not (stale and status.startswith("503")):
                return start_response(status, headers, exc_info)
            return lambda data: None  # the body comes back through the iterable

        chunks = self.app(environ, capture)
        if not answer:  # WSGI lets an app answer on its first chunk: read it all
            chunks = _read(chunks)
        if stale and answer[0].startswith("503"):
            _read(chunks)
            return self._serve(stale, environ, start_response)
        if not answer[2]:
            return chunks
        status, headers, seconds = answer
        body = b"".join(_read(chunks))
        etag = next((v for k, v in headers if k.lower() == "etag"), None)
        entry = _Entry(
            shared_until(seconds),
            status,
            headers,
            body,
            unquote_etag(etag)[0] if etag else None,
        )
        with self.lock:
            if generation == self.generation:  # no change was committed meanwhile
                if key not in self.entries and len(self.entries) >= self.max_entries:
                    self.entries.pop(next(iter(self.entries)))
                self.entries[key] = entry
        start_response(status, headers)
        return [body]

    @staticmethod
    def _serve(
        entry: _Entry, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        if entry.etag and not is_resource_modified(environ, etag=entry.etag):
            headers = [(k, v) for k, v in entry.headers if k.lower() not in _NOT_MODIFIED_DROPS]
            start_response("304 NOT MODIFIED", headers)
            return []
        start_response(entry.status, entry.headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]


def _now() -> float:
    return time.time()


def _read(chunks: Iterable[bytes]) -> list[bytes]:
    """Every chunk of a WSGI body, closing it as WSGI requires."""
    try:
        return list(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def shared_until(seconds: int) -> int:
    """When a page shared for ``seconds`` expires: at a whole second, as in nginx, whose
    cache keeps a page through the second its lifetime ends in. Aligning both on the
    same boundary keeps a change from waiting for one cache and then the other."""
    return int(_now()) + seconds


def _shared_seconds(status: str, headers: list[tuple[str, str]]) -> int:
    """How long a shared cache may keep this response (0: not at all)."""
    if not status.startswith("200 "):
        return 0
    values = {k.lower(): v for k, v in headers}
    if "set-cookie" in values or "cache-control" not in values:
        return 0
    control = parse_cache_control_header(values["cache-control"], cls=ResponseCacheControl)
    if not control.public or control.private or control.no_store:
        return 0
    return control.s_maxage or 0


def changed(publication_ids: Iterable[int] = ()) -> None:
    """Public pages changed in this transaction (those of these publications, and maybe
    others): empty this process's cache on commit, and tell :func:`on_change`'s listeners.

    A rollback leaves the mark (savepoints roll back too): at worst a later commit in
    the same session empties the cache once more than needed."""
    db.session.info.setdefault(_CHANGED, set()).update(publication_ids)


def on_change(app: Flask, listener: Callable[[frozenset[int]], None]) -> None:
    """Call ``listener`` with the publications whose pages a commit in this process
    changed (:func:`changed`), after the commit; only for this app."""
    app.extensions["page_cache"].listeners.append(listener)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    publication_ids = session.info.pop(_CHANGED, None)
    if publication_ids is None or not has_app_context():
        return
    cache = current_app.extensions.get("page_cache")
    if cache is not None:
        cache.clear()
        for listener in cache.listeners:
            try:
                listener(frozenset(publication_ids))
            except Exception:  # the change is committed: the answer must say so
                log.exception("a listener of committed page changes failed")


def share(response: Response) -> None:
    """Mark a page every first-time reader gets alike for shared caches (this process's
    page cache, nginx, a CDN) for ``SHARED_PAGE_SECONDS``; browsers revalidate it."""
    seconds = current_app.config["SHARED_PAGE_SECONDS"]
    if seconds > 0:
        response.cache_control.public = True
        response.cache_control.max_age = 0
        response.cache_control.s_maxage = seconds
        # nginx counts whole seconds: with s-maxage alone it keeps the page up to a
        # second longer. This absolute expiry (the start of the last second it may be
        # served in) ends it when the process's own copy ends (:func:`shared_until`).
        response.headers["X-Accel-Expires"] = f"@{shared_until(seconds) - 1}"


def keep(key: Hashable, make: Callable[[], _T]) -> _T:
    """``make()``, kept in this process as long as the shared pages are: until the same
    whole second as they, and not past a change committed here. For what every reader
    of a page gets alike, on pages that are not shared whole (a reader with a session):
    they are then as fresh as the shared page, no fresher. Not kept when sharing is off."""
    cache = current_app.extensions.get("page_cache")
    seconds = current_app.config["SHARED_PAGE_SECONDS"]
    if cache is None or seconds <= 0 or cache.max_entries <= 0:
        return make()
    return cache.keep(key, make, seconds)


def init_app(app: Flask) -> None:
    """Put the cache in front of the app (inside any proxy fix applied later)."""
    cache = PageCache(
        app.wsgi_app,
        private_cookies=(
            app.config.get("SESSION_COOKIE_NAME", "session"),
            app.config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        ),
        max_entries=app.config["PAGE_CACHE_ENTRIES"],
        proxy_refreshes=bool(app.config.get("PROXY_REFRESH_URL")),
    )
    app.wsgi_app = cache  # type: ignore[method-assign]
    app.extensions["page_cache"] = cache
