"""The pages checked by axe and by the Nu HTML Checker, each opened as a person reaches it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Page, Response, expect

from tests.e2e import support
from tests.e2e.support import Account, Discussion


@dataclass(frozen=True)
class Visit:
    """How to reach one page; returns the response that carried its HTML."""

    name: str
    signed_in: bool
    open: Callable[[Page, Discussion], Response]


def _goto(path: str, status: int = 200) -> Callable[[Page, Discussion], Response]:
    def open_page(page: Page, _discussion: Discussion) -> Response:
        response = page.goto(path)
        assert response is not None
        assert response.status == status, f"{path}: {response.status}"
        return response

    return open_page


def _bad_comment(page: Page, _discussion: Discussion) -> Response:
    """The article after a submit with errors: a 400 page holding the reader's text."""
    page.goto(support.USIP)
    name, email, body = support.comment_fields(page)
    name.fill("N" * 81)
    email.fill("not an address")
    body.fill("Kept <b>exactly</b>\nas typed.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Submit comment").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    response = posted.value
    assert response.status == 400
    return response


def _bad_login(page: Page, _discussion: Discussion) -> Response:
    """The login page after an empty submit: errors tied to the fields, focus on the first."""
    page.goto("/auth/login")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Username")).to_be_focused()
    expect(page.get_by_label("Username")).to_have_accessible_description(
        "Please enter your username."
    )
    return posted.value


