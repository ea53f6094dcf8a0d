"""Sanctions on persistent abusers: block an author's email or address (keyed hashes) for a
day, a week or for good, or hold everything they post; moderators' notes on an author; the
author panel (every comment from that email or address, the sanctions, the notes)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection

from ..comments.privacy import keyed_hash
from ..extensions import db
from ..models import (
    AuthorNote,
    Comment,
    Moderator,
    Sanction,
    SanctionAction,
    SanctionKind,
)
from ..web.filters import site_time

DURATIONS: dict[str, timedelta | None] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "good": None,
}
DURATION_LABELS = {"day": "for a day", "week": "for a week", "good": "for good"}
NOTE_LENGTH = 2000
PANEL_COMMENTS = 200  # newest comments the author panel lists per email or address


class NotPossible(Exception):
    """The sanction or note cannot be made (no email to block, already lifted…)."""


@dataclass(frozen=True)
class Author:
    """Who wrote a comment, as sanctions name them: keyed hashes of email and address."""

    email: str | None
    email_key: str | None
    address_key: str | None

    @property
    def keys(self) -> list[str]:
        return [k for k in (self.email_key, self.address_key) if k]


def email_key(email: str, secret: str) -> str:
    """The keyed hash sanctions and notes use for an email (case and spaces ignored)."""
    return keyed_hash(email.strip().casefold(), secret, "author-email")


def author_of(comment: Comment, secret: str) -> Author:
    return Author(
        comment.email,
        email_key(comment.email, secret) if comment.email else None,
        comment.ip_hash,
    )


def impose(
    comment: Comment,
    kind: SanctionKind,
    action: SanctionAction,
    duration: str,
    actor: Moderator,
    *,
    secret: str,
    now: datetime,
) -> Sanction:
    """Block or always hold the author of ``comment`` by email or address."""
    if not actor.can_moderate:
        raise NotPossible("Only moderators impose sanctions.")
    if duration not in DURATIONS:
        raise NotPossible("Choose for how long.")
    author = author_of(comment, secret)
    key = author.email_key if kind is SanctionKind.EMAIL else author.address_key
    if key is None:
        what = "no email" if kind is SanctionKind.EMAIL else "no address on record any more"
        raise NotPossible(f"Not done: that comment has {what}.")
    length = DURATIONS[duration]
    sanction = Sanction(
        kind=kind,
        key=key,
        action=action,
        until=now + length if length else None,
        comment_id=comment.id,
        moderator_id=actor.id,
        created_at=now,
    )
    db.session.add(sanction)
    db.session.flush()
    return sanction


def lift(sanction_id: int, actor: Moderator, *, now: datetime) -> Sanction:
    """End a sanction now (undo); it stays on record as lifted."""
    sanction = db.session.get(Sanction, sanction_id)
    if sanction is None:
        raise NotPossible("That sanction does not exist.")
    if not sanction.active(now):
        raise NotPossible("That sanction has already ended.")
    sanction.lifted_at, sanction.lifted_by = now, actor.id
    return sanction


def describe(sanction: Sanction) -> str:
    """One line for moderators: what, on what, until when."""
    what = "blocked" if sanction.action is SanctionAction.BLOCK else "always held for moderation"
    until = f"until {site_time(sanction.until)}" if sanction.until else "for good"
    return f"{sanction.kind.value.capitalize()} {what} {until} (sanction #{sanction.id})"


# --- when a comment is posted -----------------------------------------------------------


@dataclass(frozen=True)
class InForce:
    """What sanctions say about a new comment's author."""

    blocked: str | None = None  # the sentence for the record, when refused
    held: str | None = None  # the sentence for moderators, when always held
    blocking: tuple[int, ...] = ()  # the sanctions that refused it


_IN_FORCE = select(Sanction.id, Sanction.kind, Sanction.action, Sanction.until).where(
    Sanction.key.in_(bindparam("keys", expanding=True)),
    Sanction.lifted_at.is_(None),
    or_(Sanction.until.is_(None), Sanction.until > bindparam("now")),
)


