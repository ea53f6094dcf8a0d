"""The live server, the browser settings and what a reader or moderator does, step by step.

Everything here works through the pages, as a person would: posting is the comment form,
approving is the moderator's "Approve" button.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium; .ci/run does)"
requires_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)

USIP_SLUG = "khamenei-rejects-us-talks-on-twitter"
USIP = f"/publications/{USIP_SLUG}"
USIP_TITLE = "Khamenei Rejects U.S. Talks on Twitter"
USIP_ALT = "Grand Ayatollah Ali Khamenei"
INVITATION = "Tell us what you think by submitting a comment below."
THANKS = "Thank you. Your comment awaits moderation; only you can see it until it is approved."


@dataclass(frozen=True)
class Discussion:
    """Comments on the USIP article made once per session: what a populated page shows."""

    first: str
    reply: str
    pending: str
    status_url: str = ""


class NewPage(Protocol):
    def __call__(
        self,
        *,
        js: bool = True,
        account: Account | None = None,
        width: int = 1280,
        height: int = 900,
    ) -> Page: ...


@dataclass(frozen=True)
class Account:
    username: str
    password: str


@dataclass
class LiveServer:
    """gunicorn serving a fresh, seeded SQLite database on a free port of 127.0.0.1."""

    workdir: Path
    admin: Account
    moderator: Account
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    port: int = 0
    # Another origin on 127.0.0.1 allowed to embed the comments (tests/e2e/test_embed.py).
    embed_port: int = field(default_factory=lambda: free_port())
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def embed_origin(self) -> str:
        return f"http://127.0.0.1:{self.embed_port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.workdir / 'e2e.sqlite3'}",
            "FLASK_SECRET_KEY": self.secret_key,
            "FLASK_SECURE_COOKIES": "false",
            "FLASK_RATELIMIT_ENABLED": "false",
            "FLASK_COMMENT_POLL_SECONDS": "2",  # open pages ask for new comments quickly
            "FLASK_MEDIA_ROOT": str(self.workdir / "media"),
            "FLASK_EMBED_ORIGINS": json.dumps([self.embed_origin, self.url]),
            "FLASK_EMBED_CREATE_PUBLICATIONS": "true",
            **({"FLASK_SITE_URL": self.url} if self.port else {}),
        }

    def flask(self, *args: str) -> None:
        """One ``flask --app discussion`` command against the server's database."""
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "discussion", *args],
            env=self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"flask {args[0]} failed:\n{result.stdout}{result.stderr}"

    def start(self) -> None:
        self.flask("db", "upgrade")
        self.flask("seed")
        for account, role in ((self.admin, "admin"), (self.moderator, "moderator")):
            self.flask(
                "create-moderator",
                account.username,
                "--password",
                account.password,
                "--role",
                role,
            )
        self.port = free_port()
        self.log = (self.workdir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",  # with the repository's gunicorn.conf.py, as in production
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
            ],
            env=self.env(),
            cwd=ROOT,
            start_new_session=True,  # its own process group: stop() ends master and workers
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_ready()

    def _wait_until_ready(self, seconds: float = 30) -> None:
        assert self.process is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.1)  # polling a starting process, not waiting on a page
        self.stop()
        log = (self.workdir / "server.log").read_text(errors="replace")
        raise RuntimeError(f"the live server did not answer on {self.url}:\n{log}")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait(5)
            self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def unique(prefix: str) -> str:
    """A name no other test uses, so each test finds its own comments in shared data."""
    return f"{prefix} {secrets.token_hex(3)}"


# --- a reader ---------------------------------------------------------------------------


def comment_fields(page: Page) -> tuple[Locator, Locator, Locator]:
    """The comment form's Name, Email and Comment fields, found by their labels."""
    return (
        page.get_by_label("Name", exact=True),
        page.get_by_label("Email (optional, never shown)", exact=True),
        page.get_by_label("Comment", exact=True),
    )


def post_comment(page: Page, name: str, body: str, email: str = "", slug: str = USIP) -> None:
    """Fill the article's form (opening the article unless it is open), submit, see the notice."""
    if urlsplit(page.url).path != slug:
        page.goto(slug)
    name_field, email_field, body_field = comment_fields(page)
    name_field.fill(name)
    email_field.fill(email)
    body_field.fill(body)
    page.get_by_role("button", name="Submit comment").click()
    expect(page.get_by_text(THANKS)).to_be_visible()


def own_comment(scope: Page | Locator, name: str) -> Locator:
    """The comment by ``name`` (matched on its own header, not its replies') within scope."""
    page = scope if isinstance(scope, Page) else scope.page
    author = page.locator(
        ":scope > header .comment__author", has_text=re.compile(f"^{re.escape(name)}$")
    )
    return scope.locator("article.comment").filter(has=author)


def approved_list(page: Page) -> Locator:
    return page.locator(".comment-list")


# --- a moderator ------------------------------------------------------------------------


def sign_in(page: Page, account: Account) -> None:
    """The login form at /auth/login; lands on the moderation queue."""
    page.goto("/auth/login")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Moderation", level=1)).to_be_visible()


def open_queue(page: Page, status: str = "pending", search: str = "") -> None:
    """A queue tab, narrowed to one test's comments by the search field."""
    page.goto("/moderation/?" + urlencode({"status": status, "q": search}))
    expect(page.get_by_role("heading", name="Moderation", level=1)).to_be_visible()


def search_queue(page: Page, text: str) -> None:
    """Type into the queue's search box and apply, as a moderator would."""
    page.get_by_label("Search text, name or email").fill(text)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_label("Search text, name or email")).to_have_value(text)


def queue_item(page: Page, name: str) -> Locator:
    """The queue entry of the comment by ``name``."""
    return page.locator("li.queue-item").filter(
        has=page.locator(".queue-item__title label", has_text=re.compile(f" by {re.escape(name)}$"))
    )


def decide(page: Page, name: str, action: str = "Approve") -> None:
    """Press one of a queue entry's buttons and see the confirmation."""
    queue_item(page, name).get_by_role("button", name=action, exact=True).click()
    expect(page.locator(".notice--success")).to_be_visible()


def approve(page: Page, name: str) -> None:
    """A signed-in moderator finds the pending comment by ``name`` and approves it."""
    open_queue(page, "pending", name)
    decide(page, name, "Approve")
    expect(queue_item(page, name)).to_have_count(0)
