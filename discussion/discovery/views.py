"""robots.txt and the favicon."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for

bp = Blueprint("discovery", __name__)

# Pages crawlers have no business in: staff screens, sign-in, private status links,
# search results.
PRIVATE_PATHS = ("/moderation/", "/desk/", "/auth/", "/comments/status/", "/search")


@bp.get("/robots.txt")
def robots() -> Response:
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in PRIVATE_PATHS)]
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response


@bp.get("/favicon.ico")
def favicon() -> Response:
    return redirect(url_for("static", filename="img/favicon.svg"), code=301)
