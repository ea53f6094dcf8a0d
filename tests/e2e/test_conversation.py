"""The conversation in a real browser: editing one's comment, preview, editors' picks,
comment links, and new comments appearing without a reload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, expect

from tests.e2e import support
from tests.e2e.support import Account, Discussion, NewPage

pytestmark = support.requires_chromium


def comment_id(comment: Locator) -> str:
    return (comment.get_attribute("id") or "").removeprefix("comment-")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_reader_edits_their_comment_and_readers_see_it_marked_edited(
    js: bool, new_page: NewPage, admin: Account
) -> None:
    reader = new_page(js=js)
    name = support.unique("Editor")
    support.post_comment(reader, name, "Teh typo stays until fixed.")
    moderator = new_page(js=js, account=admin)
    support.approve(moderator, name)

    reader.reload()
    mine = support.own_comment(support.approved_list(reader), name)
    mine.get_by_role("link", name="Edit or delete").click()
    expect(reader.get_by_role("heading", name="Edit your comment")).to_be_visible()
    box = reader.get_by_label("Comment", exact=True)
    expect(box).to_have_value("Teh typo stays until fixed.")
    box.fill("The typo is *fixed*.")
    reader.get_by_role("button", name="Save changes").click()
    # Pre-moderation is on: the edited text waits for a moderator, seen by its poster.
    expect(reader.get_by_text("Your edit is saved and awaits moderation")).to_be_visible()
    expect(support.own_comment(reader.locator("#your-comments"), name)).to_contain_text(
        "The typo is fixed."
    )

    support.approve(moderator, name)
    other = new_page(js=js)
    other.goto(support.USIP)
    shown = support.own_comment(support.approved_list(other), name)
    expect(shown.locator(".comment-body em")).to_have_text("fixed")
    expect(shown.locator(".comment__edited")).to_have_text("edited")
    expect(shown.get_by_role("link", name="Edit or delete")).to_have_count(0)

    moderator.goto("/moderation/?status=approved&q=" + name.replace(" ", "+"))
    support.queue_item(moderator, name).get_by_role("link", name="earlier texts").click()
    expect(moderator.locator(".edit-history")).to_contain_text("Teh typo stays until fixed.")


def test_another_browser_is_refused_and_keeps_its_text(new_page: NewPage) -> None:
    reader = new_page()
    name = support.unique("Owner")
    support.post_comment(reader, name, "Only I may change this.")
    edit_url = (
        support.own_comment(reader.locator("#your-comments"), name)
        .get_by_role("link", name="Edit or delete")
        .get_attribute("href")
    )
    assert edit_url
    stranger = new_page()
    response = stranger.goto(edit_url)
    assert response is not None and response.status == 403
    expect(stranger.get_by_role("alert")).to_contain_text("only be changed from the browser")
    expect(stranger.get_by_label("Your text (not saved)")).to_have_value("Only I may change this.")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_preview_shows_the_published_form_and_keeps_the_text(js: bool, new_page: NewPage) -> None:
    reader = new_page(js=js)
    reader.goto(support.USIP)
    name_field, _email, body = support.comment_fields(reader)
    name = support.unique("Previewer")
    name_field.fill(name)
    body.fill("A **bold** claim, and a [link](https://example.org).")
    reader.get_by_role("button", name="Preview").click()
    preview = reader.locator("#comment-preview")
    expect(preview.locator("strong")).to_have_text("bold")
    expect(preview.get_by_role("link", name="link")).to_have_attribute(
        "href", "https://example.org"
    )
    _n, _e, body = support.comment_fields(reader)
    expect(body).to_have_value("A **bold** claim, and a [link](https://example.org).")
    expect(support.comment_fields(reader)[0]).to_have_value(name)
    expect(reader.get_by_text(support.THANKS)).to_have_count(0)
    reader.get_by_role("button", name="Submit comment").click()
    expect(reader.get_by_text(support.THANKS)).to_be_visible()


def test_the_draft_survives_a_reload_and_the_counter_counts(new_page: NewPage) -> None:
    reader = new_page()
    reader.goto(support.USIP)
    _n, _e, body = support.comment_fields(reader)
    body.fill("Half a thought")
    expect(reader.locator(".field__counter")).to_contain_text("4986 of 5000 characters left")
    reader.wait_for_timeout(500)  # the draft is kept a moment after typing stops
    reader.reload()
    expect(support.comment_fields(reader)[2]).to_have_value("Half a thought")


def test_moderators_pick_a_comment_and_readers_find_it_in_the_picks_tab(
    new_page: NewPage, admin: Account, discussion: Discussion
) -> None:
    moderator = new_page(account=admin)
    moderator.goto(support.USIP)
    first = support.own_comment(support.approved_list(moderator), discussion.first)
    first.locator(":scope > .comment__actions").get_by_role(
        "button", name="Feature as a pick"
    ).click()
    expect(moderator.locator(".notice--success")).to_contain_text("editors' pick")
    try:
        reader = new_page()
        reader.goto(support.USIP)
        shown = support.own_comment(support.approved_list(reader), discussion.first)
        expect(shown.locator(".badge--pick")).to_have_text("Editors\u2019 pick")
        reader.get_by_role("link", name=re.compile("^Editors\u2019 picks \\(\\d+\\)")).click()
        expect(reader.locator(".comment-list--picks")).to_contain_text(discussion.first)
    finally:
        moderator.goto(support.USIP)
        first = support.own_comment(support.approved_list(moderator), discussion.first)
        first.locator(":scope > .comment__actions").get_by_role(
            "button", name="Remove from picks"
        ).click()
        expect(moderator.locator(".notice--success")).to_contain_text("no longer")


def test_a_comment_link_opens_the_comment_highlighted_and_focused(
    new_page: NewPage, discussion: Discussion
) -> None:
    reader = new_page()
    reader.goto(support.USIP)
    reply = support.own_comment(support.approved_list(reader), discussion.reply)
    number = comment_id(reply)
    reader.goto(f"{support.USIP}/comments/{number}")
    expect(reader).to_have_url(re.compile(rf"#comment-{number}$"))
    target = reader.locator(f"#comment-{number}")
    expect(target).to_be_focused()
    outline = target.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"


def test_new_comments_appear_without_a_reload_and_keep_the_reading_place(
    new_page: NewPage, admin: Account, discussion: Discussion
) -> None:
    watcher = new_page(height=500)
    watcher.goto(support.USIP)
    reading = support.own_comment(support.approved_list(watcher), discussion.reply)
    reading.scroll_into_view_if_needed()
    top_before = reading.evaluate("e => e.getBoundingClientRect().top")
    still = new_page(js=False)
    still.goto(support.USIP)

    writer = new_page()
    name = support.unique("Latest")
    support.post_comment(writer, name, "Posted while others read.")
    support.approve(new_page(account=admin), name)

    button = watcher.get_by_role("button", name=re.compile(r"^\d+ new comments? — show$"))
    expect(button).to_be_visible(timeout=15_000)
    url_before = watcher.url
    button.click()
    expect(support.own_comment(support.approved_list(watcher), name)).to_be_visible()
    assert watcher.url == url_before  # no reload, no navigation
    top_after = support.own_comment(support.approved_list(watcher), discussion.reply).evaluate(
        "e => e.getBoundingClientRect().top"
    )
    assert abs(top_after - top_before) <= 2
    expect(button).to_have_count(0)

    # Without JavaScript nothing moves on its own.
    expect(still.locator(".thread-live")).to_be_hidden()
    expect(support.own_comment(support.approved_list(still), name)).to_have_count(0)
