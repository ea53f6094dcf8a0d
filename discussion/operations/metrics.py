"""Prometheus metrics: requests by endpoint and status with latency histograms, comments
posted and decided by state (counted when their transaction commits), page-cache hits,
and, read from the database when scraped, the moderation queue and the mail outbox.

Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied at each
start) so every worker's counts are added up whichever worker answers the scrape.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator

from flask import Flask, current_app, g, has_app_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Comment, CommentState, MailStatus, OutboxMail, utcnow

disable_created_metrics()  # the *_created series only double what scrapers store
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "discussion_http_requests",
    "Requests answered by the app, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "discussion_http_request_duration_seconds",
    "Time the app took to answer, by endpoint.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
POSTED = Counter(
    "discussion_comments_posted",
    "Comments stored, by the state the rules gave them.",
    ["state"],
    registry=REGISTRY,
)
DECIDED = Counter(
    "discussion_comment_decisions",
    "Decisions on comments (moderators' and the rules' later ones), by the state reached.",
    ["state"],
    registry=REGISTRY,
)
PAGE_CACHE = Counter(
    "discussion_page_cache_requests",
    "Anonymous GETs of shareable pages: served from the process's page cache (hit) or not.",
    ["result"],
    registry=REGISTRY,
)
_PENDING = "metrics_pending"


def count_on_commit(counter: Counter, state: CommentState) -> None:
    """Count ``state`` on ``counter`` once this transaction commits (never if it rolls back)."""
    if has_app_context():
        db.session.info.setdefault(_PENDING, []).append((counter, state.value))


def _counted(session: Session) -> None:
    for counter, label in session.info.pop(_PENDING, []):
        counter.labels(label).inc()


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


class StateCollector(Collector):
    """Figures read from the database at each scrape (any process sees the same)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if not has_app_context():
            return
        pending, oldest = db.session.execute(
            select(func.count(), func.min(Comment.created_at)).where(
                Comment.state == CommentState.PENDING
            )
        ).one()
        yield GaugeMetricFamily(
            "discussion_moderation_queue_size", "Comments awaiting a decision.", value=pending
        )
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=utcnow().tzinfo)
            age = max((utcnow() - oldest).total_seconds(), 0.0)
        yield GaugeMetricFamily(
            "discussion_moderation_oldest_pending_age_seconds",
            "How long the oldest pending comment has waited (0: none waits).",
            value=age,
        )
        backlog = dict(
            db.session.execute(
                select(OutboxMail.status, func.count())
                .where(OutboxMail.status.in_([MailStatus.QUEUED, MailStatus.FAILED]))
                .group_by(OutboxMail.status)
            ).all()
        )
        outbox = GaugeMetricFamily(
            "discussion_mail_outbox",
            "Mails waiting to be sent, and failed ones.",
            labels=["status"],
        )
        for status in (MailStatus.QUEUED, MailStatus.FAILED):
            outbox.add_metric([status.value], backlog.get(status, 0))
        yield outbox


STATE = StateCollector()
REGISTRY.register(STATE)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(STATE)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def allowed(address: str | None) -> bool:
    """Whether ``METRICS_ALLOWED_NETWORKS`` contains the client's address."""
    try:
        client = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    networks = current_app.config.get("METRICS_ALLOWED_NETWORKS") or ()
    if isinstance(networks, str):
        networks = networks.replace(",", " ").split()
    for network in networks:
        try:
            if client in ipaddress.ip_network(str(network), strict=False):
                return True
        except ValueError:
            continue
    return False


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response):  # type: ignore[no-untyped-def]
    started = g.pop("metrics_started", None)
    endpoint = request.endpoint or "unmatched"
    REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    if started is not None:
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Time and count every request the app answers; count page-cache hits."""
    from sqlalchemy import event

    app.before_request(_start)
    app.after_request(_finish)
    if not event.contains(Session, "after_commit", _counted):
        event.listen(Session, "after_commit", _counted)
        event.listen(Session, "after_rollback", _forget)
    page_cache = app.extensions.get("page_cache")
    if page_cache is not None:
        page_cache.count = lambda hit: PAGE_CACHE.labels("hit" if hit else "miss").inc()
