"""A real SMTP server for the mail tests (aiosmtpd on a free port of 127.0.0.1), and the
fixture that points the app at it."""

from __future__ import annotations

import email
import email.policy
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from discussion.extensions import mailman

SITE_URL = "https://news.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Handler:
    """Keeps every accepted message with its envelope; answers ``refuse[address]``
    (e.g. "550 5.1.1 No such user") to the RCPT of a refused address."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append((list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


class SmtpSink:
    """The server, which a test may stop and start again on the same port."""

    def __init__(self) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [message for _, message in self.handler.received]

    def to(self, address: str) -> list[EmailMessage]:
        """Messages whose envelope went to ``address``."""
        return [m for rcpt, m in self.handler.received if address in rcpt]

    def clear(self) -> None:
        self.handler.received.clear()


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return part.get_content()


def link(message: EmailMessage, path: str) -> str:
    """The first link in the text part whose path starts with ``path``."""
    match = re.search(re.escape(SITE_URL + path) + r"\S*", text_of(message))
    assert match, f"no {path} link in:\n{text_of(message)}"
    return match.group(0)


def use_server(app: Flask, port: int) -> None:
    """Send the app's mail to 127.0.0.1:port over SMTP."""
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_BACKEND="smtp")
    mailman.init_app(app)


@pytest.fixture
def smtp(app: Flask) -> Iterator[SmtpSink]:
    """A running SMTP server the app sends to; links in mails start with SITE_URL."""
    sink = SmtpSink()
    sink.start()
    app.config["SITE_URL"] = SITE_URL
    use_server(app, sink.port)
    try:
        yield sink
    finally:
        sink.stop()
