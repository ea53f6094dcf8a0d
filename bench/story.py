"""The story-breaks scenario (bench/run.py --scenario story): one article read at full
rate while comments pour in and a moderator approves them, all in one run.

Readers: wrk (2 threads, 16 connections) on the 200-comment article, first alone, then
while posters send POSTS_PER_SECOND new comments between them (each from a new visitor,
pre-moderation and the rules on, as configured by default) and follow the 303 to the
article as a browser does (their page, with their pending comment, is built for them),
and a moderator approves APPROVALS_PER_SECOND of those comments through the queue's JSON
decision. Each approval is then watched on the article's newest-first page, as a reader
fetches it, until the comment shows. Afterwards every acknowledged (303) comment must be
in the database exactly once.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from load_check import stored_counts

ARTICLE = "demo-comments-200"
POSTS_PER_SECOND = 20
POSTERS = 10  # client threads sharing the posting rate (each also loads its page)
APPROVALS_PER_SECOND = 2
MODERATOR = ("bench", "bench-password-1")


def p99(values: list[float]) -> float:
    """The 99th percentile (inclusive), 0 for no values."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


@dataclass
class Posting:
    """What the posters saw: POST latencies, their page after it, failures, acked tags."""

    post_ms: list[float] = field(default_factory=list)
    page_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Approving:
    """What the moderator saw: decision latencies, refusals, seconds until visible."""

    decide_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _connection(front: str) -> http.client.HTTPConnection:
    parts = urlsplit(front)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def _request(
    front: str, method: str, path: str, body: str | None = None, headers: dict | None = None
) -> tuple[int, dict[str, str], bytes, float]:
    """One request on a new connection: status, headers (last of each), body, ms taken."""
    connection = _connection(front)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            (time.perf_counter() - started) * 1000,
        )
    finally:
        connection.close()


def _cookie(headers: dict[str, str]) -> str:
    value = headers.get("set-cookie", "")
    return value.split(";", 1)[0] if value.startswith("session=") else ""


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def login(front: str) -> str:
    """The moderator's session cookie (``session=…``), signed in through ``front``."""
    status, headers, page, _ = _request(front, "GET", "/auth/login")
    session = _cookie(headers)
    user, password = MODERATOR
    status, headers, _, _ = _request(
        front,
        "POST",
        "/auth/login",
        urlencode({"username": user, "password": password, "csrf_token": token_of(page.decode())}),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session},
    )
    assert status in (302, 303), status
    return _cookie(headers) or session


def pending_reader(front: str, slug: str = ARTICLE) -> str:
    """The session cookie of a new visitor who has posted a comment (still pending) on
    ``slug`` and seen the page the 303 names, as a browser holds it afterwards (the
    notice shown once and gone): the reader whose page cannot be shared."""
    page = urllib.request.urlopen(f"{front}/publications/{slug}", timeout=30).read().decode()
    status, headers, _, _ = _request(
        front,
        "POST",
        f"/publications/{slug}/comments",
        urlencode(
            {
                "name": "Waiting",
                "body": f"pending-{secrets.token_hex(4)}",
                "csrf_token": token_of(page),
            }
        ),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 303, status
    cookie = _cookie(headers)
    status, headers, _, _ = _request(
        front, "GET", f"/publications/{slug}", None, {"Cookie": cookie}
    )
    assert status == 200, status
    return _cookie(headers) or cookie


def approved_reader(front: str, slug: str = ARTICLE) -> str:
    """The session cookie of a reader whose comment a moderator has approved since: on
    the article's first page newest first, theirs (an edit link, no Recommend button)."""
    cookie = pending_reader(front, slug)
    _, _, page, _ = _request(front, "GET", f"/publications/{slug}", None, {"Cookie": cookie})
    comment_id = re.search(r'comment--pending[^"]*" id="comment-(\d+)"', page.decode()).group(1)
    moderator = login(front)
    _, _, queue, _ = _request(front, "GET", "/moderation/", headers={"Cookie": moderator})
    status, _, _, _ = _request(
        front,
        "POST",
        f"/moderation/comments/{comment_id}/approve",
        urlencode({"csrf_token": token_of(queue.decode()), "seen": "pending"}),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Cookie": moderator,
        },
    )
    assert status == 200, status
    time.sleep(1.1)  # every process's copy of the page has expired
    return cookie


