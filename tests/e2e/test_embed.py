"""The comments embedded on a page of another origin (127.0.0.1, another port) under a
strict CSP of its own: the thread shows in its frame untouched by the page's styles, a
reader posts and replies there, and sees their comment once a moderator approves it;
the count embed counts it.

The page names a seeded article's own address as its canonical URL (making a new
publication for a new page is tested in tests/test_embed.py: here it would add a card
to the listings other browser tests count)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.e2e import support
from tests.e2e.support import Account, LiveServer, NewPage

pytestmark = support.requires_chromium

HOST_CSS = "* { color: rgb(255, 0, 0) !important; font-family: serif !important; }"


STORY_SLUG = "iran-rejects-us-bid-to-coordinate-against-isis"


def host_page(server: LiveServer) -> bytes:
    story = f"{server.url}/publications/{STORY_SLUG}"
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>A story on the publisher's other site</title>
<link rel="stylesheet" href="/host.css"></head>
<body><main>
<h1>A story on the publisher's other site</h1>
<p><a href="#discussion" data-discussion-count data-url="{story}">Comments</a></p>
<div id="discussion" data-url="{story}" data-accent="#0a5c36" data-font="serif"></div>
</main>
<script src="{server.url}/embed.js" async></script>
</body></html>""".encode()


@pytest.fixture
def other_site(live_server: LiveServer) -> Iterator[str]:
    """The publisher's other site: a static page, its own strict CSP naming the comments
    host for the script, the frame and the count request."""
    page, app = host_page(live_server), live_server.url
    policy = (
        f"default-src 'none'; script-src {app}; frame-src {app}; connect-src {app}; "
        "style-src 'self'; base-uri 'none'; form-action 'none'"
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = (
                (HOST_CSS.encode(), "text/css")
                if self.path == "/host.css"
                else (
                    page,
                    "text/html; charset=utf-8",
                )
            )
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", live_server.embed_port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{live_server.embed_origin}/story"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def comments(page: Page) -> FrameLocator:
    return page.frame_locator("#discussion iframe[title='Comments']")


def post_in_frame(frame: FrameLocator, name: str, body: str) -> None:
    frame.get_by_label("Name", exact=True).fill(name)
    frame.get_by_label("Comment", exact=True).fill(body)
    frame.get_by_role("button", name="Submit comment").click()
    expect(frame.get_by_text(support.THANKS)).to_be_visible()


def test_a_reader_on_another_site_comments_and_sees_it_once_approved(
    new_page: NewPage, other_site: str, admin: Account
) -> None:
    reader = new_page()
    reader.goto(other_site)
    frame = comments(reader)
    expect(frame.get_by_role("heading", name="Comments", level=1)).to_be_visible()
    count = reader.locator("[data-discussion-count]")
    expect(count).to_have_text(re.compile(r"^\d+ comments?$"))
    counted_before = int(count.inner_text().split()[0])
    name = support.unique("Farah")
    post_in_frame(frame, name, "Posted from the publisher's other site.")
    mine = frame.locator("#your-comments article.comment")
    expect(mine).to_contain_text("Posted from the publisher's other site.")
    expect(mine.locator(".badge")).to_contain_text("Awaiting moderation")
    author = frame.locator("#your-comments .comment__author")
    color = author.evaluate("el => getComputedStyle(el).color")
    assert color != "rgb(255, 0, 0)", "the host page's styles reached the frame"

    moderator = new_page(account=admin)
    support.approve(moderator, name)

    approved = comments(reader).locator(".comment-list .comment__author", has_text=name)
    for _attempt in range(10):  # other server processes serve their copy for a second
        reader.reload()
        if approved.count():
            break
        reader.wait_for_timeout(300)
    expect(approved).to_have_count(1)
    count = reader.locator("[data-discussion-count]")
    expect(count).to_have_text(re.compile(r"^\d+ comments?$"))
    assert int(count.inner_text().split()[0]) == counted_before + 1

    frame = comments(reader)
    reply = frame.get_by_role("link", name=f"Reply to {name}")
    assert reply.evaluate("el => getComputedStyle(el).color") == "rgb(10, 92, 54)"  # data-accent
    reply.click()
    expect(frame.get_by_role("heading", name=f"Reply to {name}")).to_be_visible()
    post_in_frame(frame, support.unique("Omid"), "A reply, from the other site too.")
    expect(frame.locator("#your-comments")).to_contain_text("in reply to " + name)


def test_a_page_of_an_origin_not_allowed_gets_no_thread(new_page: NewPage) -> None:
    page = new_page()
    response = page.goto("/embed/thread?url=https%3A%2F%2Fnot-allowed.example%2Fstory")
    assert response is not None and response.status == 404
