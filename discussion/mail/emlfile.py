"""A Flask-Mailman backend for sites without a mail server: each message becomes one
``.eml`` file (openable by any mail program) under ``MAIL_FILE_PATH``, written whole or
not at all (a full disk leaves no half file; the mail waits for its retry)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask_mailman import EmailMessage
from flask_mailman.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    """Writes each message to ``<time>-<random>.eml``; nothing fails for lack of a server."""

    def __init__(self, *args: Any, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file_path = Path(file_path or self.mailman.file_path)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.file_path.mkdir(parents=True, exist_ok=True)
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            name = f"{stamp}-{secrets.token_hex(6)}.eml"
            partial = self.file_path / f".{name}.part"
            try:
                partial.write_bytes(message.message().as_bytes())
                os.replace(partial, self.file_path / name)
            except OSError:
                partial.unlink(missing_ok=True)
                raise
        return len(email_messages)
