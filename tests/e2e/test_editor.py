"""An editor's day in a real browser: write, upload a figure, preview, publish; a reader
then finds the article on the front page with its figure and related list."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable

from PIL import Image
from playwright.sync_api import Page, expect

from tests.e2e import support
from tests.e2e.support import Account, NewPage

pytestmark = support.requires_chromium


def shows_up(page: Page, url: str, seen: Callable[[], bool], seconds: float = 5) -> None:
    """Open ``url`` until ``seen()``: a change reaches every process within a second."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        if seen():
            return
        assert time.monotonic() < deadline, f"not seen at {url} within {seconds} s"
        page.wait_for_timeout(200)


def photo() -> bytes:
    image = Image.new("RGB", (1400, 900), (30, 90, 160))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def test_an_editor_writes_previews_and_publishes_and_a_reader_finds_it(
    new_page: NewPage, admin: Account
) -> None:
    title = support.unique("Talks resume in Oman")
    editor = new_page(account=admin)
    editor.goto("/desk/")
    editor.get_by_role("link", name="New publication").click()
    editor.get_by_label("Title", exact=True).fill(title)
    editor.get_by_label("Dek (the lead under the title)").fill("Negotiators meet again.")
    editor.get_by_label("Body (Markdown)").fill(
        "Iran's Supreme Leader weighed **talks** with the United States.\n\n"
        "## What is at stake\n\nSanctions relief and the nuclear program."
    )
    editor.get_by_label("Authors (one per line)").fill("Viola Gienger")
    editor.get_by_role("checkbox", name="Global Policy").check()
    editor.get_by_label(re.compile("^Figure: an image")).set_input_files(
        {"name": "talks.jpg", "mimeType": "image/jpeg", "buffer": photo()}
    )
    editor.get_by_label("Figure: alternative text").fill("Negotiators at a long table")
    editor.get_by_label("Figure: caption").fill("The talks in Muscat.")
    editor.get_by_role("button", name="Save draft").click()
    expect(editor.locator(".notice--success")).to_contain_text("Draft saved")
    expect(editor.locator(".desk-status")).to_contain_text("Draft")

    editor.get_by_role("link", name="Preview the saved version").click()
    expect(editor.locator(".preview-banner")).to_be_visible()
    expect(editor.get_by_role("heading", name=title, level=1)).to_be_visible()
    figure = editor.get_by_role("img", name="Negotiators at a long table")
    expect(figure).to_have_attribute("srcset", re.compile(r"480w.*960w"))
    assert editor.evaluate("document.querySelector('.figure__image').naturalWidth") > 0
    editor.go_back()

    reader = new_page()
    reader.goto("/")
    expect(reader.get_by_role("link", name=title)).to_have_count(0)  # a draft is hidden

    editor.get_by_role("button", name="Publish").click()
    expect(editor.locator(".notice--success")).to_contain_text("Published")
    edit_url = editor.url
    try:
        # Another server process may show its shared copy of the front page for up to
        # SHARED_PAGE_SECONDS: readers see the change within that second.
        shows_up(reader, "/", lambda: reader.get_by_role("link", name=title).count() > 0)
        reader.get_by_role("link", name=title).first.click()
        expect(reader.get_by_role("heading", name=title, level=1)).to_be_visible()
        expect(reader.get_by_role("heading", name="What is at stake")).to_be_visible()
        expect(reader.get_by_role("img", name="Negotiators at a long table")).to_be_visible()
        related = reader.locator(".related")
        expect(related).to_contain_text("Related Publications")
        expect(related.locator("article.card").first).to_be_visible()
    finally:
        # Off the site again, whatever happened, so the shared server's listings stay as
        # the other browser tests expect them.
        editor.goto(edit_url)
        editor.get_by_role("button", name="Unpublish").click()
        expect(editor.locator(".notice--success")).to_contain_text("Unpublished")
    article = reader.url
    shows_up(reader, article, lambda: reader.get_by_role("heading", name="Not found").count() > 0)
