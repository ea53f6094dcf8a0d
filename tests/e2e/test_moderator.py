"""A moderator's flows in a real browser: sign in, approve, shortcuts, bulk reject, undo."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import support
from tests.e2e.support import Account, LiveServer, NewPage

pytestmark = support.requires_chromium


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_moderator_signs_in_and_approves_a_held_comment(
    js: bool, new_page: NewPage, live_server: LiveServer
) -> None:
    reader = new_page(js=js)
    name = support.unique("Reza")
    support.post_comment(reader, name, "Held first, then published.")

    moderator = new_page(js=js)
    moderator.goto("/auth/login")
    moderator.get_by_label("Username").fill(live_server.moderator.username)
    moderator.get_by_label("Password").fill(live_server.moderator.password)
    moderator.get_by_role("button", name="Sign in").click()
    expect(moderator).to_have_url(re.compile(r"/moderation/$"))
    tabs = moderator.get_by_role("navigation", name="Queues")
    expect(tabs.get_by_role("link", name=re.compile("^Pending"))).to_have_attribute(
        "aria-current", "page"
    )
    support.search_queue(moderator, name)
    item = support.queue_item(moderator, name)
    expect(item).to_have_count(1)
    expect(item.locator(".queue-item__why")).to_contain_text("Pre-moderation")
    expect(item).to_contain_text("Held first, then published.")
    item.get_by_role("button", name="Approve", exact=True).click()
    expect(moderator.locator(".notice--success")).to_be_visible()
    expect(support.queue_item(moderator, name)).to_have_count(0)

    reader.reload()
    published = support.own_comment(support.approved_list(reader), name)
    expect(published).to_contain_text("Held first, then published.")
    expect(published.locator(".badge--pending")).to_have_count(0)
    expect(reader.locator("#your-comments")).to_have_count(0)


def test_keyboard_shortcuts_approve_the_current_comment(new_page: NewPage, admin: Account) -> None:
    reader = new_page()
    name = support.unique("Keyboard")
    support.post_comment(reader, name, "Approved with j then a.")

    moderator = new_page(account=admin)
    support.open_queue(moderator, "pending", name)
    item = support.queue_item(moderator, name)
    expect(item).to_have_count(1)
    moderator.keyboard.press("j")
    expect(item).to_be_focused()
    expect(item).to_have_class(re.compile(r"\bqueue-item--current\b"))
    moderator.keyboard.press("a")
    expect(moderator.locator(".notice--success")).to_be_visible()
    expect(support.queue_item(moderator, name)).to_have_count(0)

    reader.reload()
    expect(support.own_comment(support.approved_list(reader), name)).to_be_visible()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_bulk_reject_two_selected_comments(js: bool, new_page: NewPage, admin: Account) -> None:
    reader = new_page(js=js)
    tag = support.unique("Bulk")
    names = [f"{tag} one", f"{tag} two", f"{tag} three"]
    for name in names:
        support.post_comment(reader, name, f"Comment from {name}.")

    moderator = new_page(js=js, account=admin)
    support.open_queue(moderator, "pending", tag)
    expect(moderator.locator("li.queue-item")).to_have_count(3)
    for name in names[:2]:
        support.queue_item(moderator, name).get_by_role("checkbox").check()
    bulk = moderator.get_by_role("form", name="Act on several comments")
    bulk.get_by_role("button", name="Reject", exact=True).click()
    expect(moderator.locator(".notice--success")).to_be_visible()
    expect(moderator.locator("li.queue-item")).to_have_count(1)
    expect(support.queue_item(moderator, names[2])).to_have_count(1)

    moderator.get_by_role("link", name=re.compile("^Rejected")).click()
    for name in names[:2]:
        expect(support.queue_item(moderator, name).locator(".badge")).to_have_text("Rejected")
    expect(support.queue_item(moderator, names[2])).to_have_count(0)


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_undo_restores_the_previous_state(js: bool, new_page: NewPage, admin: Account) -> None:
    reader = new_page(js=js)
    name = support.unique("Undo")
    support.post_comment(reader, name, "Approved by mistake.")

    moderator = new_page(js=js, account=admin)
    support.approve(moderator, name)
    reader.reload()
    expect(support.own_comment(support.approved_list(reader), name)).to_be_visible()

    moderator.get_by_role("link", name=re.compile("^Approved")).click()
    item = support.queue_item(moderator, name)
    expect(item.locator(".badge")).to_have_text("Approved")
    item.get_by_role("button", name="Undo last decision").click()
    expect(moderator.locator(".notice--success")).to_contain_text("is pending again")
    expect(support.queue_item(moderator, name)).to_have_count(0)

    moderator.get_by_role("link", name=re.compile("^Pending")).click()
    item = support.queue_item(moderator, name)
    expect(item.locator(".badge")).to_have_text("Pending")
    item.get_by_text(re.compile(r"^Decision history")).click()
    expect(item.locator(".queue-item__history li")).to_have_count(2)

    reader.reload()
    expect(support.own_comment(support.approved_list(reader), name)).to_have_count(0)
    expect(support.own_comment(reader, name).locator(".badge--pending")).to_be_visible()


# Floods go to another article than the one the reader tests read (its first page of
# threads must stay theirs).
FLOODED = "/publications/making-sense-of-iran-pakistan-cross-border-strikes"


def _post_many(page: Page, names: list[str]) -> None:
    """Comments posted with the article form's own fields, as many readers would."""
    page.goto(FLOODED)
    form = page.locator("form#comment-form, form.comment-form").first
    token = form.locator('input[name="csrf_token"]').get_attribute("value")
    for name in names:
        response = page.request.post(
            FLOODED + "/comments",
            form={"csrf_token": token or "", "name": name, "email": "", "body": f"From {name}."},
            headers={"Origin": page.url.split("/publications")[0]},
            max_redirects=0,
        )
        assert response.status == 303, response.status


