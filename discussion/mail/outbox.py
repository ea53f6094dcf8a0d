"""The outbox: one row per mail, written in the caller's transaction (so a rolled-back
event mails nothing), claimed by workers with row locks that skip what another holds."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, or_, select, update

from ..extensions import db
from ..models import MailStatus, OutboxMail

LEASE = timedelta(minutes=10)  # a claimed row is another worker's again after this
FAILED_PAGE_SIZE = 100


class Kind(enum.StrEnum):
    """What a mail is; each has its templates under ``templates/mail/<kind>.*``."""

    CONFIRM = "confirm"  # the double opt-in: the first and only mail to a new address
    OUTCOME = "outcome"  # the reader's comment was published, or not
    REPLIES = "replies"  # approved replies in the reader's thread (batched)
    HELD = "held"  # a moderator: a comment waits in the queue
    DIGEST = "digest"  # a moderator: the pending comments, every few hours
    STALE = "stale"  # a moderator: the oldest pending comment has waited too long

    @property
    def for_staff(self) -> bool:
        return self in (Kind.HELD, Kind.DIGEST, Kind.STALE)

    @property
    def is_notice(self) -> bool:
        """A reader's notice: confirmed addresses only, one-click unsubscribe, capped."""
        return self in (Kind.OUTCOME, Kind.REPLIES)


def enqueue(
    kind: Kind,
    recipient: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    due_at: datetime | None = None,
    batch_key: str | None = None,
) -> OutboxMail:
    """Add a mail to the session; it is sent only if the caller's transaction commits."""
    mail = OutboxMail(
        kind=kind.value,
        recipient=recipient,
        payload=payload,
        batch_key=batch_key,
        status=MailStatus.QUEUED,
        created_at=now,
        due_at=due_at or now,
        attempts=0,
    )
    db.session.add(mail)
    return mail


def enqueue_many(kind: Kind, mails: list[tuple[str, dict[str, Any]]], *, now: datetime) -> None:
    """Add several mails of one kind, due now, in one INSERT (a comment POST's alerts)."""
    if mails:
        db.session.execute(
            insert(OutboxMail),
            [
                {
                    "kind": kind.value,
                    "recipient": recipient,
                    "payload": payload,
                    "status": MailStatus.QUEUED,
                    "created_at": now,
                    "due_at": now,
                    "attempts": 0,
                }
                for recipient, payload in mails
            ],
        )


def gather(
    kind: Kind,
    recipient: str,
    batch_key: str,
    list_key: str,
    item: int,
    payload: dict[str, Any],
    *,
    now: datetime,
    every: timedelta,
) -> OutboxMail:
    """Add ``item`` to the waiting mail with this ``batch_key``, or queue a new one due
    ``every`` after the last one of its key was sent: at most one mail per ``every``.

    The waiting row is locked while it is changed (PostgreSQL; SQLite serialises
    writers), and a row a worker has already claimed is left alone.
    """
    waiting = db.session.scalar(
        select(OutboxMail)
        .where(
            OutboxMail.batch_key == batch_key,
            OutboxMail.status == MailStatus.QUEUED,
            or_(OutboxMail.locked_until.is_(None), OutboxMail.locked_until < now),
        )
        .order_by(OutboxMail.id.desc())
        .limit(1)
        .with_for_update()
    )
    if waiting is not None:
        items = list(waiting.payload.get(list_key, []))
        if item not in items:
            waiting.payload = {**waiting.payload, list_key: [*items, item]}
        return waiting
    of_key = OutboxMail.batch_key == batch_key
    in_flight = db.session.scalar(  # claimed by a worker: being sent now
        select(OutboxMail.id)
        .where(of_key, OutboxMail.status == MailStatus.QUEUED, OutboxMail.locked_until >= now)
        .limit(1)
    )
    sent = db.session.scalar(
        select(func.max(OutboxMail.sent_at)).where(of_key, OutboxMail.status == MailStatus.SENT)
    )
    last = now if in_flight is not None else aware(sent) if sent is not None else None
    due = max(now, last + every) if last is not None else now
    return enqueue(
        kind, recipient, {**payload, list_key: [item]}, now=now, due_at=due, batch_key=batch_key
    )


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def claim(now: datetime, limit: int) -> list[OutboxMail]:
    """Due rows no other worker holds, leased to this one until ``now + LEASE``.

    ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (another worker's claim in progress is
    skipped, not waited for); on SQLite the write transaction serialises claims. The
    caller commits at once, so the lease is visible before anything is sent.
    """
    rows = list(
        db.session.scalars(
            select(OutboxMail)
            .where(
                OutboxMail.status == MailStatus.QUEUED,
                OutboxMail.due_at <= now,
                or_(OutboxMail.locked_until.is_(None), OutboxMail.locked_until < now),
            )
            .order_by(OutboxMail.due_at, OutboxMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    for mail in rows:
        mail.locked_until = now + LEASE
    return rows


def sent_today(recipient: str, now: datetime) -> int:
    """Mails sent to this address in the last 24 hours."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(OutboxMail)
            .where(
                OutboxMail.recipient == recipient,
                OutboxMail.status == MailStatus.SENT,
                OutboxMail.sent_at > now - timedelta(days=1),
            )
        )
        or 0
    )


def failed(limit: int = FAILED_PAGE_SIZE) -> Sequence[OutboxMail]:
    """Mails refused for good or given up on, newest first: what admins see."""
    return db.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.status == MailStatus.FAILED)
        .order_by(OutboxMail.id.desc())
        .limit(limit)
    ).all()


def retry(mail_id: int, now: datetime) -> bool:
    """Queue a failed mail again (an admin fixed the address or the settings)."""
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.status == MailStatus.FAILED)
        .values(status=MailStatus.QUEUED, due_at=now, created_at=now, attempts=0, locked_until=None)
    )
    return result.rowcount == 1


def counts() -> dict[str, int]:
    """How many mails stand in each status."""
    rows = db.session.execute(
        select(OutboxMail.status, func.count()).group_by(OutboxMail.status)
    ).all()
    return {status.value: count for status, count in rows}