def _bad_publication(page: Page, _discussion: Discussion) -> Response:
    """The desk's form after a submit without a title: a 400 page holding the text."""
    page.goto("/desk/publications/new")
    page.get_by_label("Body (Markdown)").fill("Kept as typed.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    response = posted.value
    assert response.status == 400
    return response


def _revision(page: Page, _discussion: Discussion) -> Response:
    """A revision compared with the current text, after saving a publication unchanged."""
    page.goto("/desk/publications/1/edit")
    page.get_by_role("button", name="Update").click()
    expect(page.locator(".notice--success")).to_be_visible()
    with page.expect_response(lambda r: "/revisions/" in r.url) as opened:
        page.locator(".desk-revisions a").first.click()
    return opened.value


def _preview(page: Page, _discussion: Discussion) -> Response:
    """The article showing a comment's preview, the form still filled."""
    page.goto(support.USIP)
    name, _email, body = support.comment_fields(page)
    name.fill("Previewer")
    body.fill("A **previewed** comment.")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Preview").click()
    expect(page.locator("#comment-preview")).to_be_visible()
    return posted.value


def _own_edit(page: Page, _discussion: Discussion) -> Response:
    """A poster's edit page, opened from their comment awaiting moderation."""
    support.post_comment(page, support.unique("Checked"), "To be edited.")
    with page.expect_response(lambda r: r.url.endswith("/edit")) as opened:
        page.locator("#your-comments").get_by_role("link", name="Edit or delete").first.click()
    return opened.value


def _edit_history(page: Page, _discussion: Discussion) -> Response:
    """A moderator's view of an edited comment's earlier texts (staff post as themselves,
    published at once, and edit like any poster)."""
    page.goto(support.USIP)
    _name, _email, body = support.comment_fields(page)
    body.fill("From the newsroom, first wording.")
    page.get_by_role("button", name="Submit comment").click()
    expect(page.locator(".notice--success")).to_be_visible()
    own = page.locator(".comment-list .comment__own a").last
    own.click()
    page.get_by_label("Comment", exact=True).fill("From the newsroom, second wording.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".notice--success")).to_be_visible()
    number = page.url.rsplit("#comment-", 1)[1]
    response = page.goto(f"/moderation/comments/{number}/edits")
    assert response is not None and response.status == 200
    return response


def _report_form(page: Page, _discussion: Discussion) -> Response:
    page.goto(support.USIP)
    with page.expect_response(lambda r: "/report" in r.url) as opened:
        page.locator(".comment-list .comment__report").first.click()
    return opened.value


def _status(page: Page, discussion: Discussion) -> Response:
    """The poster's private link to a held comment."""
    response = page.goto(discussion.status_url)
    assert response is not None
    assert response.status == 200
    return response


def _mail_settings(page: Page, _discussion: Discussion) -> Response:
    """A person's mail settings, reached from the accounts screen."""
    page.goto("/moderation/accounts")
    with page.expect_response(lambda r: r.url.endswith("/mail")) as opened:
        page.get_by_role("link", name="Change mail settings of mod", exact=True).click()
    return opened.value


def _personal_data(page: Page, _discussion: Discussion) -> Response:
    """An admin finds a reader's comments (the erase form shows with them)."""
    page.goto("/robots.txt")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    reader = page.context.browser.new_context(base_url=origin)  # not signed in, as readers
    try:
        support.post_comment(
            reader.new_page(), "Data Reader", "A comment to find again.", "data@example.org"
        )
    finally:
        reader.close()
    page.goto("/moderation/personal-data")
    page.get_by_label("Email address").fill("data@example.org")
    with page.expect_response(lambda r: r.url.endswith("/personal-data")) as found:
        page.get_by_role("button", name="Find comments").click()
    expect(page.get_by_role("button", name="Erase")).to_be_visible()
    return found.value


def _embedded(page: Page, discussion: Discussion) -> Response:
    """The thread other sites frame, opened on its own: the USIP article's, found by the
    article's own address (the site's origin is one of the live server's EMBED_ORIGINS)."""
    page.goto("/robots.txt")
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
    address = urlencode({"url": origin + support.USIP})
    return _goto(f"/embed/thread?{address}")(page, discussion)


def _new_token(page: Page, _discussion: Discussion) -> Response:
    """A person's API tokens right after making one: the secret shown once."""
    page.goto("/moderation/accounts")
    page.get_by_role("link", name="Manage API tokens of mod", exact=True).click()
    page.get_by_label("What will use it").fill("Newsletter desk")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Make token").click()
    expect(page.get_by_label("The token")).to_be_visible()
    return posted.value


def _author_panel(page: Page, _discussion: Discussion) -> Response:
    """The author panel, from a comment's row of the queue."""
    page.goto("/moderation/?status=all")
    with page.expect_response(lambda r: r.url.endswith("/author")) as opened:
        page.get_by_role("link", name="Every comment, sanction and note").first.click()
    return opened.value


def _rules_preview(page: Page, _discussion: Discussion) -> Response:
    """The rules page after previewing a change on the last 30 days' comments."""
    page.goto("/moderation/rules")
    page.get_by_label("Suspect words (hold for review; one per line)").fill("talks")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Preview on the last 30 days").click()
    expect(page.get_by_role("heading", name=re.compile("would have done"))).to_be_visible()
    return posted.value


VISITS = [
    Visit("front", False, _goto("/")),
    Visit("publications", False, _goto("/publications/")),
    Visit(
        "publications-filtered", False, _goto("/publications/?type=analysis&topic=global-policy")
    ),
    Visit("article", False, _goto(support.USIP)),
    Visit("search", False, _goto("/search?q=iran&sort=newest")),
    Visit("search-empty", False, _goto("/search")),
    Visit("search-nothing", False, _goto('/search?q="no+such"+words&type=analysis')),
    Visit("topic", False, _goto("/topics/global-policy")),
    Visit("article-form-errors", False, _bad_comment),
    Visit("article-preview", False, _preview),
    Visit("article-picks", False, _goto(support.USIP + "?tab=picks")),
    Visit("comment-edit", False, _own_edit),
    Visit("comment-edits", True, _edit_history),
    Visit("report", False, _report_form),
    Visit("status", False, _status),
    Visit("login", False, _goto("/auth/login")),
    Visit("login-errors", False, _bad_login),
    Visit("queue", True, _goto("/moderation/")),
    Visit("queue-all", True, _goto("/moderation/?status=all")),
    Visit("rules", True, _goto("/moderation/rules")),
    Visit("rules-preview", True, _rules_preview),
    Visit("queue-health", True, _goto("/moderation/health")),
    Visit("topic-rules", True, _goto("/moderation/topics")),
    Visit("author-panel", True, _author_panel),
    Visit("switches", True, _goto("/moderation/publications")),
    Visit("accounts", True, _goto("/moderation/accounts")),
    Visit("desk", True, _goto("/desk/")),
    Visit("desk-new", True, _goto("/desk/publications/new")),
    Visit("desk-edit", True, _goto("/desk/publications/1/edit")),
    Visit("desk-errors", True, _bad_publication),
    Visit("desk-revision", True, _revision),
    Visit("media-library", True, _goto("/desk/media")),
    Visit("desk-labels", True, _goto("/desk/labels")),
    Visit("desk-authors", True, _goto("/desk/authors")),
    Visit("desk-author", True, _goto("/desk/authors/1")),
    Visit("mail-settings", True, _mail_settings),
    Visit("mail-outbox", True, _goto("/moderation/mail")),
    Visit("personal-data", True, _goto("/moderation/personal-data")),
    Visit("personal-data-found", True, _personal_data),
    Visit("api-tokens", True, _new_token),
    Visit("api-reference", False, _goto("/api/v1/reference")),
    Visit("embed-thread", False, _embedded),
    Visit("not-found", False, _goto("/publications/no-such-publication", 404)),
]


def account_for(visit: Visit, admin: Account) -> Account | None:
    return admin if visit.signed_in else None
