"""Asks the caching proxy in front of the site for a changed article again, at once.

nginx (``deploy/nginx.conf``) keeps an article page to the end of the second
(:func:`discussion.web.pagecache.share`); left alone, an approval shows through it when
that copy has expired and nginx has fetched the page again: up to a second and a build
later. With ``PROXY_REFRESH_URL`` set to the proxy's refresh address, every commit that
changed a few publications' pages (:func:`catalog.touch`) is followed, from a thread of
the process that made it, by a GET of the first page of each of their articles' orders
(:func:`views.first_pages`) carrying ``X-Cache-Refresh: <scheme>``, for the site's address
(``SITE_URL``). The proxy takes such a request past its copy and keeps the answer, which
the app builds afresh (its own page cache lets it by too).

What it leaves to expire as before: later pages of a thread, other query strings, a commit
touching more than :data:`MOST_PUBLICATIONS` publications or made outside a request (the
worker's, an import's), and a copy nginx was fetching when the change was committed and
stores after the refresh (until the second's end). A
publication is asked for at most every :data:`INTERVAL_SECONDS`, with what changed
meanwhile: recommendations pouring in cost a few builds a second, not one each. A refresh
that fails changes nothing else: it is logged, at most once a minute.
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

from ..web import links, pagecache
from . import catalog
from .views import first_pages

log = logging.getLogger(__name__)

MOST_PUBLICATIONS = 10  # a commit touching more leaves the proxy's copies to expire
INTERVAL_SECONDS = 0.5  # between two refreshes of one publication's pages
TIMEOUT_SECONDS = 5.0


def _site_address() -> str | None:
    """The address readers use (``SITE_URL``, else the request's); None outside a request:
    the worker's and the command line's commits (an import) leave the copies to expire."""
    if not has_request_context():
        return None
    if current_app.config.get("SITE_URL"):
        return links.site_url()
    return request.host_url.rstrip("/")


class Refresher:
    """One thread per process sending the proxy its refreshes."""

    def __init__(self, app: Flask, proxy_url: str) -> None:
        parts = urlsplit(proxy_url)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError(
                f"PROXY_REFRESH_URL={proxy_url!r}: give the proxy's refresh address as "
                "http://host:port (deploy/nginx.conf: http://127.0.0.1:8081)"
            )
        self.app = app
        self.proxy = (parts.hostname, parts.port or 80)
        self.asked: queue.SimpleQueue[tuple[str, frozenset[int]]] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.refreshed_at: dict[tuple[str, int], float] = {}
        self.failures, self.quiet_until = 0, 0.0

    def changed(self, publication_ids: frozenset[int]) -> None:
        """A commit changed these publications' pages (:func:`pagecache.changed`)."""
        site = _site_address()
        if site is None or not publication_ids or len(publication_ids) > MOST_PUBLICATIONS:
            return
        self.asked.put((site, publication_ids))
        with self.lock:  # a forked worker has its parent's object but not its thread
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="proxy-refresh", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            wanted = self._take(block=True)
            wait = self._wait(wanted)
            if wait > 0:  # refreshed a moment ago: wait, and take what changed meanwhile
                time.sleep(wait)
                for site, ids in self._take(block=False).items():
                    wanted.setdefault(site, set()).update(ids)
            now = time.monotonic()
            self.refreshed_at = {
                key: at for key, at in self.refreshed_at.items() if now - at < INTERVAL_SECONDS
            }
            for site, ids in wanted.items():
                self.refreshed_at.update(((site, i), now) for i in ids)
                try:
                    self._refresh(site, ids)
                except Exception as error:  # the thread lives on; the copies expire as before
                    self._failed(error)

    def _take(self, *, block: bool) -> dict[str, set[int]]:
        """What was asked, by site address (waiting for a first ask when ``block``)."""
        asked = []
        if block:
            asked.append(self.asked.get())
        while not self.asked.empty():
            asked.append(self.asked.get())
        wanted: dict[str, set[int]] = {}
        for site, ids in asked:
            wanted.setdefault(site, set()).update(ids)
        return wanted

    def _wait(self, wanted: dict[str, set[int]]) -> float:
        """Seconds until every wanted publication may be refreshed again."""
        last = max(
            (self.refreshed_at.get((site, i), 0.0) for site, ids in wanted.items() for i in ids),
            default=0.0,
        )
        return last + INTERVAL_SECONDS - time.monotonic()

    def _refresh(self, site: str, publication_ids: set[int]) -> None:
        # The articles' addresses as the site writes them, under the site's address (no
        # request is dispatched); the read ends with the block, before the proxy is asked.
        with self.app.test_request_context(base_url=site):
            slugs = catalog.public_slugs(publication_ids)
            paths = [path for slug in slugs for path in first_pages(slug)]
        parts = urlsplit(site)
        connection = http.client.HTTPConnection(*self.proxy, timeout=TIMEOUT_SECONDS)
        try:
            for path in paths:
                connection.request(
                    "GET",
                    path,
                    headers={"Host": parts.netloc, pagecache.REFRESH_HEADER: parts.scheme},
                )
                response = connection.getresponse()
                response.read()
                status = response.headers.get("X-Cache-Status", "BYPASS")  # deploy/nginx.conf's
                if response.status != 200 or status != "BYPASS":
                    raise RuntimeError(
                        f"{path}: {response.status}, cache status {status} (the proxy's "
                        "refresh address is not the one deploy/nginx.conf trusts?)"
                    )
        finally:
            connection.close()

    def _failed(self, error: Exception) -> None:
        """Say so, at most once a minute (the proxy down, every approval fails)."""
        self.failures += 1
        if time.monotonic() >= self.quiet_until:
            log.warning(
                "asking the proxy %s:%s for changed pages failed (%s failures): %s",
                *self.proxy,
                self.failures,
                error,
            )
            self.failures, self.quiet_until = 0, time.monotonic() + 60


def init_app(app: Flask) -> None:
    """Refresh the proxy's copies when ``PROXY_REFRESH_URL`` names it."""
    proxy_url = app.config.get("PROXY_REFRESH_URL")
    if proxy_url:
        pagecache.on_change(app, Refresher(app, proxy_url).changed)
