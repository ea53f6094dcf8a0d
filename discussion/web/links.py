"""Absolute links that leave the request (mails, shared preview links, later feeds and
sitemaps): always from the configured site address (``SITE_URL``), never from the Host
header of whatever request caused them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter

DEVELOPMENT_SITE_URL = "http://127.0.0.1:5000"


class NoSiteAddress(RuntimeError):
    """SITE_URL is not configured outside debugging and testing."""


def site_url() -> str:
    """The configured site address, without a trailing slash."""
    url = current_app.config.get("SITE_URL")
    if not url:
        if not (current_app.debug or current_app.testing):
            raise NoSiteAddress(
                "SITE_URL is not set: mails and shared links need the site's address "
                "(e.g. FLASK_SITE_URL=https://news.example.org)."
            )
        url = DEVELOPMENT_SITE_URL
    return str(url).rstrip("/")


def builder() -> MapAdapter:
    """Builds absolute URLs under :func:`site_url`, with no app context needed after
    (for responses streamed after the request)."""
    base = urlsplit(site_url())
    return current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )


def absolute(endpoint: str, *, anchor: str | None = None, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under :func:`site_url`."""
    url = builder().build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor)}" if anchor else url


def site_domain() -> str:
    """The host of the site address (for Message-IDs and the default sender)."""
    return urlsplit(site_url()).hostname or "localhost"
