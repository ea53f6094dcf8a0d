"""A reader asks for mail on the comment form (with and without JavaScript) and follows
the confirmation link from the mail the worker wrote, as a person would."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import support
from tests.e2e.support import USIP, LiveServer, NewPage
from tests.e2e.test_accessibility import AXE, AXE_OPTIONS


def run_worker(server: LiveServer, mail_dir: Path) -> None:
    """``flask --app discussion worker --once`` on the live server's database, writing
    mails as .eml files (no mail server), links from the server's address."""
    env = {
        **server.env(),
        "FLASK_SITE_URL": server.url,
        "FLASK_MAIL_FILE_PATH": str(mail_dir),
    }
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "discussion", "worker", "--once"],
        env=env,
        cwd=support.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def mails_to(mail_dir: Path, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(mail_dir.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_reader_asks_for_mail_and_confirms_from_the_link(
    new_page: NewPage, live_server: LiveServer, tmp_path: Path, js: bool
) -> None:
    page = new_page(js=js)
    name = support.unique("Mailed")
    address = f"{name.replace(' ', '-').lower()}@example.org"
    page.goto(USIP)
    published = page.get_by_label("Email me when my comment is published")
    expect(published).to_be_hidden()  # until an email is typed
    name_field, email_field, body_field = support.comment_fields(page)
    name_field.fill(name)
    email_field.fill(address)
    expect(published).to_be_visible()
    published.check()
    body_field.fill("Please tell me when this is published.")
    page.get_by_role("button", name="Submit comment").click()
    expect(page.get_by_text(support.THANKS)).to_be_visible()

    run_worker(live_server, tmp_path)
    [confirmation] = mails_to(tmp_path, address)
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    match = re.search(re.escape(live_server.url) + r"/mail/confirm/\S+", text)
    assert match, text

    page.goto(match.group(0))
    expect(page.get_by_role("heading", name="Confirm your address")).to_be_visible()
    if js:  # axe runs in the page
        assert AXE.run(page, options=AXE_OPTIONS).violations_count == 0
    page.get_by_role("button", name="Confirm my address").click()
    expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()
    if js:
        assert AXE.run(page, options=AXE_OPTIONS).violations_count == 0