def _poster(
    front: str, slug: str, token: str, tag: str, until: float, interval: float, out: Posting
) -> None:
    """Post one comment every ``interval`` seconds (on schedule; at once when behind),
    each as a new visitor, and load the page the 303 names with the new session."""
    n, due = 0, time.monotonic()
    while due < until:
        time.sleep(max(0.0, due - time.monotonic()))
        due += interval
        n += 1
        text = f"{tag}-{n} A reader's view on the news, posted during the story."
        headers = _timed(
            out,
            out.post_ms,
            ("POST", 303),
            front,
            "POST",
            f"/publications/{slug}/comments",
            urlencode({"name": "Reader", "body": text, "csrf_token": token}),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if headers is None:
            continue
        with out.lock:
            out.acked.append(text)
        location = urlsplit(headers["location"])
        cookie = {"Cookie": _cookie(headers)}
        _timed(
            out, out.page_ms, ("page after POST", 200), front, "GET", location.path, None, cookie
        )


def _timed(
    out: Posting, times: list[float], expected: tuple[str, int], *request: Any
) -> dict[str, str] | None:
    """One of a poster's requests (:func:`_request`'s arguments), its time and any error
    recorded in ``out``; its headers when it got the ``expected`` (label, status)."""
    label, status_wanted = expected
    try:
        status, headers, _, ms = _request(*request)
    except OSError as error:
        with out.lock:
            out.errors.append(repr(error))
        return None
    with out.lock:
        times.append(ms)
        if status != status_wanted:
            out.errors.append(f"{label} {status}")
    return headers if status == status_wanted else None


def _watch(front: str, slug: str, comment_id: int, since: float, out: Approving) -> None:
    """Poll the article's newest-first page every 10 ms until the comment shows (5 s)."""
    marker = f'id="comment-{comment_id}"'.encode()
    while time.monotonic() - since < 5:
        try:
            _, _, page, _ = _request(front, "GET", f"/publications/{slug}?sort=newest")
        except OSError:
            page = b""
        if marker in page:
            with out.lock:
                out.visible_s.append(time.monotonic() - since)
            return
        time.sleep(0.01)
    with out.lock:
        out.visible_s.append(float("inf"))


def _moderator(
    front: str,
    database_url: str,
    slug: str,
    tag: str,
    until: float,
    out: Approving,
    watchers: list[threading.Thread],
) -> None:
    """Approve the newest pending comment of this run every 1/APPROVALS_PER_SECOND s."""
    cookie = login(front)
    _, _, queue, _ = _request(front, "GET", "/moderation/", headers={"Cookie": cookie})
    token = token_of(queue.decode())
    engine = sa.create_engine(database_url)
    newest = sa.text(
        "SELECT id FROM comments WHERE state = 'pending' AND body_text LIKE :tag "
        "ORDER BY id DESC LIMIT 1"
    )
    interval, due = 1 / APPROVALS_PER_SECOND, time.monotonic()
    try:
        while due < until:
            time.sleep(max(0.0, due - time.monotonic()))
            due += interval
            with engine.connect() as connection:
                comment_id = connection.execute(newest, {"tag": tag + "-%"}).scalar()
            if comment_id is None:
                continue
            try:
                status, _, body, ms = _request(
                    front,
                    "POST",
                    f"/moderation/comments/{comment_id}/approve",
                    urlencode({"csrf_token": token, "seen": "pending"}),
                    {
                        "Content-Type": "application/x-www-form-urlencoded",
                        "Accept": "application/json",
                        "Cookie": cookie,
                    },
                )
            except OSError as error:
                with out.lock:
                    out.errors.append(repr(error))
                continue
            decided = time.monotonic()
            with out.lock:
                out.decide_ms.append(ms)
                if status != 200 or b'"ok":true' not in body.replace(b" ", b""):
                    out.errors.append(f"approve {status} {body[:80]!r}")
                    continue
            watcher = threading.Thread(
                target=_watch, args=(front, slug, comment_id, decided, out), daemon=True
            )
            watcher.start()
            watchers.append(watcher)
    finally:
        engine.dispose()


@dataclass
class Story:
    """One front's (gunicorn alone, or nginx) story: readers alone and during it."""

    solo: object  # run.Result
    mixed: object
    posting: Posting
    approving: Approving
    stored: int
    stored_once: int
    seconds: float
    client_cpu: float  # CPU seconds this script's posters, moderator and watchers used
    usage: tuple[Usage, Usage] | None = None  # the machine and the app, alone / the story


@dataclass
class Usage:
    """CPU used while wrk read: the whole machine's share of its cores (busy, not
    idle), and the app's workers' CPU seconds a second, in cores."""

    machine: float
    app_cores: float


def _ticks(server_pid: int) -> tuple[list[int], int]:
    """The machine's CPU ticks (busy, total) and the app's workers' ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    app = 0
    for pid in children:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # a worker replaced meanwhile
            continue
        app += int(stat[11]) + int(stat[12])  # utime, stime
    return [sum(fields) - idle, sum(fields)], app


def _measured(server_pid: int | None, read):  # type: ignore[no-untyped-def]
    """``read()``'s result, and the CPU used meanwhile (None without a server pid)."""
    if server_pid is None:
        return read(), None
    (busy, total), app = _ticks(server_pid)
    started = time.monotonic()
    result = read()
    seconds = time.monotonic() - started
    (busy2, total2), app2 = _ticks(server_pid)
    tick = os.sysconf("SC_CLK_TCK")
    return result, Usage((busy2 - busy) / max(total2 - total, 1), (app2 - app) / tick / seconds)


def run(  # type: ignore[no-untyped-def]
    front: str,
    database_url: str,
    duration: int,
    wrk,
    slug: str = ARTICLE,
    server_pid: int | None = None,
) -> Story:
    """Readers alone for ``duration`` s, then the story for ``duration`` s (see module);
    with gunicorn's pid, the CPU the machine and the app's workers used in each."""
    url = f"{front}/publications/{slug}"
    for _ in range(3):  # warm every worker's copy
        urllib.request.urlopen(url, timeout=30).read()
    solo, solo_usage = _measured(server_pid, lambda: wrk("readers alone", url, duration))
    token = token_of(urllib.request.urlopen(url, timeout=30).read().decode())
    tag = f"story-{secrets.token_hex(4)}"
    posting, approving = Posting(), Approving()
    started, cpu = time.monotonic(), time.process_time()
    until = started + duration + 0.5
    threads = [
        threading.Thread(
            target=_poster,
            args=(front, slug, token, f"{tag}-{i}", until, POSTERS / POSTS_PER_SECOND, posting),
        )
        for i in range(POSTERS)
    ]
    watchers: list[threading.Thread] = []
    threads.append(
        threading.Thread(
            target=_moderator,
            args=(front, database_url, slug, tag, until, approving, watchers),
        )
    )
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the posters are under way when wrk starts
    mixed, mixed_usage = _measured(
        server_pid, lambda: wrk("readers during the story", url, duration)
    )
    for thread in threads:
        thread.join()
    seconds, client_cpu = time.monotonic() - started, time.process_time() - cpu
    for watcher in watchers:
        watcher.join()
    counts = stored_counts(database_url, tag + "-")
    stored_once = sum(1 for text in posting.acked if counts.get(text) == 1)
    usage = (solo_usage, mixed_usage) if solo_usage and mixed_usage else None
    return Story(
        solo,
        mixed,
        posting,
        approving,
        sum(counts.values()),
        stored_once,
        seconds,
        client_cpu,
        usage,
    )


def rows(label: str, story: Story) -> list[str]:
    """Markdown table rows for one story."""
    s, m, p, a = story.solo, story.mixed, story.posting, story.approving
    visible = sorted(a.visible_s)
    shown = (
        f"max {visible[-1] * 1000:.0f} ms, median {statistics.median(visible) * 1000:.0f} ms "
        f"({len(visible)})"
        if visible
        else "none"
    )
    lines = [
        f"| {label} | readers alone | {s.rps:.0f} req/s | p99 {s.p99_ms:.1f} ms "
        f"| {s.errors} errors |",
        f"| {label} | readers during the story | {m.rps:.0f} req/s ({m.rps / s.rps:.0%} of alone) "
        f"| p99 {m.p99_ms:.1f} ms | {m.errors} errors |",
        f"| {label} | comment POSTs | {len(p.post_ms) / story.seconds:.1f}/s "
        f"| p99 {p99(p.post_ms):.1f} ms | {len(p.errors)} errors; {len(p.acked)} 303s, "
        f"{story.stored_once} stored exactly once, {story.stored} rows |",
        f"| {label} | poster's page after the 303 | {len(p.page_ms)} | p99 {p99(p.page_ms):.1f} ms "
        f"| median {statistics.median(p.page_ms) if p.page_ms else 0:.1f} ms |",
        f"| {label} | approvals (JSON) | {len(a.decide_ms) / story.seconds:.1f}/s "
        f"| p99 {p99(a.decide_ms):.1f} ms | {len(a.errors)} errors; visible after: {shown} |",
        f"| {label} | the story's clients (this script) | {story.client_cpu:.1f} CPU s "
        f"in {story.seconds:.1f} s | {story.client_cpu / story.seconds:.0%} of one core "
        "| taken from the machine's 2 cores beside wrk and the server |",
    ]
    if story.usage:
        alone, during = story.usage
        lines.append(
            f"| {label} | CPU while wrk read | alone: machine {alone.machine:.0%} busy, the app "
            f"{alone.app_cores:.2f} cores | during the story: machine {during.machine:.0%} "
            f"busy, the app {during.app_cores:.2f} cores | the app: gunicorn's workers |"
        )
    return lines


def reader_rows(front: str, ceiling: str, size: int, duration: int, wrk) -> list:  # type: ignore[no-untyped-def]
    """The 200-comment article for a reader whose comment is pending, for a signed-in
    moderator and for a reader whose comment was approved (newest first, where theirs
    is), each through Flask, beside the shared page and the ceiling's rate; then
    the front page for that reader beside its shared copy and the ceiling at its size."""
    url = f"{front}/publications/{ARTICLE}"
    cookie = pending_reader(front)
    ceil = wrk(f"ceiling: {size} bytes", f"{ceiling}/{size}", duration)
    shared = wrk("article, 200 comments, shared page", url, duration)
    pending = wrk(
        "article, 200 comments, reader with a pending comment",
        url,
        duration,
        headers={"Cookie": cookie},
    )
    moderator = wrk(
        "article, 200 comments, signed-in moderator",
        url,
        duration,
        headers={"Cookie": login(front)},
    )
    approved = wrk(
        "article, 200 comments, newest first, reader whose comment was approved",
        f"{url}?sort=newest",
        duration,
        headers={"Cookie": approved_reader(front)},
    )
    for r in (ceil, shared, pending, moderator, approved):
        r.size = size
    home = len(urllib.request.urlopen(f"{front}/", timeout=30).read())
    home_rows = [
        wrk(f"ceiling: {home} bytes", f"{ceiling}/{home}", duration),
        wrk("front page, shared page", f"{front}/", duration),
        wrk(
            "front page, reader with a pending comment",
            f"{front}/",
            duration,
            headers={"Cookie": cookie},
        ),
    ]
    for r in home_rows:
        r.size = home
    return [ceil, shared, pending, moderator, approved, *home_rows]


__all__ = ["Story", "approved_reader", "login", "pending_reader", "reader_rows", "rows", "run"]
