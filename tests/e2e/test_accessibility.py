"""axe-core finds nothing; labels, error announcements, the skip link and keyboard use."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.e2e import support
from tests.e2e.pagesets import VISITS, Visit, account_for
from tests.e2e.support import Account, Discussion, NewPage

pytestmark = support.requires_chromium

AXE = Axe()
# Every WCAG 2.0/2.1/2.2 A and AA rule, plus axe's best practices (landmarks, headings...).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
}

UNLABELLED_CONTROLS = """() => Array.from(
    document.querySelectorAll("input, select, textarea, button"))
  .filter((el) => el.type !== "hidden" && !el.closest("[aria-hidden=true]"))
  .filter((el) => el.tagName === "BUTTON"
      ? !el.textContent.trim() && !el.getAttribute("aria-label")
      : el.labels.length === 0 && !el.getAttribute("aria-label")
        && !el.getAttribute("aria-labelledby"))
  .map((el) => el.outerHTML)"""

SCROLL_WIDTH = "document.documentElement.scrollWidth"


@pytest.mark.parametrize("visit", VISITS, ids=[v.name for v in VISITS])
def test_axe_finds_no_violations(
    visit: Visit, new_page: NewPage, admin: Account, discussion: Discussion
) -> None:
    page = new_page(account=account_for(visit, admin))
    visit.open(page, discussion)
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    assert page.evaluate(SCROLL_WIDTH) <= 1280, "the page scrolls sideways"


PHONE_VISITS = [v for v in VISITS if v.name in ("front", "article", "login", "queue-all")]


@pytest.mark.parametrize("visit", PHONE_VISITS, ids=[v.name for v in PHONE_VISITS])
def test_axe_at_phone_width(
    visit: Visit, new_page: NewPage, admin: Account, discussion: Discussion
) -> None:
    """Reflow: at 375 px nothing is cut off or scrolls sideways, and axe still finds nothing."""
    page = new_page(account=account_for(visit, admin), width=375, height=800)
    visit.open(page, discussion)
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    assert page.evaluate(SCROLL_WIDTH) <= 375, "the page scrolls sideways"


def test_skip_link_is_first_and_moves_focus_to_main(new_page: NewPage) -> None:
    page = new_page()
    page.goto(support.USIP)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when focused
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside main, not back in the header
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_errors_are_tied_to_fields_and_focus_moves_to_the_first(
    js: bool, new_page: NewPage
) -> None:
    page = new_page(js=js)
    page.goto(support.USIP)
    name, email, body = support.comment_fields(page)
    name.fill("Ada")
    email.fill("ada@")
    page.get_by_role("button", name="Submit comment").click()

    expect(page.get_by_role("alert").filter(has_text="Your comment was not posted")).to_be_visible()
    for field, message in (
        (email, "Please enter a valid email address, or leave it empty."),
        (body, "Please write a comment."),
    ):
        expect(field).to_have_attribute("aria-invalid", "true")
        described_by = (field.get_attribute("aria-describedby") or "").split()
        error = page.locator(f"#{field.get_attribute('id')}-error")
        expect(error).to_have_text(message)
        assert error.get_attribute("id") in described_by
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()  # the first field in error, on load (autofocus, no script)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_keyboard_only_reader_posts_a_comment(js: bool, new_page: NewPage) -> None:
    """Tab from the top of the page to the form, type, Tab to the button, Enter."""
    page = new_page(js=js)
    page.goto(support.USIP)
    name = support.unique("Keys")
    _tab_to(page, "name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Email (optional, never shown)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Comment", exact=True)).to_be_focused()
    page.keyboard.type("Typed without a mouse.")
    page.keyboard.press("Enter")
    page.keyboard.type("Second line.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Submit comment")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text(support.THANKS)).to_be_visible()
    expect(support.own_comment(page, name)).to_contain_text("Typed without a mouse.")


def _tab_to(page: Page, element_id: str, limit: int = 150) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} was not reached in {limit} Tab presses")
