"""Operators' endpoints: ``/healthz`` (the process answers), ``/readyz`` (what it needs
answers: database, migrations, Redis when configured) and ``/metrics`` (Prometheus text,
only to ``METRICS_ALLOWED_NETWORKS``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request

from . import checks, logs, metrics

bp = Blueprint("operations", __name__)


@bp.record_once
def _setup(state: Any) -> None:
    metrics.init_app(state.app)
    logs.init_app(state.app)


def _uncached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    return _uncached(jsonify(status="ok"))


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    found = checks.readiness()
    ready = all(c.ok for c in found)
    body = jsonify(
        status="ok" if ready else "unavailable",
        checks={c.name: {"ok": c.ok, "detail": c.detail} for c in found},
    )
    return _uncached(body), 200 if ready else 503


@bp.get("/metrics")
def metrics_page() -> Response:
    if not metrics.allowed(request.remote_addr):
        current_app.logger.warning("metrics refused to %s", request.remote_addr)
        abort(403)
    data, content_type = metrics.exposition()
    return _uncached(Response(data, content_type=content_type))
