"""What each event mails. Other rooms call these in the transaction of the event itself,
so a mail exists exactly when its cause was committed.

- :func:`comment_posted`: the reader's wishes (and the confirmation a new address gets),
  an alert to each moderator who wants one per held comment, and, for a comment the
  rules published at once, its outcome and the reply notices of its thread.
- :func:`comment_decided`: a moderator's decision: the outcome notice (published, or not
  published with the reason), and reply notices when a reply is approved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..models import (
    Comment,
    CommentState,
    MailAddress,
    MailPreference,
    MailSubscription,
    Moderator,
    utcnow,
)
from . import outbox, subscriptions
from .outbox import Kind
from .subscriptions import TOLD_STATES, MailSettings


def _settings(settings: MailSettings | None) -> MailSettings:
    return settings or MailSettings.from_config(current_app.config)


def comment_posted(
    comment_id: int,
    state: CommentState,
    *,
    root_id: int | None,
    email: str | None,
    notify_outcome: bool = False,
    notify_replies: bool = False,
    settings: MailSettings | None = None,
    now: datetime | None = None,
    may_ask: Callable[[], bool] = lambda: True,
) -> None:
    """A comment was stored in ``state``; ``root_id`` is its thread when it is a reply.
    ``may_ask``: whether the poster may cause one more confirmation request (a limit)."""
    settings, now = _settings(settings), now or utcnow()
    if email and (notify_outcome or notify_replies):
        subscriptions.opt_in(
            comment_id=comment_id,
            root_id=root_id or comment_id,
            email=email,
            outcome=notify_outcome,
            replies=notify_replies,
            settings=settings,
            now=now,
            may_ask=may_ask,
        )
    if state is CommentState.PENDING:
        alert_held(comment_id, now=now)
    elif state is CommentState.APPROVED:
        # Rejections by the rules stay silent, as on the page: no hint for spammers.
        _tell_outcome(comment_id, state, None, now)
        if root_id is not None:
            _tell_thread(comment_id, root_id, email, settings, now)


def comment_decided(
    comment_id: int,
    to_state: CommentState,
    *,
    reason: str | None = None,
    settings: MailSettings | None = None,
    now: datetime | None = None,
) -> None:
    """A moderator moved a comment to ``to_state`` (with a reason category when refused)."""
    if to_state not in TOLD_STATES:
        return  # pending again (undo, restore) or spam: nobody is told
    settings, now = _settings(settings), now or utcnow()
    _tell_outcome(comment_id, to_state, reason, now)
    if to_state is CommentState.APPROVED:
        row = db.session.execute(
            select(Comment.root_id, Comment.email).where(Comment.id == comment_id)
        ).first()
        if row is not None and row.root_id is not None:
            _tell_thread(comment_id, row.root_id, row.email, settings, now)


_ALERTED = select(Moderator.id, Moderator.email).where(
    Moderator.active,
    Moderator.email.is_not(None),
    Moderator.mail_preference == MailPreference.EACH,
)


def alert_held(comment_id: int, *, now: datetime) -> None:
    """A mail to every active moderator who wants one for each held comment."""
    staff = db.session.execute(_ALERTED).all()
    outbox.enqueue_many(
        Kind.HELD,
        [(email, {"moderator_id": id_, "comment_id": comment_id}) for id_, email in staff],
        now=now,
    )


def outcome_notices(
    pairs: Iterable[tuple[int, CommentState]], reason: str | None, now: datetime
) -> None:
    """Queue the outcome notice of each (subscription, state) not yet told."""
    for subscription_id, state in pairs:
        changed = db.session.execute(
            update(MailSubscription)
            .where(
                MailSubscription.id == subscription_id,
                (MailSubscription.outcome_sent.is_(None))
                | (MailSubscription.outcome_sent != state),
            )
            .values(outcome_sent=state)
        )
        if changed.rowcount != 1:
            continue
        email = db.session.scalar(
            select(MailSubscription.email).where(MailSubscription.id == subscription_id)
        )
        outbox.enqueue(
            Kind.OUTCOME,
            email or "",
            {"subscription_id": subscription_id, "state": state.value, "reason": reason},
            now=now,
        )


def _tell_outcome(comment_id: int, state: CommentState, reason: str | None, now: datetime) -> None:
    rows = db.session.execute(
        select(MailSubscription.id)
        .join(MailAddress, MailAddress.id == MailSubscription.address_id)
        .where(
            MailSubscription.comment_id == comment_id,
            MailSubscription.outcome,
            MailSubscription.stopped_at.is_(None),
            MailAddress.confirmed_at.is_not(None),
            MailAddress.stopped_at.is_(None),
        )
    ).all()
    outcome_notices(((row.id, state) for row in rows), reason, now)


def _tell_thread(
    reply_id: int, root_id: int, author_email: str | None, settings: MailSettings, now: datetime
) -> None:
    """Reply notices for an approved reply: to every confirmed address that asked for
    replies with an approved comment of the thread, never to the reply's own author;
    gathered into at most one mail per thread per ``reply_interval`` and address."""
    author = subscriptions.address_hash(author_email, settings.secret_key) if author_email else ""
    rows = db.session.execute(
        select(MailSubscription.address_id, MailSubscription.email)
        .join(MailAddress, MailAddress.id == MailSubscription.address_id)
        .join(Comment, Comment.id == MailSubscription.comment_id)
        .where(
            MailSubscription.root_id == root_id,
            MailSubscription.replies,
            MailSubscription.stopped_at.is_(None),
            MailSubscription.comment_id != reply_id,
            MailAddress.confirmed_at.is_not(None),
            MailAddress.stopped_at.is_(None),
            MailAddress.address_hash != author,
            Comment.state == CommentState.APPROVED,
        )
        .order_by(MailSubscription.id.desc())
    ).all()
    addresses = {row.address_id: row.email for row in reversed(rows)}  # the latest address
    for address_id, email in addresses.items():
        outbox.gather(
            Kind.REPLIES,
            email,
            f"replies:{address_id}:{root_id}",
            "reply_ids",
            reply_id,
            {"address_id": address_id, "root_id": root_id},
            now=now,
            every=settings.reply_interval,
        )
