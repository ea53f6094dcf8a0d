"""Posting a comment: replies, the moderation rules' verdict, storing it; withdrawing a
pending one; re-rendering stored comments after a sanitizer change."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..mail import notices, subscriptions
from ..models import (
    Comment,
    CommentState,
    Decision,
    Hold,
    Moderator,
    Publication,
    SpamScore,
    utcnow,
)
from ..moderation import sanctions, spamscore, topics
from ..operations import metrics
from ..publications.catalog import PageState, touch
from ..web import clock, database
from . import rules, sanitizer


def _answerable(comment_id: int, publication_id: int) -> tuple[ColumnElement[bool], ...]:
    """A comment readers can answer: approved, shown, of this publication."""
    return (
        Comment.id == comment_id,
        Comment.publication_id == publication_id,
        Comment.state == CommentState.APPROVED,
        ~Comment.hidden,
    )


def replyable(comment_id: int, publication_id: int) -> Comment | None:
    """The comment, when it is approved and belongs to the publication."""
    return db.session.scalar(select(Comment).where(*_answerable(comment_id, publication_id)))


def reply_root(comment_id: int, publication_id: int) -> int | None:
    """The thread (its top-level comment's id) a reply to this comment joins, when the
    comment can be answered: as :func:`replyable`, without loading it or locking."""
    with database.reading() as connection:
        row = connection.execute(
            select(Comment.id, Comment.root_id).where(*_answerable(comment_id, publication_id))
        ).first()
    return (row.root_id or row.id) if row else None


DUPLICATE_WINDOW = timedelta(days=1)  # the same text again within this is held
USER_AGENT_LENGTH = Comment.__table__.c.user_agent.type.length
RERENDER_BATCH = 500


# The POST path's writes, built once: Core inserts on the tables (the ORM's bulk insert
# machinery and a statement's construction cost more than the SQLite insert itself).
# Core statements do not autoflush the session: nothing on this path is left pending in it.
_INSERT_COMMENT = insert(Comment.__table__).returning(Comment.__table__.c.id)
_INSERT_HOLD = insert(Hold.__table__)
_INSERT_DECISION = insert(Decision.__table__)
_INSERT_SPAM_SCORE = insert(SpamScore.__table__)


@dataclass(frozen=True)
class Origin:
    """Where a comment came from: what abuse rules may use, and for how long."""

    ip_hash: str | None = None
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Posted:
    """A stored comment's id and the state the rules gave it."""

    id: int
    state: CommentState
    refused: bool = False  # a blocked author's: recorded, and nothing else follows


def post_comment(
    publication: Publication | PageState,
    *,
    name: str,
    body: str,
    email: str | None = None,
    parent_id: int | None = None,
    root_id: int | None = None,
    honeypot: str | None = None,
    origin: Origin | None = None,
    settings: rules.RuleSettings | None = None,
    today: date | None = None,
    address_key: str | None = None,
    staff: Moderator | None = None,
    spam: spamscore.SpamSettings | None = None,
) -> Posted:
    """Store a reader's comment in the state the moderation rules give it.

    The text is kept exactly as typed and rendered to HTML once, here. Every rule
    that held the comment is stored with it. A reply's ``parent_id`` and ``root_id``
    (the thread it joins) come from :func:`reply_root`. ``address_key`` is the key of
    confirmed addresses' hashes (the secret key): without it no address counts as
    confirmed, so known authors who must be confirmed are held. A comment by signed-in
    ``staff`` carries their account (the staff badge) and is published at once.
    """
    email = email or None
    origin = origin or Origin()
    # Everything but the inserts happens before the write transaction (the reply's
    # parent was checked by reply_root, the settings are cached): on SQLite its first
    # statement takes the write lock, held until the commit, so concurrent posts wait
    # only for an insert. Two identical posts sent in the same instant may both escape
    # the duplicate rule (a hold, not a constraint); that race is accepted.
    html, text_hash = sanitizer.render(body), body_hash(body)
    if staff is not None:  # signed-in staff speak for the newsroom: published at once
        judged = Judgement(rules.Verdict("approved", ()), spamscore.Score(0.0, ()))
    else:
        judged = judgement(
            publication,
            body=body,
            text_hash=text_hash,
            email=email,
            ip_hash=origin.ip_hash,
            honeypot=bool(honeypot),
            settings=settings,
            today=today,
            address_key=address_key,
            spam=spam,
        )
    verdict = judged.verdict
    state = CommentState(verdict.state)
    metrics.count_on_commit(metrics.POSTED, state)
    comment_id = db.session.execute(
        _INSERT_COMMENT,
        {
            "publication_id": publication.id,
            "parent_id": parent_id,
            "root_id": root_id,
            "name": name.strip(),
            "email": email,
            "body_text": body,
            "body_html": html,
            "body_hash": text_hash,
            "sanitizer_version": sanitizer.SANITIZER_VERSION,
            "state": state,
            "created_at": clock.now(),
            "staff_id": staff.id if staff is not None else None,
            "ip_hash": origin.ip_hash,
            "ip_address": origin.ip_address,
            "user_agent": (origin.user_agent or "")[:USER_AGENT_LENGTH] or None,
        },
    ).scalar_one()
    if verdict.holds:
        db.session.execute(
            _INSERT_HOLD,
            [
                {
                    "comment_id": comment_id,
                    "rule": h.rule,
                    "detail": h.detail,
                    "matches": list(h.matches),
                }
                for h in verdict.holds
            ],
        )
    if state is CommentState.APPROVED:
        touch([publication.id])
    if state is not CommentState.PENDING:
        db.session.execute(
            _INSERT_DECISION,
            {
                "comment_id": comment_id,
                "moderator_id": staff.id if staff is not None else None,
                "from_state": CommentState.PENDING,
                "to_state": state,
                "note": (
                    "Posted by staff."
                    if staff is not None
                    else "Decided by the moderation rules when posted."
                ),
            },
        )
    db.session.execute(
        _INSERT_SPAM_SCORE,
        {
            "comment_id": comment_id,
            "probability": judged.score.probability,
            "words": list(judged.score.words),
        },
    )
    refused = any(h.rule == "blocked" for h in verdict.holds)
    if refused:
        sanctions.count_refusal(judged.sanctioned.blocking)
    return Posted(comment_id, state, refused)


@dataclass(frozen=True)
class Judgement:
    """What the rules make of a text, and what they read to decide it."""

    verdict: rules.Verdict
    score: spamscore.Score
    sanctioned: sanctions.InForce = field(default_factory=sanctions.InForce)


def _spam_verdict(
    result: spamscore.Score, learned: int, spam: spamscore.SpamSettings
) -> tuple[str | None, tuple[rules.Hold, ...]]:
    """(the sentence sending it to spam, or the hold) from the score, once it is trusted."""
    if learned < spam.min_decisions:
        return None, ()
    words = f" ({', '.join(result.words)})" if result.words else ""
    detail = f"Spam score {result.percent}%{words}"
    if spam.send_at is not None and result.percent >= spam.send_at:
        return f"{detail}; sent to spam from {spam.send_at}%.", ()
    if spam.hold_at is not None and result.percent >= spam.hold_at:
        return None, (rules.Hold("spam_score", f"{detail}; held from {spam.hold_at}%."),)
    return None, ()


def judgement(
    publication: Publication | PageState,
    *,
    body: str,
    text_hash: str,
    email: str | None,
    ip_hash: str | None,
    honeypot: bool = False,
    settings: rules.RuleSettings | None = None,
    today: date | None = None,
    address_key: str | None = None,
    duplicates: bool = True,
    spam: spamscore.SpamSettings | None = None,
) -> Judgement:
    """The moderation rules' verdict on a text, for a new comment or an edit (which is
    not compared with earlier texts: ``duplicates=False``): the site's rules, the
    author's sanctions, the topic's rules and the spam score."""
    settings = settings or rules.RuleSettings()
    with database.reading() as connection:
        known_author = _has_approved(connection, email)
        if known_author and settings.known_authors_confirmed_only:
            known_author = bool(address_key) and subscriptions.is_confirmed(
                connection, email or "", address_key or ""
            )
        duplicate = duplicates and _is_duplicate(connection, text_hash, email, ip_hash)
        sanctioned = (
            sanctions.in_force(connection, email, ip_hash, address_key, utcnow())
            if address_key
            else sanctions.InForce()
        )
        scored, learned = spamscore.score(connection, body)
        topic_holds = topics.holds_for(connection, publication.id, body)
    send_to_spam, score_holds = _spam_verdict(scored, learned, spam or spamscore.SpamSettings())
    verdict = rules.evaluate(
        rules.Submission(
            body=body,
            honeypot=honeypot,
            published=publication.published,
            premoderation=publication.premoderation,
            author_has_approved=known_author,
            duplicate=duplicate,
            today=today or utcnow().date(),
            blocked=sanctioned.blocked,
            author_held=sanctioned.held,
            spam=send_to_spam,
            extra=(*topic_holds, *score_holds),
        ),
        settings,
    )
    return Judgement(verdict, scored, sanctioned)


def judge(publication: Publication | PageState, **facts: Any) -> rules.Verdict:
    """The verdict alone (an edit keeps no score): see :func:`judgement`."""
    return judgement(publication, **facts).verdict


def submit(
    publication: Publication | PageState,
    *,
    name: str,
    body: str,
    email: str | None,
    parent_id: int | None,
    root_id: int | None,
    honeypot: str | None,
    notify_outcome: bool,
    notify_replies: bool,
    origin: Origin,
    settings: rules.RuleSettings,
    address_key: str,
    may_ask: Callable[[], bool],
    spam: spamscore.SpamSettings,
    staff: Moderator | None = None,
) -> Posted:
    """A reader's comment as every way in takes it (the form, the API, the embed): stored
    by :func:`post_comment`, with the mail it causes queued in the same transaction
    (``may_ask``: whether this client may cause another confirmation request)."""
    comment = post_comment(
        publication,
        name=name,
        email=email,
        body=body,
        parent_id=parent_id,
        root_id=root_id,
        honeypot=honeypot,
        origin=origin,
        settings=settings,
        address_key=address_key,
        staff=staff,
        spam=spam,
    )
    if comment.refused:  # a blocked author's post causes no mail at all
        return comment
    notices.comment_posted(  # in the same transaction: no comment, no mail
        comment.id,
        comment.state,
        root_id=root_id,
        email=email or None,
        notify_outcome=notify_outcome,
        notify_replies=notify_replies,
        may_ask=may_ask,
    )
    return comment


_KNOWN_AUTHOR = (
    select(Comment.id)
    .where(Comment.email == bindparam("email"), Comment.state == CommentState.APPROVED)
    .limit(1)
)
# A NULL email or address matches nothing, so one statement serves every case.
_DUPLICATE = (
    select(Comment.id)
    .where(
        Comment.body_hash == bindparam("text_hash"),
        Comment.created_at >= bindparam("since"),
        or_(Comment.email == bindparam("email"), Comment.ip_hash == bindparam("ip_hash")),
    )
    .limit(1)
)


def _has_approved(connection: Connection, email: str | None) -> bool:
    return bool(email) and connection.scalar(_KNOWN_AUTHOR, {"email": email}) is not None


def body_hash(body: str) -> str:
    """What the duplicate rule compares: a hash of the text as typed."""
    return hashlib.sha256(body.encode()).hexdigest()


def _is_duplicate(
    connection: Connection, text_hash: str, email: str | None, ip_hash: str | None
) -> bool:
    """Same text from the same email or address within ``DUPLICATE_WINDOW``."""
    if not (email or ip_hash):
        return False
    params = {
        "text_hash": text_hash,
        "since": utcnow() - DUPLICATE_WINDOW,
        "email": email or None,
        "ip_hash": ip_hash or None,
    }
    return connection.scalar(_DUPLICATE, params) is not None


def is_open(
    publication: Publication | PageState, settings: rules.RuleSettings, today: date
) -> bool:
    """Whether readers may comment: the publication's switch and the closing rule."""
    return publication.comments_open and not rules.comments_closed(
        publication.published, settings, today
    )


def rerender_all(batch_size: int = RERENDER_BATCH) -> int:
    """Re-render every stored comment with the current sanitizer; returns how many changed."""
    changed = 0
    last_id = 0
    while True:
        batch = list(
            db.session.scalars(
                select(Comment).where(Comment.id > last_id).order_by(Comment.id).limit(batch_size)
            )
        )
        if not batch:
            return changed
        for comment in batch:
            html = sanitizer.render(comment.body_text)
            if html != comment.body_html:
                comment.body_html = html
                touch([comment.publication_id])
                changed += 1
            comment.sanitizer_version = sanitizer.SANITIZER_VERSION
        last_id = batch[-1].id
        db.session.flush()


def withdraw(comment_id: int) -> bool:
    """Delete a comment its poster withdraws, only while it is pending (guarded in SQL)."""
    result = db.session.execute(
        delete(Comment).where(Comment.id == comment_id, Comment.state == CommentState.PENDING)
    )
    return result.rowcount == 1
