"""Error pages in the site's layout; a 500 rolls back the session first."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError
from werkzeug.wrappers import Response

from ..extensions import db

MESSAGES = {
    400: "The request could not be understood. Please check what you sent and try again.",
    403: "You do not have permission to do that.",
    404: "We could not find that page. It may have moved, or the address may be mistyped.",
    405: "That action is not available at this address.",
    413: "What you sent is too large. Please shorten it and try again.",
    429: "Too many requests. Please wait a moment before trying again.",
    500: "Something went wrong on our side. It has been logged; please try again later.",
}


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
    db.session.rollback()
    return render_error(error)


def init_app(app: Flask) -> None:
    """Register the handlers."""
    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, render_error)
    app.register_error_handler(SecurityError, untrusted_host)
    app.register_error_handler(InternalServerError, internal_error)
