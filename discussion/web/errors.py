"""Error pages in the site's layout; a 500 rolls back the session first; a database
that cannot answer gets a 503 that keeps what the visitor typed."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, render_template, request
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    SecurityError,
    ServiceUnavailable,
)
from werkzeug.wrappers import Response

from ..extensions import db, login_manager
from . import database

MESSAGES = {
    400: "The request could not be understood. Please check what you sent and try again.",
    403: "You do not have permission to do that.",
    404: "We could not find that page. It may have moved, or the address may be mistyped.",
    405: "That action is not available at this address.",
    413: "What you sent is too large. Please shorten it and try again.",
    429: "Too many requests. Please wait a moment before trying again.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}
UNREACHABLE = "The site cannot reach its database this moment. Please try again in a moment."
UNSAVED = (
    "Your changes may not have been saved: the site cannot reach its database this "
    "moment. What you typed is below; please send it again in a moment."
)
# Form fields never written back into a page (secrets), and fields kept out of sight:
# tokens, ids, where to go next, a list's position.
_SECRET = ("pass", "pwd", "secret", "key")
_HIDDEN = frozenset({"csrf_token", "token", "website", "next", "seen", "sort", "page", "scope"})


class Site(Flask):
    """The app. The database failing inside an error handler (one that looks up the page
    a refused form came from, or the signed-in account for the layout) reaches
    :func:`internal_error` as a 500, which answers the 503 page; the outage is logged
    once by :data:`database.outage`, so it is not logged again as a traceback."""

    def log_exception(self, exc_info: Any) -> None:
        if exc_info[1] is not None and database.unavailable(exc_info[1]):
            return
        super().log_exception(exc_info)


def answer_under(app: Flask, prefix: str, render: Callable[[HTTPException], Response]) -> None:
    """Errors of requests under ``prefix`` (an API) are answered by ``render``, not pages."""
    app.extensions.setdefault("error_renderers", {})[prefix] = render


def render_error(error: HTTPException) -> Response:
    """The error's own response (status, headers such as Allow), with the site's page."""
    for prefix, render in current_app.extensions.get("error_renderers", {}).items():
        if request.path.startswith(prefix):
            return render(error)
    code = error.code or 500
    response = error.get_response()
    response.set_data(
        render_template(
            "errors/error.html",
            code=code,
            title=error.name,
            message=MESSAGES.get(code, error.description),
        )
    )
    response.content_type = "text/html; charset=utf-8"
    return response


def untrusted_host(error: SecurityError) -> Response:
    """A Host outside ``TRUSTED_HOSTS``: no page of the site (whose links would need that
    host), only a plain refusal."""
    return Response(MESSAGES[400] + "\n", status=400, mimetype="text/plain")


def internal_error(error: InternalServerError) -> Response:
    """A 500; or the 503 when what failed (in a view or in another error handler, such
    as one that looks up the page a refused form came from) was the database."""
    original = error.original_exception
    if isinstance(original, database.UNAVAILABLE) and database.unavailable(original):
        return database_unavailable(original)
    with suppress(*database.UNAVAILABLE):
        db.session.rollback()
    try:
        return render_error(error)
    except database.UNAVAILABLE:  # the database failed while showing another fault
        return Response(MESSAGES[500] + "\n", 500, mimetype="text/plain")


@dataclass(frozen=True, slots=True)
class Field:
    """A field the visitor sent, to send again from the 503 page."""

    name: str
    value: str

    @property
    def label(self) -> str:
        return self.name.replace("_", " ").capitalize()

    @property
    def kind(self) -> str:
        """``hidden`` for tokens, ids and empty fields, ``textarea`` for long text."""
        if self.name in _HIDDEN or not self.value or self.name.endswith("_id"):
            return "hidden"
        return "textarea" if "\n" in self.value or len(self.value) > 80 else "text"


def kept_fields() -> list[Field]:
    """The form fields of this request, secrets left out (a visitor's password is never
    written into a page)."""
    if request.method in ("GET", "HEAD") or request.mimetype not in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return []
    return [
        Field(name, value)
        for name, value in request.form.items(multi=True)
        if not any(secret in name.lower() for secret in _SECRET)
    ]


def database_unavailable(error: Exception) -> Response:
    """503 while the database cannot answer, with Retry-After and the visitor's text.

    Nothing is half-done: the transaction rolls back (on a dead connection, the pool
    drops it). The page needs no database: it is rendered for an anonymous visitor
    (loading the signed-in account would ask the database again)."""
    if not database.unavailable(error):
        raise error  # a fault of the code or the schema: the 500 handler, with its traceback
    with suppress(*database.UNAVAILABLE):
        db.session.rollback()
    database.outage.refused(error)
    seconds = current_app.config["RETRY_AFTER_SECONDS"]
    unavailable = ServiceUnavailable(UNREACHABLE, retry_after=seconds)
    for prefix, render in current_app.extensions.get("error_renderers", {}).items():
        if request.path.startswith(prefix):
            return render(unavailable)
    g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request user
    fields = kept_fields()
    try:
        page = render_template(
            "errors/unavailable.html",
            message=UNSAVED if fields else UNREACHABLE,
            fields=fields,
            action=request.script_root
            + (request.full_path if request.query_string else request.path),
        )
    except database.UNAVAILABLE:  # a template that asked the database after all
        page = UNREACHABLE + "\n"
        return Response(page, 503, {"Retry-After": str(seconds)}, mimetype="text/plain")
    response = unavailable.get_response()
    response.set_data(page)
    response.content_type = "text/html; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Register the handlers."""
    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, render_error)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(InternalServerError, internal_error)
    for error in database.UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)
