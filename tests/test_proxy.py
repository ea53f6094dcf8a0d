"""deploy/nginx.conf in front of the app: it shares the anonymous page and nothing else.

Runs the app under gunicorn and nginx with the repository's configuration (as
bench/run.py does). That an approval shows before nginx's copy expires is checked here;
how fast, and how many milliseconds an approval takes to show, is the benchmark's job.
"""

from __future__ import annotations

import http.client
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


# Pages are shared for a minute here: an approval showing within seconds comes from the
# app's refresh (discussion/publications/refresh.py), not from the copy expiring.
SHARED_SECONDS = 60


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    workdir = tmp_path_factory.mktemp("proxy")
    url = prepare_database("sqlite", workdir)
    port, refresh_port = free_port(), free_port()
    nginx, nginx_port = proxy.start_nginx(workdir, port, 20_000, refresh_port)  # 502 meanwhile
    proxy_url = f"http://127.0.0.1:{nginx_port}"
    env = {  # as production runs behind deploy/nginx.conf
        **server_env(url),
        "FLASK_SHARED_PAGE_SECONDS": str(SHARED_SECONDS),
        "FLASK_PROXY_REFRESH_URL": f"http://127.0.0.1:{refresh_port}",
        "FLASK_SITE_URL": proxy_url,
        "FLASK_PROXY_COUNT": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "discussion", "create-moderator", "mod",
         "--password", "proxy-password-1"],
        env=env, cwd=BENCH.parent, check=True, capture_output=True,
    )  # fmt: skip
    try:
        app = start(gunicorn(sys.executable, "discussion:create_app()", port, 2), env, port)
        try:
            yield {
                "app": f"http://127.0.0.1:{port}",
                "proxy": proxy_url,
                "refresh": f"http://127.0.0.1:{refresh_port}",
            }
        finally:
            stop(app)
    finally:
        stop(nginx)


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


def _moderator(site: dict[str, str]) -> str:
    """A signed-in moderator's session cookie."""
    login_page, login_headers = _get(f"{site['app']}/auth/login")
    return _session(
        _post(
            f"{site['app']}/auth/login",
            f"username=mod&password=proxy-password-1&csrf_token={_token(login_page)}",
            _session(login_headers),
        )
    )


def _approve(site: dict[str, str], moderator: str, body: str) -> str:
    """Approve the pending comment with this text in the queue; its id."""
    queue, _ = _get(f"{site['app']}/moderation/", moderator)
    [comment_id] = [
        item.split('"', 1)[0]
        for item in queue.split('class="queue-item" id="comment-')[1:]
        if body in item
    ]
    _post(
        f"{site['app']}/moderation/comments/{comment_id}/approve",
        f"csrf_token={_token(queue)}",
        moderator,
    )
    return comment_id


@pytest.mark.parametrize("query", ["", "?sort=newest"])
def test_an_approval_shows_through_the_proxy_before_its_copy_expires(
    site: dict[str, str], query: str
) -> None:
    url = f"{site['proxy']}/publications/{SLUG}"
    page, _ = _get(url)
    text = f"Worth approving {query}"
    _post(f"{url}/comments", f"name=Ada&body={quote(text)}&csrf_token={_token(page)}")
    moderator = _moderator(site)
    for _ in range(3):  # the proxy holds the page, for a minute
        assert f"{text}</p>" not in _get(url + query)[0]
    assert _get(url + query)[1].get("X-Cache-Status") == "HIT"
    comment_id = _approve(site, moderator, text)
    deadline = time.monotonic() + 10  # far less than the copy's minute
    while f'id="comment-{comment_id}"' not in _get(url + query)[0]:
        assert time.monotonic() < deadline, "the proxy kept its copy: no refresh reached it"
        time.sleep(0.05)
    assert _get(url + query)[1].get("X-Cache-Status") == "HIT"  # the new copy is kept


def _status(address: str, path: str, headers: dict[str, str]) -> str:
    """The proxy's cache status for a GET to one of its addresses."""
    host, port = address.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.headers["X-Cache-Status"]
    finally:
        connection.close()


def test_only_the_refresh_address_lets_a_page_be_asked_for_afresh(site: dict[str, str]) -> None:
    """nginx heeds the refresh header on its loopback refresh address alone
    (deploy/nginx.conf): sent to the public address it is ignored, the copy served."""
    path = f"/publications/{SLUG}"
    host = {"Host": site["proxy"].removeprefix("http://")}
    for _ in range(2):
        _get(site["proxy"] + path)
    assert _status(site["proxy"], path, {"X-Cache-Refresh": "http"}) == "HIT"
    assert _status(site["refresh"], path, {**host, "X-Cache-Refresh": "gopher"}) == "HIT"
    assert _status(site["refresh"], path, {**host, "X-Cache-Refresh": "http"}) == "BYPASS"
    assert _status(site["proxy"], path, {}) == "HIT"
