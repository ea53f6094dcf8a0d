"""Errors as ``application/problem+json`` (RFC 9457): one stable ``type`` per kind of
error, documented on the reference page at the type's anchor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, json, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/api/v1/reference#problem-"


@dataclass(frozen=True)
class Kind:
    """A kind of error: its status and title never change; details vary."""

    name: str
    status: int
    title: str

    @property
    def type(self) -> str:
        return TYPE_BASE + self.name


KINDS = {
    k.name: k
    for k in (
        Kind("malformed-request", 400, "The request could not be read"),
        Kind("invalid-json", 400, "The body is not valid JSON"),
        Kind("invalid-encoding", 400, "The body is not valid UTF-8"),
        Kind("invalid-parameter", 400, "A query parameter is not valid"),
        Kind("unauthorized", 401, "A valid API token is required"),
        Kind("forbidden", 403, "This token or account may not do that"),
        Kind("cross-origin", 403, "Sent from a site that may not post here"),
        Kind("comments-closed", 403, "Comments are closed on this publication"),
        Kind("not-found", 404, "Nothing is at this address"),
        Kind("method-not-allowed", 405, "That method is not available at this address"),
        Kind("not-acceptable", 406, "No answer in a type the client accepts"),
        Kind("conflict", 409, "The comment changed since it was seen"),
        Kind("body-too-large", 413, "The body is too large"),
        Kind("unsupported-media-type", 415, "The body must be application/json"),
        Kind("invalid-fields", 422, "Some fields are not valid"),
        Kind("rate-limited", 429, "Too many requests"),
        Kind("server-error", 500, "Something went wrong on our side"),
        Kind("unavailable", 503, "The service is not available right now"),
    )
}
BY_STATUS = {}
for _kind in KINDS.values():
    BY_STATUS.setdefault(_kind.status, _kind)


class Problem(HTTPException):
    """An error the API answers with a problem document (raise it from any view)."""

    def __init__(
        self, kind: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        self.kind = KINDS[kind]
        self.code = self.kind.status
        self.extra = extra
        self.headers = headers or {}
        super().__init__(detail)

    def get_headers(self, *args: Any, **kwargs: Any) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), *self.headers.items()]


def response(kind: Kind, detail: str, *, headers: Any = None, **extra: Any) -> Response:
    """The problem document as a response."""
    body = {
        "type": kind.type,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": request.path,
        **extra,
    }
    answer = Response(json.dumps(body), status=kind.status, mimetype=MEDIA_TYPE, headers=headers)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def from_exception(error: HTTPException) -> Response:
    """Any HTTP error raised while answering an API request, as a problem document
    (its headers kept: ``Allow`` on 405, ``Retry-After`` on 429, ``WWW-Authenticate``)."""
    if isinstance(error, Problem):
        kind, extra = error.kind, error.extra
    elif isinstance(error, CSRFError):
        kind, extra = KINDS["cross-origin"], {}
    else:
        kind, extra = BY_STATUS.get(error.code or 500, KINDS["malformed-request"]), {}
        if kind.status != error.code:  # a status with no kind of its own
            kind = Kind(kind.name, error.code or 500, error.name)
    headers = [
        (k, v)
        for k, v in error.get_response().headers
        if k.lower() not in ("content-type", "content-length")
    ]
    detail = error.description or kind.title
    if isinstance(error, CSRFError):
        detail = "Posting from this site is not allowed; it is not one of EMBED_ORIGINS."
    return response(kind, detail, headers=headers, **extra)
