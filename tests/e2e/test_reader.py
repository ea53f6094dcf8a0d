"""A reader's flows in a real browser: reading, commenting, replying, reporting, browsing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import support
from tests.e2e.support import Account, NewPage

pytestmark = support.requires_chromium

JS = pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])


@JS
def test_reader_finds_the_article_reads_it_and_comments(js: bool, new_page: NewPage) -> None:
    page = new_page(js=js)
    page.goto("/")
    card = page.get_by_role("article", name=support.USIP_TITLE)  # not "Most discussed"
    card.get_by_role("link", name=support.USIP_TITLE).click()
    expect(page).to_have_url(re.compile(re.escape(support.USIP) + "$"))
    expect(page).to_have_title(re.compile("^" + re.escape(support.USIP_TITLE)))
    expect(page.get_by_role("heading", level=1)).to_have_text(support.USIP_TITLE)
    expect(page.get_by_role("img", name=support.USIP_ALT)).to_be_visible()
    expect(page.get_by_text("By: Viola Gienger")).to_be_visible()
    expect(page.get_by_text(support.INVITATION)).to_be_visible()

    name = support.unique("Parisa")
    body = "Public diplomacy by tweet.\n\nA second paragraph, *with emphasis*."
    support.post_comment(page, name, body, email="parisa@example.org")

    mine = support.own_comment(page, name)
    expect(mine).to_be_visible()
    expect(mine.locator(".badge")).to_contain_text("Awaiting moderation")
    expect(mine.locator(".comment-body em")).to_have_text("with emphasis")
    expect(page.locator("#your-comments .own-comments__status a")).to_contain_text("/status/")
    expect(support.approved_list(page).get_by_text(name)).to_have_count(0)
    expect(page.get_by_text("parisa@example.org")).to_have_count(0)  # never shown


@JS
def test_validation_error_keeps_every_character(js: bool, new_page: NewPage) -> None:
    page = new_page(js=js)
    page.goto(support.USIP)
    name, email, body = support.comment_fields(page)
    typed_name = "Zoë 🦊 " + "n" * 90
    typed_body = (
        '\n  Leading blank line, then <script>alert("x")</script> & <b>tags</b>\r\n'
        "emoji: 🕊️👩🏽‍💻, RTL: مرحبا, combining: e\u0301\n\n"
        "    indented code\ttab   \n"
        "trailing spaces   "
    )
    name.fill(typed_name)
    kept_name = name.input_value()  # the browser stops at maxlength (80 UTF-16 units)
    assert typed_name.startswith(kept_name)
    assert len(kept_name.encode("utf-16-le")) == 2 * 80
    email.fill("parisa@@example")
    body.fill(typed_body)
    kept_body = body.input_value()  # what the textarea holds (\r\n becomes \n)
    page.get_by_role("button", name="Submit comment").click()

    expect(page.get_by_role("alert").filter(has_text="Your comment was not posted")).to_be_visible()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_have_text(
        "Please enter a valid email address, or leave it empty."
    )
    expect(email).to_be_focused()
    assert name.input_value() == kept_name
    assert email.input_value() == "parisa@@example"
    assert body.input_value() == kept_body == typed_body.replace("\r\n", "\n")
    expect(page.locator("script", has_text='alert("x")')).to_have_count(0)  # shown as text only


@JS
def test_reply_lands_nested_under_its_comment(js: bool, new_page: NewPage, admin: Account) -> None:
    reader = new_page(js=js)
    moderator = new_page(account=admin)
    first, answer = support.unique("Omid"), support.unique("Lena")
    support.post_comment(reader, first, "Twitter diplomacy is still diplomacy.")
    support.approve(moderator, first)

    reader.reload()
    support.own_comment(support.approved_list(reader), first).get_by_role(
        "link", name=f"Reply to {first}"
    ).click()
    expect(reader).to_have_url(re.compile(r"reply_to=\d+#comment-form$"))
    expect(reader.get_by_role("heading", name=f"Reply to {first}")).to_be_visible()
    support.post_comment(reader, answer, "Only if someone answers.")
    expect(support.own_comment(reader, answer)).to_contain_text(f"in reply to {first}")

    support.approve(moderator, answer)
    reader.reload()
    parent = support.own_comment(support.approved_list(reader), first)
    nested = parent.locator(".comment__replies > article.comment")
    expect(nested).to_have_count(1)
    expect(nested.locator(".comment__author")).to_have_text(answer)
    expect(nested).to_contain_text("Only if someone answers.")


def test_reader_reports_a_comment_and_moderators_see_it(new_page: NewPage, admin: Account) -> None:
    author = new_page()
    moderator = new_page(account=admin)
    name = support.unique("Troll")
    support.post_comment(author, name, "Buy followers at cheap-likes.example!")
    support.approve(moderator, name)

    reader = new_page()  # another reader, own cookies
    reader.goto(support.USIP)
    reader.get_by_role("link", name=f"Report the comment by {name}").click()
    expect(reader.get_by_role("heading", name="Report a comment")).to_be_visible()
    reader.get_by_label("Spam", exact=True).check()
    reader.get_by_role("button", name="Send report").click()
    expect(reader.get_by_text("Thank you. Moderators will review this comment.")).to_be_visible()
    expect(reader).to_have_url(re.compile(re.escape(support.USIP) + r"#comment-\d+$"))

    moderator.goto("/moderation/")
    moderator.get_by_role("link", name=re.compile("^Reported")).click()
    support.search_queue(moderator, name)
    item = support.queue_item(moderator, name)
    expect(item).to_contain_text("Reported: Spam (1)")


def test_related_publications_and_view_all(new_page: NewPage) -> None:
    page = new_page()
    page.goto(support.USIP)
    related = page.get_by_role("complementary", name="Related Publications")
    cards = related.get_by_role("article")
    expect(cards).to_have_count(4)
    first_title = cards.first.get_by_role("heading").inner_text()
    cards.first.get_by_role("link", name=first_title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first_title)

    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(support.USIP_TITLE)
    page.get_by_role("link", name="View All Publications").click()
    expect(page).to_have_url(re.compile(r"/publications/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Publications")
    expect(page.get_by_role("status")).to_have_text("5 publications")


@JS
def test_publication_filters_narrow_the_list(js: bool, new_page: NewPage) -> None:
    page = new_page(js=js)
    page.goto("/publications/")
    cards = page.locator(".cards > article.card")
    expect(cards).to_have_count(5)

    page.get_by_label("Type", exact=True).select_option(label="Article")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"\?type=article&topic=$"))
    expect(page.get_by_role("status")).to_have_text("1 publication of type “Article”")
    expect(cards).to_have_count(1)
    expect(page.get_by_label("Type", exact=True)).to_have_value("article")

    page.get_by_label("Topic", exact=True).select_option(label="Conflict Analysis & Prevention")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No publications match these filters.")).to_be_visible()

    page.get_by_role("link", name="Clear filters").click()
    expect(cards).to_have_count(5)
    page.get_by_label("Topic", exact=True).select_option(label="Violent Extremism")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("status")).to_have_text("3 publications on “Violent Extremism”")
    expect(cards).to_have_count(3)

    # A type chip on a card leads to that type's list.
    cards.first.get_by_role("link", name="Question and Answer").click()
    expect(page).to_have_url(re.compile(r"\?type=question-and-answer$"))
    expect(page.get_by_role("status")).to_have_text("2 publications of type “Question and Answer”")


def test_topic_tag_on_the_article_leads_to_the_filtered_list(new_page: NewPage) -> None:
    page = new_page()
    page.goto(support.USIP)
    topics = page.locator(".article").get_by_role("list", name="Topics")
    topics.get_by_role("link", name="Global Policy").click()
    expect(page).to_have_url(re.compile(r"/publications/\?topic=global-policy$"))
    expect(page).to_have_title(re.compile("^Publications: Global Policy"))
    expect(page.get_by_role("status")).to_have_text("5 publications on “Global Policy”")
    expect(page.get_by_label("Topic", exact=True)).to_have_value("global-policy")
    expect(page.get_by_role("link", name=support.USIP_TITLE)).to_be_visible()


@JS
def test_reader_searches_from_the_header(js: bool, new_page: NewPage) -> None:
    page = new_page(js=js)
    page.goto("/")
    search = page.get_by_role("search", name="Site")
    search.get_by_role("searchbox", name="Search publications").fill("Khamenei tweets")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=Khamenei\+tweets$"))
    results = page.get_by_role("list").filter(has=page.locator(".search-result"))
    expect(results.get_by_role("link", name=support.USIP_TITLE)).to_be_visible()
    expect(page.locator(".search-result mark").first).to_be_visible()
    results.get_by_role("link", name=support.USIP_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(support.USIP_TITLE)
