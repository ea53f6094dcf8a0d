"""Operators' endpoints and logs: /healthz, /readyz, /metrics (only to allowed
addresses), request ids on every answer, JSON log lines."""

from __future__ import annotations

import json
import logging
import re

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade

from discussion.models import CommentState
from discussion.operations import logs
from tests.conftest import MIGRATIONS
from tests.helpers import make_comment, make_publication, post_comment, site_admin


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from Prometheus text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


def test_healthz_answers_while_the_process_runs(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_checks_the_database_and_its_migrations(app: Flask, client) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["database"]["ok"] and ready.json["checks"]["migrations"]["ok"]


def test_readyz_is_unavailable_behind_on_migrations(tmp_path) -> None:
    from discussion import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/r.db"})
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        downgrade(directory=MIGRATIONS, revision="-1")
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.json["status"] == "unavailable"
        assert not response.json["checks"]["migrations"]["ok"]
        assert response.json["checks"]["database"]["ok"]
        from discussion.extensions import db

        db.engine.dispose()


@pytest.mark.config(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/3", RATELIMIT_ENABLED=False)
def test_readyz_is_unavailable_when_redis_does_not_answer(app: Flask, client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"] == {"ok": False, "detail": "unreachable"}


def _redis_answers(url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        with Redis.from_url(url, socket_connect_timeout=1) as client:
            return bool(client.ping())
    except RedisError:
        return False


REDIS = "redis://127.0.0.1:6379/3"


@pytest.mark.config(CACHE_TYPE="RedisCache", CACHE_REDIS_URL=REDIS)
def test_readyz_checks_a_configured_redis(app: Flask, client) -> None:
    if not _redis_answers(REDIS):
        pytest.skip("no Redis on 127.0.0.1:6379 (.ci/run starts one)")
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"]["redis"] == {"ok": True, "detail": "reachable"}


def test_metrics_are_refused_to_other_addresses(app: Flask, client) -> None:
    far = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert far.status_code == 403 and b"discussion_" not in far.data
    app.config["METRICS_ALLOWED_NETWORKS"] = ["203.0.113.0/24"]
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    assert client.get("/metrics").status_code == 403  # 127.0.0.1 is no longer listed


def test_metrics_count_requests_comments_decisions_and_the_queue(
    seeded: Flask, client, page_clock
) -> None:
    from discussion.moderation import decisions

    before = client.get("/metrics").get_data(as_text=True)
    p = make_publication()
    post_comment(client, p.slug, body="Counted once.")
    client.get(f"/publications/{p.slug}")  # a plain visit
    reader = seeded.test_client()  # no cookie: shared pages
    reader.get("/")
    reader.get("/")  # the second within the second comes from the page cache
    pending = make_comment(p, state=CommentState.PENDING)
    decisions.act(pending.id, "approve", site_admin())
    from discussion.extensions import db

    db.session.commit()
    after_text = client.get("/metrics")
    assert after_text.content_type.startswith("text/plain")
    after = after_text.get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("discussion_comments_posted_total", state="pending") == 1
    assert grew("discussion_comment_decisions_total", state="approved") == 1
    assert (
        grew(
            "discussion_http_requests_total",
            endpoint="comments.post",
            method="POST",
            status="303",
        )
        == 1
    )
    assert grew("discussion_http_request_duration_seconds_count", endpoint="comments.post") == 1
    assert grew("discussion_page_cache_requests_total", result="hit") >= 1
    assert sample(after, "discussion_moderation_queue_size") == 1  # the posted one waits
    assert sample(after, "discussion_moderation_oldest_pending_age_seconds") >= 0
    assert 'discussion_mail_outbox{status="queued"}' in after


def test_every_answer_carries_a_request_id(client) -> None:
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/healthz").headers["X-Request-Id"]
    assert first != second and re.fullmatch(r"[0-9a-f]{32}", first)
    given = client.get("/healthz", headers={"X-Request-Id": "edge-42.a"})
    assert given.headers["X-Request-Id"] == "edge-42.a"
    hostile = client.get("/healthz", headers={"X-Request-Id": "x\u00e9<script>"})
    assert hostile.headers["X-Request-Id"] != "x\u00e9<script>"
    assert client.get("/api/v1/nothing").headers["X-Request-Id"]


@pytest.mark.config(LOG_FORMAT="json")
def test_json_logs_name_the_request(app: Flask, client, capsys) -> None:
    handler = logging.getLogger(logs.REQUESTS_LOGGER).handlers[0]
    stream = handler.stream  # type: ignore[attr-defined]
    lines: list[str] = []
    handler.stream = type(
        "Sink", (), {"write": lambda _s, t: lines.append(t), "flush": lambda _s: None}
    )()  # type: ignore[attr-defined]
    try:
        response = client.get("/healthz", headers={"X-Request-Id": "abc-123"})
        app.logger.warning("outside a request")
    finally:
        handler.stream = stream  # type: ignore[attr-defined]
    records = [json.loads(line) for line in "".join(lines).splitlines()]
    request_line = next(r for r in records if r["message"] == "request")
    assert request_line["request_id"] == "abc-123" == response.headers["X-Request-Id"]
    assert request_line["status"] == 200 and request_line["path"] == "/healthz"
    assert request_line["level"] == "INFO" and "time" in request_line
    assert next(r for r in records if r["message"] == "outside a request")["request_id"] is None
