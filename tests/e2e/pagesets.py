"""The pages checked by axe and by the Nu HTML Checker, each opened as a person reaches it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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
    Visit("article-form-errors", False, _bad_comment),
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
    Visit("not-found", False, _goto("/publications/no-such-publication", 404)),
]


def account_for(visit: Visit, admin: Account) -> Account | None:
    return admin if visit.signed_in else None