def in_force(
    connection: Connection, email: str | None, address_key: str | None, secret: str, now: datetime
) -> InForce:
    """The sanctions in force on this email or address (one indexed query)."""
    keys = [k for k in (email_key(email, secret) if email else None, address_key) if k]
    if not keys:
        return InForce()
    rows = connection.execute(_IN_FORCE, {"keys": keys, "now": now}).all()
    blocks = [r for r in rows if r.action is SanctionAction.BLOCK]
    holds = [r for r in rows if r.action is SanctionAction.PREMODERATE]
    return InForce(
        blocked=_sentence(blocks, "blocked"),
        held=_sentence(holds, "always held for moderation"),
        blocking=tuple(r.id for r in blocks),
    )


def _sentence(rows: Sequence, what: str) -> str | None:
    if not rows:
        return None
    parts = [
        f"{r.kind.value} {what} "
        + (f"until {site_time(r.until)}" if r.until else "for good")
        + f" (sanction #{r.id})"
        for r in rows
    ]
    return "The author's " + "; ".join(parts) + "."


def count_refusal(sanction_ids: Iterable[int]) -> None:
    """Record that these sanctions refused one more post."""
    ids = list(sanction_ids)
    if ids:
        db.session.execute(
            update(Sanction).where(Sanction.id.in_(ids)).values(refused=Sanction.refused + 1)
        )


# --- notes -------------------------------------------------------------------------------


def add_note(comment: Comment, text: str, actor: Moderator, *, secret: str) -> AuthorNote:
    """A moderator's note on the author of ``comment`` (by email, else by address)."""
    text = text.strip()[:NOTE_LENGTH]
    if not text:
        raise NotPossible("Note not saved: it is empty.")
    author = author_of(comment, secret)
    key = author.email_key or author.address_key
    if key is None:
        raise NotPossible("Note not saved: that comment has neither an email nor an address.")
    note = AuthorNote(key=key, text=text, moderator_id=actor.id)
    db.session.add(note)
    db.session.flush()
    return note


@dataclass
class OnRecord:
    """Notes and sanctions in force for the authors of a page of comments."""

    notes: dict[int, list[AuthorNote]]
    sanctions: dict[int, list[Sanction]]


def on_record(comments: Sequence[Comment], secret: str, now: datetime) -> OnRecord:
    """For each comment of a page: notes on its author and sanctions in force (two
    queries for the page)."""
    authors = {c.id: author_of(c, secret) for c in comments}
    keys = {k for a in authors.values() for k in a.keys}
    notes: dict[str, list[AuthorNote]] = defaultdict(list)
    sanctions: dict[str, list[Sanction]] = defaultdict(list)
    if keys:
        for note in db.session.scalars(
            select(AuthorNote).where(AuthorNote.key.in_(keys)).order_by(AuthorNote.id)
        ):
            notes[note.key].append(note)
        for sanction in db.session.scalars(
            select(Sanction).where(Sanction.key.in_(keys)).order_by(Sanction.id)
        ):
            if sanction.active(now):
                sanctions[sanction.key].append(sanction)
    return OnRecord(
        {cid: [n for k in a.keys for n in notes[k]] for cid, a in authors.items()},
        {cid: [s for k in a.keys for s in sanctions[k]] for cid, a in authors.items()},
    )


# --- the author panel ----------------------------------------------------------------------


@dataclass
class Panel:
    """Everything on record about one comment's author."""

    author: Author
    by_email: list[Comment]
    by_address: list[Comment]
    sanctions: list[Sanction]
    notes: list[AuthorNote]


def panel(comment: Comment, secret: str) -> Panel:
    """The author of ``comment``: their comments by email and by address (newest
    first), every sanction (in force or ended) and every note."""
    author = author_of(comment, secret)

    def newest(condition) -> list[Comment]:  # type: ignore[no-untyped-def]
        stmt = select(Comment).where(condition).order_by(Comment.id.desc())
        return list(db.session.scalars(stmt.limit(PANEL_COMMENTS)))

    keys = author.keys
    return Panel(
        author,
        newest(Comment.email == author.email) if author.email else [],
        newest(Comment.ip_hash == author.address_key) if author.address_key else [],
        list(
            db.session.scalars(
                select(Sanction).where(Sanction.key.in_(keys)).order_by(Sanction.id.desc())
            )
        )
        if keys
        else [],
        list(
            db.session.scalars(
                select(AuthorNote).where(AuthorNote.key.in_(keys)).order_by(AuthorNote.id.desc())
            )
        )
        if keys
        else [],
    )
