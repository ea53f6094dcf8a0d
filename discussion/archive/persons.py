"""A person's data on request (privacy law): every comment written with an email
address, as JSON, and erasing them, the decision recorded. Every function takes the
acting admin."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from ..comments import posting, sanitizer
from ..comments.privacy import keyed_hash
from ..extensions import db
from ..mail import subscriptions
from ..models import (
    Comment,
    Erasure,
    MailAddress,
    MailSubscription,
    Moderator,
    OutboxMail,
)
from ..publications.catalog import touch

REMOVED_TEXT = "Removed at the author's request."
REMOVED_NAME = "Removed"
HASH_PURPOSE = "erasure"
EMAIL_LENGTH = Comment.__table__.c.email.type.length


class Mode(enum.Enum):
    """What erasing does to the text of the person's comments."""

    REDACT = "redact"
    DELETE = "delete"

    @property
    def title(self) -> str:
        return MODE_TITLES[self]


MODE_TITLES = {
    Mode.REDACT: f"Keep each comment's place, its text replaced by “{REMOVED_TEXT}”",
    Mode.DELETE: "Delete the comments (one that others answered keeps its place, as above)",
}


class NotAllowed(Exception):
    """Only admins see and erase a person's data."""


def _require_admin(actor: Moderator) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only admins see and erase a person's data.")


def normal(email: str) -> str:
    return email.strip().lower()


def _by_email(email: str) -> Any:
    return func.lower(Comment.email) == normal(email)


def comments(email: str, actor: Moderator) -> list[Comment]:
    """Every comment written with this address (in any case), oldest first."""
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(Comment)
            .options(joinedload(Comment.publication))
            .where(_by_email(email))
            .order_by(Comment.created_at, Comment.id)
        )
    )


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export(email: str, actor: Moderator, now: datetime) -> dict[str, Any]:
    """What the site holds about the person who wrote with this address."""
    found = comments(email, actor)
    wishes = db.session.scalars(
        select(MailSubscription).where(func.lower(MailSubscription.email) == normal(email))
    ).all()
    return {
        "email": email.strip(),
        "exported_at": now.isoformat(),
        "comments": [
            {
                "id": c.id,
                "publication": c.publication.slug,
                "publication_title": c.publication.title,
                "in_reply_to": c.parent_id,
                "created_at": _time(c.created_at),
                "state": c.state.value,
                "name": c.name,
                "email": c.email,
                "website": c.website,
                "text": c.body_text,
                "address": c.ip_address,
                "user_agent": c.user_agent,
                "imported_from": c.source,
            }
            for c in found
        ],
        "mail_subscriptions": [
            {
                "comment_id": s.comment_id,
                "published_notice": s.outcome,
                "reply_notices": s.replies,
                "stopped_at": _time(s.stopped_at),
                "created_at": _time(s.created_at),
            }
            for s in wishes
        ],
    }


@dataclass(frozen=True)
class Erased:
    """What an erasure did."""

    erasure: Erasure
    redacted: int
    deleted: int


def erase(
    email: str,
    mode: Mode,
    actor: Moderator,
    *,
    secret_key: str,
    now: datetime,
    note: str | None = None,
) -> Erased:
    """Erase the person's comments: name and address replaced, network addresses
    dropped, text replaced (``REDACT``) or the comments deleted (``DELETE``; one that
    others answered is redacted instead, so their replies keep their place). Their mail
    wishes, confirmed address and unsent mails go too. The decision is recorded with the
    address only as a keyed hash, so nothing stays findable by it."""
    _require_admin(actor)
    found = comments(email, actor)
    publication_ids = {c.publication_id for c in found}
    ids = [c.id for c in found]
    deleted = 0
    if mode is Mode.DELETE and ids:
        deletable = _deletable(set(ids))
        for comment_id in sorted(deletable, reverse=True):
            db.session.execute(delete(Comment).where(Comment.id == comment_id))
        deleted = len(deletable)
        ids = [i for i in ids if i not in deletable]
    if ids:
        db.session.execute(
            update(Comment)
            .where(Comment.id.in_(ids))
            .values(
                name=REMOVED_NAME,
                email=None,
                website=None,
                ip_address=None,
                ip_hash=None,
                user_agent=None,
                body_text=REMOVED_TEXT,
                body_html=sanitizer.render(REMOVED_TEXT),
                body_hash=posting.body_hash(REMOVED_TEXT),
                sanitizer_version=sanitizer.SANITIZER_VERSION,
            )
        )
    address = normal(email)
    db.session.execute(
        delete(MailSubscription).where(func.lower(MailSubscription.email) == address)
    )
    db.session.execute(
        delete(MailAddress).where(
            MailAddress.address_hash == subscriptions.address_hash(address, secret_key)
        )
    )
    db.session.execute(delete(OutboxMail).where(func.lower(OutboxMail.recipient) == address))
    erasure = Erasure(
        address_hash=keyed_hash(address, secret_key, HASH_PURPOSE),
        admin_id=actor.id,
        mode=mode.value,
        comments=len(found),
        note=note or None,
        created_at=now,
    )
    db.session.add(erasure)
    touch(publication_ids)
    db.session.flush()
    return Erased(erasure, len(ids), deleted)


def _deletable(ids: set[int]) -> set[int]:
    """The person's comments that can go without taking anyone else's reply with them:
    none of their replies, however deep, is someone else's."""
    replies: dict[int, list[int]] = {}
    for start in range(0, len(ids), 500):
        chunk = sorted(ids)[start : start + 500]
        for reply_id, parent_id in db.session.execute(
            select(Comment.id, Comment.parent_id).where(Comment.parent_id.in_(chunk))
        ):
            replies.setdefault(parent_id, []).append(reply_id)
    kept = {i for i in ids if any(r not in ids for r in replies.get(i, ()))}
    changed = True
    while changed:
        more = {i for i in ids - kept if any(r in kept for r in replies.get(i, ()))}
        changed = bool(more)
        kept |= more
    return ids - kept


def erasures(actor: Moderator, limit: int = 50) -> list[Erasure]:
    """The latest erasures (who, when, how, how many), newest first."""
    _require_admin(actor)
    return list(
        db.session.scalars(
            select(Erasure)
            .options(joinedload(Erasure.admin))
            .order_by(Erasure.created_at.desc(), Erasure.id.desc())
            .limit(limit)
        )
    )


def erased_before(email: str, secret_key: str) -> int:
    """How many erasures were recorded for this address (matched by its keyed hash)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Erasure)
            .where(Erasure.address_hash == keyed_hash(normal(email), secret_key, HASH_PURPOSE))
        )
        or 0
    )
