"""The archive's pages: old addresses answering 301, and the admins' "a person's data"."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from ..web import errors
from . import addresses

bp = Blueprint("archive", __name__)


@bp.before_app_request
def plain_old_link() -> Response | None:
    """WordPress's plain links (``/?p=123``) reach the front page: 301 when one names an
    imported publication. Other requests pass untouched, without a query."""
    if request.path == "/" and ("p" in request.args or "page_id" in request.args):
        slug = addresses.moved_to("/", request.query_string.decode("latin-1"))
        if slug is not None:
            return redirect(url_for("publications.article", slug=slug), code=301)
    return None


@bp.app_errorhandler(NotFound)
def old_address(error: NotFound) -> Response:
    """An imported publication's address on the old site: 301 to the article; anything
    else is the site's 404 page."""
    if request.method in ("GET", "HEAD"):
        slug = addresses.moved_to(request.path, request.query_string.decode("latin-1"))
        if slug is not None:
            return redirect(url_for("publications.article", slug=slug), code=301)
    return errors.render_error(error)
