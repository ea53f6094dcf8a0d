"""Readers' addresses: opting in with a comment, the double opt-in, stopping mails.

An address is known by a keyed hash only (``mail_addresses``); the address itself is
kept with each subscription, where the notices go. Nothing but the confirmation is
ever sent to an address that is not confirmed, and at most one confirmation per
``MAIL_CONFIRMATION_INTERVAL_HOURS``, so the comment form cannot be used to bomb
someone's inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from ..comments.privacy import keyed_hash
from ..extensions import db
from ..models import Comment, CommentState, MailAddress, MailSubscription
from . import outbox
from .outbox import Kind

HASH_PURPOSE = "mail-address"
CONFIRM_SALT = "mail-confirm"
STOP_SALT = "mail-stop"
CONFIRM_LINK_DAYS = 7  # a confirmation link works this long
# The states a reader is told about: published, or not published by a moderator.
TOLD_STATES = (CommentState.APPROVED, CommentState.REJECTED)


@dataclass(frozen=True)
class MailSettings:
    """What the mail rules need from configuration, passed explicitly to services."""

    secret_key: str
    confirmation_interval: timedelta = timedelta(hours=24)
    reply_interval: timedelta = timedelta(hours=1)

    @classmethod
    def from_config(cls, config: Any) -> MailSettings:
        return cls(
            secret_key=config["SECRET_KEY"],
            confirmation_interval=timedelta(hours=config["MAIL_CONFIRMATION_INTERVAL_HOURS"]),
            reply_interval=timedelta(minutes=config["MAIL_REPLY_INTERVAL_MINUTES"]),
        )


def address_hash(email: str, secret_key: str) -> str:
    """The keyed hash an address is known by (case-insensitive)."""
    return keyed_hash(email.strip().lower(), secret_key, HASH_PURPOSE)


def is_confirmed(connection: Connection, email: str | None, secret_key: str) -> bool:
    """Whether this address confirmed it wants mail (and has not stopped everything)."""
    if not email:
        return False
    row = connection.execute(
        select(MailAddress.confirmed_at, MailAddress.stopped_at).where(
            MailAddress.address_hash == address_hash(email, secret_key)
        )
    ).first()
    return row is not None and row.confirmed_at is not None and row.stopped_at is None


def _address(email: str, settings: MailSettings, now: datetime) -> MailAddress:
    digest = address_hash(email, settings.secret_key)
    find = select(MailAddress).where(MailAddress.address_hash == digest)
    address = db.session.scalar(find)
    if address is None:
        try:
            with db.session.begin_nested():  # two first comments from one address at once
                address = MailAddress(address_hash=digest, created_at=now)
                db.session.add(address)
        except IntegrityError:  # the other one stored it first (PostgreSQL): use it
            address = db.session.scalar(find)
    assert address is not None
    return address


def opt_in(
    *,
    comment_id: int,
    root_id: int,
    email: str,
    outcome: bool,
    replies: bool,
    settings: MailSettings,
    now: datetime,
    may_ask: Callable[[], bool] = lambda: True,
) -> MailSubscription | None:
    """Record a reader's wish given with their comment; ask a new address to confirm.

    ``may_ask`` is asked (and counts) only when a confirmation would go out: the
    caller's limit on confirmation requests from one client; over it, the wish is kept
    and the address is asked with a later wish. Returns the subscription, or None when
    nothing was asked for.
    """
    if not (outcome or replies):
        return None
    address = _address(email, settings, now)
    subscription = MailSubscription(
        address_id=address.id,
        comment_id=comment_id,
        root_id=root_id,
        email=email,
        outcome=outcome,
        replies=replies,
        created_at=now,
    )
    db.session.add(subscription)
    if address.confirmed_at is None or address.stopped_at is not None:
        _ask_to_confirm(address, email, settings, now, may_ask)
    return subscription


def _ask_to_confirm(
    address: MailAddress,
    email: str,
    settings: MailSettings,
    now: datetime,
    may_ask: Callable[[], bool],
) -> None:
    """Queue a confirmation unless one went to this address within the interval (its
    link confirms every wish waiting on the address) or the client asked too often."""
    last = address.confirmation_sent_at
    if last is not None and outbox.aware(last) > now - settings.confirmation_interval:
        return
    if not may_ask():
        return
    address.confirmation_sent_at = now
    outbox.enqueue(Kind.CONFIRM, email, {"address_id": address.id}, now=now)


def active(address_id: int) -> bool:
    """Whether notices may go to this address now: confirmed, not stopped."""
    address = db.session.get(MailAddress, address_id)
    return address is not None and address.confirmed_at is not None and address.stopped_at is None


def confirm(address_id: int, now: datetime) -> list[tuple[int, CommentState]]:
    """Confirm an address; returns the (subscription, state) outcomes already due, which
    the caller mails (a comment decided while its author had not yet confirmed)."""
    address = db.session.get(MailAddress, address_id)
    if address is None:
        return []
    address.confirmed_at = address.confirmed_at or now
    address.stopped_at = None
    rows = db.session.execute(
        select(MailSubscription.id, Comment.state)
        .join(Comment, Comment.id == MailSubscription.comment_id)
        .where(
            MailSubscription.address_id == address_id,
            MailSubscription.outcome,
            MailSubscription.stopped_at.is_(None),
            Comment.state.in_(TOLD_STATES),
            ~Comment.hidden,
        )
    ).all()
    return [(row.id, row.state) for row in rows]


def stop_thread(address_id: int, root_id: int, now: datetime) -> int:
    """No more mails to this address about this thread; returns subscriptions stopped."""
    result = db.session.execute(
        update(MailSubscription)
        .where(
            MailSubscription.address_id == address_id,
            MailSubscription.root_id == root_id,
            MailSubscription.stopped_at.is_(None),
        )
        .values(stopped_at=now)
    )
    return result.rowcount or 0


def stop_all(address_id: int, now: datetime) -> bool:
    """No more mails to this address at all (until it confirms a new wish)."""
    result = db.session.execute(
        update(MailAddress).where(MailAddress.id == address_id).values(stopped_at=now)
    )
    return result.rowcount == 1


# --- signed links ---------------------------------------------------------------------


def _signer(secret_key: str, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=salt)


def confirm_token(address_id: int, secret_key: str) -> str:
    return _signer(secret_key, CONFIRM_SALT).dumps(address_id)


def read_confirm_token(token: str, secret_key: str) -> int | None:
    """The address id of a confirmation link younger than ``CONFIRM_LINK_DAYS``."""
    try:
        value = _signer(secret_key, CONFIRM_SALT).loads(
            token, max_age=CONFIRM_LINK_DAYS * 24 * 3600
        )
    except (BadSignature, SignatureExpired):
        return None
    return value if isinstance(value, int) else None


def stop_token(address_id: int, root_id: int | None, secret_key: str) -> str:
    """The unsubscribe link's token: the address, and the thread the mail was about."""
    return _signer(secret_key, STOP_SALT).dumps([address_id, root_id])


def read_stop_token(token: str, secret_key: str) -> tuple[int, int | None] | None:
    """(address id, thread or None); unsubscribe links do not expire."""
    try:
        value = _signer(secret_key, STOP_SALT).loads(token)
    except BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and (value[1] is None or isinstance(value[1], int))
    ):
        return value[0], value[1]
    return None
