"""deploy/nginx.conf in front of the app: it shares the anonymous page and nothing else.

Runs the app under gunicorn and nginx with the repository's configuration (as
bench/run.py does). How fast, and how soon an approval shows, is the benchmark's job.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import proxy  # noqa: E402
from load_check import prepare_database, server_env  # noqa: E402
from processes import free_port, gunicorn, start, stop  # noqa: E402

pytestmark = pytest.mark.skipif(
    not proxy.available(), reason="nginx is not installed (apt-get install nginx; .ci/run does)"
)
SLUG = "khamenei-rejects-us-talks-on-twitter"


class _Keep303(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_Keep303)


def _get(url: str, cookie: str = "") -> tuple[str, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    with _OPENER.open(request, timeout=10) as response:
        return response.read().decode(), dict(response.headers)


def _post(url: str, data: str, cookie: str = "") -> dict[str, str]:
    request = urllib.request.Request(
        url, data=data.encode(), headers={"Cookie": cookie} if cookie else {}
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return dict(response.headers)
    except urllib.error.HTTPError as answer:  # the 303 is not followed
        return dict(answer.headers)


def _token(page: str) -> str:
    return quote(re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1))


def _session(headers: dict[str, str]) -> str:
    return headers["Set-Cookie"].split(";", 1)[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    workdir = tmp_path_factory.mktemp("proxy")
    url = prepare_database("sqlite", workdir)
    env = server_env(url)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "discussion", "create-moderator", "mod",
         "--password", "proxy-password-1"],
        env=env, cwd=BENCH.parent, check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    app = start(gunicorn(sys.executable, "discussion:create_app()", port, 2), env, port)
    try:
        nginx, nginx_port = proxy.start_nginx(workdir, port, 20_000)
        try:
            yield {"app": f"http://127.0.0.1:{port}", "proxy": f"http://127.0.0.1:{nginx_port}"}
        finally:
            stop(nginx)
    finally:
        stop(app)


def test_the_proxy_serves_the_anonymous_article_from_its_cache(site: dict[str, str]) -> None:
    url = f"{site['proxy']}/publications/{SLUG}"
    statuses = [_get(url)[1].get("X-Cache-Status") for _ in range(3)]
    assert statuses[-1] == "HIT"
    page, headers = _get(url)
    assert "Tell us what you think" in page and "Set-Cookie" not in headers


def test_a_readers_own_page_passes_the_proxy_and_is_never_given_to_others(
    site: dict[str, str],
) -> None:
    url = f"{site['proxy']}/publications/{SLUG}"
    page, _ = _get(url)
    headers = _post(f"{url}/comments", f"name=Ada&body=Mine+alone&csrf_token={_token(page)}")
    cookie = _session(headers)
    own, own_headers = _get(url, cookie)
    assert "Mine alone" in own and own_headers.get("X-Cache-Status") == "BYPASS"
    for _ in range(3):  # a second passes: the proxy refreshes its copy meanwhile
        assert "Mine alone" not in _get(url)[0]
        time.sleep(0.5)


def test_an_approval_shows_through_the_proxy(site: dict[str, str]) -> None:
    url = f"{site['proxy']}/publications/{SLUG}"
    page, _ = _get(url)
    _post(f"{url}/comments", f"name=Ada&body=Worth+approving&csrf_token={_token(page)}")
    login_page, login_headers = _get(f"{site['app']}/auth/login")
    session = _session(login_headers)
    moderator = _session(
        _post(
            f"{site['app']}/auth/login",
            f"username=mod&password=proxy-password-1&csrf_token={_token(login_page)}",
            session,
        )
    )
    queue, _ = _get(f"{site['app']}/moderation/", moderator)
    [comment_id] = [
        item.split('"', 1)[0]
        for item in queue.split('class="queue-item" id="comment-')[1:]
        if "Worth approving" in item
    ]
    assert f'id="comment-{comment_id}"' not in _get(url)[0]
    _post(
        f"{site['app']}/moderation/comments/{comment_id}/approve",
        f"csrf_token={_token(queue)}",
        moderator,
    )
    deadline = time.monotonic() + 10  # generous: the benchmark measures the delay
    while f'id="comment-{comment_id}"' not in _get(url)[0]:
        assert time.monotonic() < deadline, "the approval never reached the proxy"
        time.sleep(0.05)