def test_fifty_pending_comments_cleared_with_fifty_keystrokes(
    new_page: NewPage, admin: Account
) -> None:
    tag = support.unique("Flood")
    names = [f"{tag} {n:02d}" for n in range(50)]
    _post_many(new_page(), names)

    moderator = new_page(account=admin)
    support.open_queue(moderator, "pending", tag)
    items = moderator.locator("li.queue-item:not([hidden])")
    expect(items).to_have_count(25)  # one page; the rest arrive as rows leave
    current = moderator.locator("li.queue-item--current")
    expect(current).to_be_focused()  # the first comment is selected on opening
    started = time.monotonic()
    for n in range(50):
        selected = current.get_attribute("id")
        moderator.keyboard.press("a")
        expect(moderator.locator(f"#{selected}")).to_have_count(0)  # the row has gone
        if n < 49:  # the next one is selected
            expect(current).not_to_have_attribute("id", selected or "")
    elapsed = time.monotonic() - started
    expect(items).to_have_count(0)
    expect(moderator.locator("#queue-announce")).to_contain_text("Approved: 1 comment.")
    pending = moderator.locator('.tabs a[data-status="pending"] .count')
    expect(pending).to_have_text("0")  # this search's pending tab, updated without a reload
    assert elapsed < 60, f"50 decisions took {elapsed:.1f} s"

    moderator.reload()
    expect(moderator.locator("li.queue-item")).to_have_count(0)
    support.open_queue(moderator, "approved", tag)
    expect(moderator.locator("li.queue-item")).to_have_count(25)


def test_undo_and_a_conflict_by_keyboard(new_page: NewPage, admin: Account) -> None:
    tag = support.unique("Keys")
    names = [f"{tag} one", f"{tag} two"]
    _post_many(new_page(), names)

    moderator = new_page(account=admin)
    support.open_queue(moderator, "pending", tag)
    newest, older = support.queue_item(moderator, names[1]), support.queue_item(moderator, names[0])
    expect(newest).to_have_class(re.compile(r"\bqueue-item--current\b"))  # newest first
    moderator.keyboard.press("r")
    expect(newest).to_have_count(0)
    expect(older).to_be_focused()
    expect(moderator.locator('.tabs a[data-status="rejected"] .count')).to_have_text("1")
    moderator.keyboard.press("u")
    expect(newest).to_be_focused()
    expect(moderator.locator("#queue-notice")).to_contain_text("is pending again")
    expect(moderator.locator('.tabs a[data-status="rejected"] .count')).to_have_text("0")

    # Another moderator decides the next comment first: its row says so and stays.
    support.approve(new_page(account=admin), names[0])
    moderator.keyboard.press("j")
    expect(older).to_be_focused()
    moderator.keyboard.press("s")
    expect(older.locator(".queue-item__message")).to_contain_text("someone decided")
    expect(older).to_be_visible()

    moderator.keyboard.press("?")
    expect(moderator.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    moderator.keyboard.press("Escape")
    expect(moderator.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()
