"""The worker's sending: claim due mails, render them, send them through Flask-Mailman
(SMTP, or ``.eml`` files when no server is configured), record what happened.

No database transaction is open while the mail server is talked to, so a slow or dead
server never holds a lock that a comment POST waits for. A temporary failure
(connection refused, timeouts, 4xx) is tried again with exponential backoff for up to
``MAIL_RETRY_HOURS``; a permanent one (5xx) is kept, with the server's answer, for
admins. A worker that dies after the server accepted a mail but before recording it
sends that mail again once its lease ends (at least once, never lost).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import update

from ..extensions import db, mailman
from ..models import MailStatus, OutboxMail, utcnow
from . import outbox
from .messages import Drop, message, render
from .outbox import Kind, aware

log = logging.getLogger(__name__)

ERROR_LENGTH = 2000  # characters of a server's answer kept on the row
EML_BACKEND = "discussion.mail.emlfile.EmailBackend"


@dataclass
class Report:
    """What one round of delivery did."""

    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    postponed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    """Why a mail was not sent, and whether trying again can help."""

    error: str
    permanent: bool


def deliver_due(now: datetime | None = None) -> Report:
    """Send what is due now (one batch of ``MAIL_BATCH_SIZE``); commits its own work."""
    config = current_app.config
    now = now or utcnow()
    report = Report()
    claimed = outbox.claim(now, config["MAIL_BATCH_SIZE"])
    db.session.commit()  # the lease is visible before anything is sent
    report.claimed = len(claimed)
    if not claimed:
        return report
    ready: list[tuple[int, EmailMultiAlternatives]] = []
    cap = config["MAIL_RECIPIENT_DAILY_CAP"]
    counted: dict[str, int] = {}  # mails to each address in the last day, this batch's too
    for mail in claimed:
        try:
            if Kind(mail.kind).is_notice:
                if mail.recipient not in counted:
                    counted[mail.recipient] = outbox.sent_today(mail.recipient, now)
                if counted[mail.recipient] >= cap:
                    mail.due_at, mail.locked_until = now + timedelta(hours=1), None
                    report.postponed.append(mail.id)
                    continue
                counted[mail.recipient] += 1
            ready.append((mail.id, message(mail, render(mail))))
        except Drop as reason:
            mail.status, mail.last_error, mail.locked_until = MailStatus.DROPPED, str(reason), None
            report.dropped.append(mail.id)
    db.session.commit()  # nothing stays open while the server is talked to
    outcomes = send(ready)
    for mail_id, failure in outcomes.items():
        if failure is None:
            _record_sent(mail_id, now)
            report.sent.append(mail_id)
        elif failure.permanent or _past_retrying(mail_id, now):
            _record_failed(mail_id, failure, now)
            report.failed.append(mail_id)
        else:
            _record_retry(mail_id, failure, now)
            report.retrying.append(mail_id)
    db.session.commit()
    return report


def send(batch: list[tuple[int, EmailMultiAlternatives]]) -> dict[int, Failure | None]:
    """Send each message over one connection; each mail's outcome by id."""
    outcomes: dict[int, Failure | None] = {}
    if not batch:
        return outcomes
    connection = mailman.get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        failure = Failure(f"Could not reach the mail server: {_describe(error)}", False)
        return {mail_id: failure for mail_id, _ in batch}
    try:
        for index, (mail_id, email) in enumerate(batch):
            try:
                connection.send_messages([email])
            except smtplib.SMTPRecipientsRefused as error:
                code, answer = next(iter(error.recipients.values()))
                outcomes[mail_id] = _answered(code, answer)
            except smtplib.SMTPResponseException as error:
                outcomes[mail_id] = _answered(error.smtp_code, error.smtp_error)
            except (OSError, smtplib.SMTPException) as error:  # the connection broke
                failure = Failure(f"The mail server connection failed: {_describe(error)}", False)
                outcomes.update({later: failure for later, _ in batch[index:]})
                break
            else:
                outcomes[mail_id] = None
    finally:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            log.warning("closing the mail server connection failed", exc_info=True)
    return outcomes


def _answered(code: int, answer: bytes | str) -> Failure:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return Failure(f"{code} {text}"[:ERROR_LENGTH], 500 <= code < 600)


def _describe(error: BaseException) -> str:
    return (f"{type(error).__name__}: {error}")[:ERROR_LENGTH]


def _past_retrying(mail_id: int, now: datetime) -> bool:
    created = db.session.get(OutboxMail, mail_id).created_at  # type: ignore[union-attr]
    return now - aware(created) >= timedelta(hours=current_app.config["MAIL_RETRY_HOURS"])


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: doubling, capped."""
    config = current_app.config
    first, most = config["MAIL_RETRY_FIRST_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(most, first * 2 ** min(attempts - 1, 30)))


def _record_sent(mail_id: int, now: datetime) -> None:
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id)
        .values(
            status=MailStatus.SENT,
            sent_at=now,
            locked_until=None,
            attempts=OutboxMail.attempts + 1,
        )
    )


def _record_failed(mail_id: int, failure: Failure, now: datetime) -> None:
    mail = db.session.get(OutboxMail, mail_id)
    assert mail is not None
    mail.attempts += 1
    mail.status, mail.locked_until = MailStatus.FAILED, None
    mail.last_error = (
        failure.error
        if failure.permanent
        else f"Gave up after {mail.attempts} attempts over "
        f"{current_app.config['MAIL_RETRY_HOURS']} hours. Last: {failure.error}"
    )[:ERROR_LENGTH]
    log.warning("mail %s to %s failed for good: %s", mail_id, mail.recipient, mail.last_error)


def _record_retry(mail_id: int, failure: Failure, now: datetime) -> None:
    mail = db.session.get(OutboxMail, mail_id)
    assert mail is not None
    mail.attempts += 1
    mail.due_at = now + backoff(mail.attempts)
    mail.locked_until, mail.last_error = None, failure.error
    log.info("mail %s will be tried again at %s: %s", mail_id, mail.due_at, failure.error)


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman: SMTP when ``MAIL_SERVER`` is set, else ``.eml`` files under
    ``MAIL_FILE_PATH`` (instance/mail/)."""
    config = app.config
    if not config.get("MAIL_FILE_PATH"):
        config["MAIL_FILE_PATH"] = str(Path(app.instance_path) / "mail")
    if not config.get("MAIL_BACKEND"):
        config["MAIL_BACKEND"] = "smtp" if config.get("MAIL_SERVER") else EML_BACKEND
    mailman.init_app(app)
