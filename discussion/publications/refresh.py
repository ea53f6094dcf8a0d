"""Asks the caching proxy in front of the site for a changed article again, at once.

nginx (``deploy/nginx.conf``) keeps an article page to the end of the second
(:func:`discussion.web.pagecache.share`); left alone, an approval shows through it when
that copy has expired and nginx has fetched the page again: up to a second and a build
later. With ``PROXY_REFRESH_URL`` set to the proxy's address as this machine reaches it,
every commit that changed a few publications' pages (:func:`catalog.touch`) is followed,
from a thread of the process that made it, by a GET of the first page of each of their
articles' orders carrying ``X-Cache-Refresh: <scheme>``. The proxy takes such a request,
from this machine only, past its copy and keeps the answer, which the app builds afresh
(its own page cache lets it by too). Later pages of a thread, other query strings and a
commit touching more than :data:`MOST_PUBLICATIONS` publications (an import) expire as
before. A refresh that fails changes nothing else: it is logged, at most once a minute.
"""

from __future__ import annotations

import http.client
import logging
import os
import queue
import threading
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context, request
from sqlalchemy import bindparam, select

from ..comments.thread import SORTS
from ..models import Publication
from ..web import clock, database, pagecache
from . import catalog
from .views import thread_url

log = logging.getLogger(__name__)

MOST_PUBLICATIONS = 10  # a commit touching more leaves the proxy's copies to expire
TIMEOUT_SECONDS = 5.0


def _public_address() -> tuple[str, str] | None:
    """The scheme and host readers use: the site's address (``SITE_URL``), else the
    request's (after any proxy fix); None outside a request without one."""
    site = current_app.config.get("SITE_URL")
    if site:
        parts = urlsplit(site)
        return parts.scheme, parts.netloc
    if has_request_context():
        return request.scheme, request.host
    return None


class Refresher:
    """One thread per process sending the proxy its refreshes, as many as are asked at
    once in one go (each publication's once)."""

    def __init__(self, app: Flask, proxy_url: str) -> None:
        parts = urlsplit(proxy_url)
        self.app = app
        self.proxy = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.asked: queue.SimpleQueue[tuple[str, str, frozenset[int]]] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.failures, self.quiet_until = 0, 0.0

    def changed(self, publication_ids: frozenset[int]) -> None:
        """A commit changed these publications' pages (:func:`pagecache.changed`)."""
        address = _public_address()
        if address is None or not publication_ids or len(publication_ids) > MOST_PUBLICATIONS:
            return
        self.asked.put((*address, publication_ids))
        with self.lock:  # a forked worker has its parent's object but not its thread
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="proxy-refresh", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            asked = [self.asked.get()]
            while not self.asked.empty():
                asked.append(self.asked.get())
            wanted: dict[tuple[str, str], set[int]] = {}
            for scheme, host, ids in asked:
                wanted.setdefault((scheme, host), set()).update(ids)
            for (scheme, host), ids in wanted.items():
                try:
                    self._refresh(scheme, host, ids)
                except Exception as error:  # the thread lives on; the copies expire as before
                    self._failed(error)

    def _failed(self, error: Exception) -> None:
        """Say so, at most once a minute (the proxy down, every approval fails)."""
        self.failures += 1
        if time.monotonic() >= self.quiet_until:
            log.warning(
                "asking the proxy %s:%s for changed pages failed (%s failures): %r",
                *self.proxy,
                self.failures,
                error,
            )
            self.failures, self.quiet_until = 0, time.monotonic() + 60

    def _refresh(self, scheme: str, host: str, publication_ids: set[int]) -> None:
        # The articles' addresses as the site writes them (defaults left out), for the
        # address readers use; no request is dispatched.
        with self.app.test_request_context(base_url=f"{scheme}://{host}"):
            with database.reading() as connection:
                slugs = connection.scalars(
                    _PUBLIC_SLUGS, {"ids": sorted(publication_ids), "now": clock.now()}
                ).all()
            paths = [thread_url(slug, 1, sort) for slug in slugs for sort in SORTS]
        connection = http.client.HTTPConnection(*self.proxy, timeout=TIMEOUT_SECONDS)
        try:
            for path in paths:
                connection.request(
                    "GET", path, headers={"Host": host, pagecache.REFRESH_HEADER: scheme}
                )
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    log.info("the proxy refreshed %s with %s", path, response.status)
        finally:
            connection.close()


_PUBLIC_SLUGS = select(Publication.slug).where(
    Publication.id.in_(bindparam("ids", expanding=True)), catalog.public(bindparam("now"))
)


def init_app(app: Flask) -> None:
    """Refresh the proxy's copies when ``PROXY_REFRESH_URL`` names it."""
    proxy_url = app.config.get("PROXY_REFRESH_URL")
    if proxy_url:
        pagecache.on_change(app, Refresher(app, proxy_url).changed)
