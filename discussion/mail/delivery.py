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
from flask_mailman.backends.base import BaseEmailBackend
from sqlalchemy import select, update

from ..extensions import db, mailman
from ..models import MailStatus, OutboxMail, utcnow
from ..web import database, links
from . import outbox
from .messages import Drop, message, render
from .outbox import Kind, aware

log = logging.getLogger(__name__)

ERROR_LENGTH = 2000  # characters of a server's answer kept on the row
CAP_WAIT = timedelta(hours=1)  # a notice over its recipient's daily cap waits this long
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
    unreachable: bool = False  # the mail server could not be reached at all


@dataclass(frozen=True)
class Failure:
    """Why a mail was not sent, and whether trying again can help."""

    error: str
    permanent: bool


def deliver_due(now: datetime | None = None) -> Report:
    """Send what is due now (one batch of ``MAIL_BATCH_SIZE``); commits its own work.

    Short steps: claim (a write); connect (when the server cannot be reached, the batch
    waits for its retry, unrendered); render (reads only: on SQLite no write lock is
    held, so comment POSTs never wait for it); send (no transaction open); then one
    write that records every outcome.
    """
    config = current_app.config
    now = now or utcnow()
    report = Report()
    claimed = outbox.claim(now, config["MAIL_BATCH_SIZE"])
    rows = {mail.id: (aware(mail.created_at), mail.attempts) for mail in claimed}
    db.session.commit()  # the lease is visible before anything is sent
    report.claimed = len(rows)
    if not rows:
        return report
    connection = mailman.get_connection(fail_silently=False)
    try:
        connection.open()
    except (OSError, smtplib.SMTPException) as error:
        report.unreachable = True
        failure = Failure(f"Could not reach the mail server: {_describe(error)}", False)
        _record_outcomes(report, rows, dict.fromkeys(rows, failure), now)
        db.session.commit()
        return report
    try:
        ready, drops, outcomes = _render(rows, report, now)
        outcomes.update(send(connection, ready))
    finally:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            log.warning("closing the mail server connection failed", exc_info=True)
    for mail_id, reason in drops.items():
        _record(mail_id, status=MailStatus.DROPPED, last_error=reason)
    for mail_id in report.postponed:
        _record(mail_id, due_at=now + CAP_WAIT)
    _record_outcomes(report, rows, outcomes, now)
    db.session.commit()
    log.info(
        "mail: %d sent, %d to retry, %d failed, %d dropped, %d over a daily cap",
        len(report.sent),
        len(report.retrying),
        len(report.failed),
        len(report.dropped),
        len(report.postponed),
    )
    return report


def _render(
    rows: dict[int, tuple[datetime, int]], report: Report, now: datetime
) -> tuple[list[tuple[int, EmailMultiAlternatives]], dict[int, str], dict[int, Failure | None]]:
    """The claimed mails as messages, why the unwanted ones are dropped, and the ones
    that could not be rendered (kept as failed, for admins); notices over their
    recipient's daily cap are put in ``report.postponed``."""
    ready: list[tuple[int, EmailMultiAlternatives]] = []
    drops: dict[int, str] = {}
    broken: dict[int, Failure | None] = {}
    cap = current_app.config["MAIL_RECIPIENT_DAILY_CAP"]
    counted: dict[str, int] = {}  # mails to each address in the last day, and this batch's
    with database.only_reads():
        for mail in db.session.scalars(
            select(OutboxMail).where(OutboxMail.id.in_(list(rows))).order_by(OutboxMail.id)
        ):
            try:
                if Kind(mail.kind).is_notice:
                    if mail.recipient not in counted:
                        counted[mail.recipient] = outbox.sent_today(mail.recipient, now)
                    if counted[mail.recipient] >= cap:
                        report.postponed.append(mail.id)
                        continue
                    counted[mail.recipient] += 1
                ready.append((mail.id, message(mail, render(mail))))
            except Drop as reason:
                drops[mail.id] = str(reason)
                report.dropped.append(mail.id)
            except links.NoSiteAddress:
                raise  # the site's configuration, not this mail: nothing is recorded
            except Exception as error:  # a bug must not hold back the rest of the batch
                log.exception("mail %s could not be rendered", mail.id)
                broken[mail.id] = Failure(f"Could not be rendered: {_describe(error)}", True)
        db.session.rollback()  # the snapshot ends; nothing was written
    return ready, drops, broken


def send(
    connection: BaseEmailBackend, batch: list[tuple[int, EmailMultiAlternatives]]
) -> dict[int, Failure | None]:
    """Send each message over the open connection; each mail's outcome by id."""
    outcomes: dict[int, Failure | None] = {}
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
    return outcomes


def _record_outcomes(
    report: Report,
    rows: dict[int, tuple[datetime, int]],
    outcomes: dict[int, Failure | None],
    now: datetime,
) -> None:
    """Sent; failed for good (5xx, or past the retry period); or due again later."""
    retry_hours = current_app.config["MAIL_RETRY_HOURS"]
    for mail_id, failure in outcomes.items():
        created, attempts = rows[mail_id]
        attempts += 1
        if failure is None:
            _record(mail_id, status=MailStatus.SENT, sent_at=now, attempts=attempts)
            report.sent.append(mail_id)
        elif failure.permanent or now - created >= timedelta(hours=retry_hours):
            error = failure.error
            if not failure.permanent:
                error = f"Gave up after {attempts} attempts over {retry_hours} hours. Last: {error}"
            _record(
                mail_id,
                status=MailStatus.FAILED,
                attempts=attempts,
                last_error=error[:ERROR_LENGTH],
            )
            log.warning("mail %s failed for good: %s", mail_id, error)
            report.failed.append(mail_id)
        else:
            due = now + backoff(attempts)
            _record(mail_id, due_at=due, attempts=attempts, last_error=failure.error)
            log.info("mail %s will be tried again at %s: %s", mail_id, due, failure.error)
            report.retrying.append(mail_id)


def _record(mail_id: int, **values: object) -> None:
    """What happened to a claimed mail; its lease ends."""
    db.session.execute(
        update(OutboxMail).where(OutboxMail.id == mail_id).values(locked_until=None, **values)
    )


def _answered(code: int, answer: bytes | str) -> Failure:
    text = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
    return Failure(f"{code} {text}"[:ERROR_LENGTH], 500 <= code < 600)


def _describe(error: BaseException) -> str:
    return (f"{type(error).__name__}: {error}")[:ERROR_LENGTH]


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failure: doubling, capped."""
    config = current_app.config
    first, most = config["MAIL_RETRY_FIRST_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"]
    return timedelta(seconds=min(most, first * 2 ** min(attempts - 1, 30)))


def init_app(app: Flask) -> None:
    """Bind Flask-Mailman: SMTP when ``MAIL_SERVER`` is set, else ``.eml`` files under
    ``MAIL_FILE_PATH`` (instance/mail/)."""
    config = app.config
    if not config.get("MAIL_FILE_PATH"):
        config["MAIL_FILE_PATH"] = str(Path(app.instance_path) / "mail")
    if not config.get("MAIL_BACKEND"):
        config["MAIL_BACKEND"] = "smtp" if config.get("MAIL_SERVER") else EML_BACKEND
    mailman.init_app(app)
