"""Slow, broken and restarting: clients that dribble or break off, and a deploy under load."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

import proxy  # bench/ is on sys.path through .support, which conftest.py loads first
import pytest
from processes import stop as stop_server

from .support import ARTICLE, comment_form, fetch

needs_nginx = pytest.mark.skipif(
    not proxy.available(), reason="nginx is not installed (apt-get install nginx; .ci/run does)"
)


def _stored(database: Path, text: str) -> int:
    with sqlite3.connect(database) as check:
        return check.execute(
            "SELECT count(*) FROM comments WHERE body_text LIKE ?", (f"%{text}%",)
        ).fetchone()[0]


def _cut_off(port: int, form: dict[str, str]) -> bytes:
    """A comment POST whose client stops a third of the way through its body."""
    body = urlencode(form).encode()
    head = (
        f"POST {ARTICLE}/comments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Origin: http://127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(head + body[: len(body) // 3])
        s.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


@needs_nginx
def test_slow_clients_through_nginx_do_not_hold_up_other_readers(serve, tmp_path: Path) -> None:
    database = tmp_path / "slow.sqlite3"
    site = serve(f"sqlite:///{database}", PROXY_COUNT="1")
    nginx, port = proxy.start_nginx(tmp_path, site.port, 1024)
    url = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    opened: list[socket.socket] = []
    page = fetch(url + ARTICLE).text
    tag = uuid.uuid4().hex[:10]

    def dribble(n: int) -> None:
        """Far more slow connections than gunicorn has workers, a byte at a time."""
        if n % 2:
            request = f"GET {ARTICLE} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: "
        else:
            body = urlencode(comment_form(page, f"{tag} slow {n}"))
            request = (
                f"POST {ARTICLE}/comments HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Origin: http://127.0.0.1:{port}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body) + 100}\r\n\r\n{body}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                opened.append(s)
                for byte in request.encode():
                    if stop.is_set():
                        return
                    s.send(bytes([byte]))
                    time.sleep(0.2)
        except OSError:
            pass

    dribblers = [threading.Thread(target=dribble, args=(n,), daemon=True) for n in range(100)]
    try:
        for thread in dribblers:
            thread.start()
        time.sleep(1)
        # Readers with a session: nginx sends every one of them on to gunicorn.
        answers = [fetch(url + ARTICLE, cookie="session=x") for _ in range(200)]
        cut = _cut_off(port, comment_form(page, f"{tag} cut"))
    finally:
        stop.set()
        for thread in dribblers:
            thread.join(10)
        stop_server(nginx)
    assert len(opened) >= 90
    assert {a.status for a in answers} == {200}
    times = sorted(a.seconds for a in answers)
    p99 = times[int(len(times) * 0.99) - 1]
    assert p99 < 0.1, f"p99 {p99 * 1000:.0f} ms with slow clients connected"
    assert b"201" not in cut[:20] and b"303" not in cut[:20]
    assert _stored(database, tag) == 0  # nothing half-sent was stored
    site.no_tracebacks()


def test_a_request_cut_off_mid_body_stores_nothing(serve, tmp_path: Path) -> None:
    database = tmp_path / "cut.sqlite3"
    site = serve(f"sqlite:///{database}")
    page = fetch(site.url + ARTICLE).text
    tag = uuid.uuid4().hex[:10]
    answer = _cut_off(site.port, comment_form(page, f"{tag} " + "word " * 200))
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert _stored(database, tag) == 0
    whole = fetch(site.url + ARTICLE + "/comments", comment_form(page, f"{tag} whole"))
    assert whole.status == 303 and _stored(database, tag) == 1
    site.no_tracebacks()


def test_a_graceful_restart_under_load_drops_nothing(serve, tmp_path: Path) -> None:
    database = tmp_path / "restart.sqlite3"
    site = serve(f"sqlite:///{database}")
    page = fetch(site.url + ARTICLE).text
    tag = uuid.uuid4().hex[:10]
    stop = threading.Event()
    statuses: list[int] = []
    acknowledged: list[str] = []

    def post(worker: int) -> None:
        n = 0
        while not stop.is_set():
            body = f"{tag} {worker}-{n}"
            answer = fetch(site.url + ARTICLE + "/comments", comment_form(page, body))
            statuses.append(answer.status)
            if answer.status == 303:
                acknowledged.append(body)
            n += 1

    def read() -> None:
        while not stop.is_set():
            statuses.append(fetch(site.url + ARTICLE, cookie="session=x").status)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=read) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        for _ in range(2):  # two deploys: new workers with the new code, old ones finish
            time.sleep(2)
            os.kill(site.process.pid, signal.SIGHUP)
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert statuses and set(statuses) <= {200, 303}, sorted(set(statuses))
    assert len(acknowledged) > 10
    with sqlite3.connect(database) as check:
        stored = dict(
            check.execute(
                "SELECT body_text, count(*) FROM comments WHERE body_text LIKE ? "
                "GROUP BY body_text",
                (f"{tag} %",),
            ).fetchall()
        )
    assert all(stored.get(body) == 1 for body in acknowledged)
    assert site.log.count("Booting worker") >= 6  # 2 at the start, 2 per restart
    site.no_tracebacks()
