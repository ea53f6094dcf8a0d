"""Request ids and log lines: every answer carries ``X-Request-Id`` (the one a proxy sent,
when it is sane, or a new one), every log line of a request names it, and with
``LOG_FORMAT = "json"`` (``FLASK_LOG_FORMAT=json``) logs are JSON lines, one per request
besides the app's own messages."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HEADER = "X-Request-Id"
ENVIRON_KEY = "discussion.request_id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
REQUESTS_LOGGER = "discussion.requests"


def request_id() -> str | None:
    """This request's id, when answering one."""
    return request.environ.get(ENVIRON_KEY) if has_request_context() else None


class RequestIds:
    """WSGI middleware, outermost: gives each request its id and returns it as a header,
    on answers from the page cache too."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        ident = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        environ[ENVIRON_KEY] = ident

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            headers = [(k, v) for k, v in headers if k.lower() != HEADER.lower()]
            return start_response(status, [*headers, (HEADER, ident)], exc_info)

        return self.app(environ, respond)


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        return True


def _start() -> None:
    g.log_started = time.perf_counter()


def _log_request(response):  # type: ignore[no-untyped-def]
    started = g.pop("log_started", None)
    logging.getLogger(REQUESTS_LOGGER).info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "endpoint": request.endpoint,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "remote_addr": request.remote_addr,
        },
    )
    return response


def init_app(app: Flask) -> None:
    """Wrap the app with request ids; JSON lines when ``LOG_FORMAT`` is "json"."""
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]
    if str(app.config.get("LOG_FORMAT", "text")).lower() != "json":
        _follow_app(app)
        return
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
        )
    )
    handler.addFilter(_WithRequestId())
    for logger in (app.logger, logging.getLogger(REQUESTS_LOGGER)):
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
    app.before_request(_start)
    app.after_request(_log_request)
    _follow_app(app)


# Libraries whose messages tell of the site's health (the rate limiter losing its
# storage and finding it again): their lines go where the app's go.
_LIBRARY_LOGGERS = ("flask-limiter",)


def _follow_app(app: Flask) -> None:
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = list(app.logger.handlers)
        logger.setLevel(logging.INFO)
        logger.propagate = False
