"""Screenshots for people to look at: artifacts/screenshots/ (git-ignored) and the README's one.

``docs/screenshot-article.png`` is the top of the USIP article at 1280x1600 (no comments in
view, nothing that changes between runs): a run rewrites it with the same bytes unless the
page's look has changed, so the README's picture follows the templates and CSS.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import support
from tests.e2e.support import Account, Discussion, NewPage

pytestmark = support.requires_chromium

SHOTS = support.ROOT / "artifacts" / "screenshots"
DOCS_SHOT = support.ROOT / "docs" / "screenshot-article.png"
DOCS_SHOT_LIMIT = 400 * 1024


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def _article(page: Page, discussion: Discussion) -> None:
    page.goto(support.USIP)
    expect(support.own_comment(page, discussion.first)).to_be_visible()
    expect(page.get_by_role("img", name=support.USIP_ALT)).to_be_visible()


@pytest.mark.parametrize("width", [375, 1280])
def test_article_screenshot(width: int, new_page: NewPage, discussion: Discussion) -> None:
    page = new_page(width=width, height=800)
    _article(page, discussion)
    path = SHOTS / f"article-{width}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    shot_width, shot_height = _png_size(path)
    assert shot_width == width
    assert shot_height > 800  # the whole page, not just the viewport


def test_moderation_queue_screenshot(
    new_page: NewPage, admin: Account, discussion: Discussion
) -> None:
    page = new_page(account=admin, width=1280, height=900)
    support.open_queue(page, "all")
    expect(page.locator("li.queue-item").first).to_be_visible()
    path = SHOTS / "moderation-queue-1280.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=True)
    assert _png_size(path)[0] == 1280


def test_readme_screenshot(new_page: NewPage, discussion: Discussion) -> None:
    page = new_page(width=1280, height=1600)
    _article(page, discussion)
    DOCS_SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=DOCS_SHOT)
    assert _png_size(DOCS_SHOT) == (1280, 1600)
    assert DOCS_SHOT.stat().st_size < DOCS_SHOT_LIMIT
