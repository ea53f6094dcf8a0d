"""End-to-end fixtures: one real server and one Chromium per session, a fresh context per page.

The server is gunicorn on a free port of 127.0.0.1 with its own seeded SQLite database
(see ``support.LiveServer``). Chromium is Debian's (``/usr/bin/chromium``), driven by
Playwright; ``playwright install`` is never needed. Without that browser every test here
is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    StorageState,
    expect,
    sync_playwright,
)

from tests.e2e import support
from tests.e2e.support import Account, Discussion, LiveServer, NewPage

TIMEOUT_MS = 10_000


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """gunicorn (2 workers) on a migrated, seeded database, with an admin and a moderator."""
    if not support.CHROMIUM.exists():
        pytest.skip(support.NO_CHROMIUM)
    server = LiveServer(
        workdir=tmp_path_factory.mktemp("e2e"),
        admin=Account("mod", secrets.token_urlsafe(12)),
        moderator=Account("moderator", secrets.token_urlsafe(12)),
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not support.CHROMIUM.exists():
        pytest.skip(support.NO_CHROMIUM)
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, launched once."""
    browser = playwright.chromium.launch(
        executable_path=str(support.CHROMIUM), args=support.CHROMIUM_ARGS
    )
    try:
        yield browser
    finally:
        browser.close()


@dataclass
class Browsing:
    """Fresh contexts (own cookies) on the live server; remembers CSP errors and crashes."""

    browser: Browser
    server: LiveServer
    states: dict[str, StorageState]

    def __post_init__(self) -> None:
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    def context(
        self,
        *,
        js: bool = True,
        account: Account | None = None,
        width: int = 1280,
        height: int = 900,
    ) -> BrowserContext:
        options: dict[str, Any] = {
            "base_url": self.server.url,
            "java_script_enabled": js,
            "viewport": {"width": width, "height": height},
            "reduced_motion": "reduce",
        }
        if account is not None:
            options["storage_state"] = self.signed_in(account)
        context = self.browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        return context

    def page(
        self,
        *,
        js: bool = True,
        account: Account | None = None,
        width: int = 1280,
        height: int = 900,
    ) -> Page:
        page = self.context(js=js, account=account, width=width, height=height).new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def signed_in(self, account: Account) -> StorageState:
        """Cookies of a session signed in through the login form (once per account)."""
        if account.username not in self.states:
            context = self.browser.new_context(base_url=self.server.url)
            context.set_default_timeout(TIMEOUT_MS)
            try:
                support.sign_in(context.new_page(), account)
                self.states[account.username] = context.storage_state()
            finally:
                context.close()
        return self.states[account.username]

    def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Error):  # already closed by the test
                context.close()
        self.contexts.clear()


@pytest.fixture(scope="session")
def signed_in_states() -> dict[str, StorageState]:
    return {}


@pytest.fixture
def browsing(
    browser: Browser, live_server: LiveServer, signed_in_states: dict[str, StorageState]
) -> Iterator[Browsing]:
    """Open pages with ``browsing.page(js=..., account=...)``; all are closed afterwards."""
    browsing = Browsing(browser, live_server, signed_in_states)
    yield browsing
    browsing.close()
    assert not browsing.problems, "\n".join(browsing.problems)


@pytest.fixture
def new_page(browsing: Browsing) -> NewPage:
    return browsing.page


@pytest.fixture
def admin(live_server: LiveServer) -> Account:
    return live_server.admin


@pytest.fixture(scope="session")
def discussion(
    browser: Browser, live_server: LiveServer, signed_in_states: dict[str, StorageState]
) -> Iterator[Discussion]:
    """An approved comment with an approved reply, and one comment left pending."""
    browsing = Browsing(browser, live_server, signed_in_states)
    made = Discussion(
        first=support.unique("Maryam"),
        reply=support.unique("Daniel"),
        pending=support.unique("Sam"),
    )
    try:
        reader = browsing.page()
        moderator = browsing.page(account=live_server.admin)
        support.post_comment(
            reader,
            made.first,
            "The move to Twitter is the story here: a supreme leader answering a diplomatic "
            "overture in public, in 30 posts, leaves *very* little room for quiet talks.",
        )
        support.approve(moderator, made.first)
        reader.goto(support.USIP)
        support.own_comment(reader, made.first).get_by_role("link", name="Reply").click()
        support.post_comment(
            reader, made.reply, "Public refusals have preceded private contacts before."
        )
        support.approve(moderator, made.reply)
        support.post_comment(reader, made.pending, "Waiting for a moderator to read this.")
        status_link = reader.locator("#your-comments .own-comments__status a")
        expect(status_link).to_have_count(1)
        yield replace(made, status_url=status_link.get_attribute("href") or "")
    finally:
        browsing.close()
