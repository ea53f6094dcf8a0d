"""Redis, holding the rate limits and the caches, stops and comes back."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from .support import ARTICLE, Redis, comment_form, fetch


def test_without_redis_the_site_serves_and_limits_fall_back_to_memory(
    serve, redis_server: Redis, tmp_path: Path
) -> None:
    site = serve(
        f"sqlite:///{tmp_path / 'redis.sqlite3'}",
        RATELIMIT_ENABLED="true",
        RATELIMIT_STORAGE_URI=redis_server.url,
        RATELIMIT_COMMENTS="3/minute",
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_server.url,
    )
    tag = uuid.uuid4().hex[:10]
    page = fetch(site.url + ARTICLE).text
    assert fetch(site.url + ARTICLE, cookie="session=x").status == 200
    assert redis_server.keys("flask_cache_*")  # the thread's render is shared in Redis

    with redis_server.down():
        started = time.monotonic()
        reads = [fetch(site.url + ARTICLE, cookie="session=x") for _ in range(20)]
        posts = [
            fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} {n}"))
            for n in range(8)
        ]
        seconds = time.monotonic() - started
    assert [r.status for r in reads] == [200] * 20
    assert seconds < 15  # no request waited long on the missing Redis
    statuses = [p.status for p in posts]
    # 3 a minute in each of the 2 processes: some taken, the rest refused, text kept.
    assert statuses.count(303) >= 3 and 429 in statuses and set(statuses) <= {303, 429}
    refused = next(n for n, p in enumerate(posts) if p.status == 429)
    assert f"{tag} {refused}" in posts[refused].text
    log = site.log
    # Said once per process, not once per request.
    assert 1 <= log.count("falling back to in-memory storage") <= 2, log
    assert 1 <= log.count("cache unreachable") <= 2, log

    # Back in Redis by itself (the limiter looks for its storage again after a while).
    back = time.monotonic()
    while time.monotonic() - back < 60 and not (
        redis_server.keys("LIMITS*") and redis_server.keys("flask_cache_*")
    ):
        fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} back"))
        fetch(site.url + ARTICLE, cookie="session=x")
        time.sleep(0.5)
    assert redis_server.keys("LIMITS*"), "rate limits never returned to Redis"
    assert redis_server.keys("flask_cache_*"), "the cache never returned to Redis"
    site.no_tracebacks()
