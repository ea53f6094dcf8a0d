"""Database models (SQLAlchemy 2.0, typed)."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db


def utcnow() -> datetime:
    """Timezone-aware now, for column defaults."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """A time stored in UTC and read back timezone-aware on every database (SQLite keeps
    no zone: its values come back naive, and would not compare with aware ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class CommentState(enum.Enum):
    """Where a comment stands in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SPAM = "spam"


# One database type for the states, shared by comments and decisions (PostgreSQL: ENUM).
COMMENT_STATE = db.Enum(
    CommentState, name="comment_state", values_callable=lambda e: [m.value for m in e]
)

# Each label's publications are read from an index alone (a filtered listing reads no row).
publication_types = Table(
    "publication_types",
    db.metadata,
    Column("publication_id", ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True),
    Column("type_id", ForeignKey("types.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_publication_types_type_publication", "type_id", "publication_id"),
)

publication_topics = Table(
    "publication_topics",
    db.metadata,
    Column("publication_id", ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_publication_topics_topic_publication", "topic_id", "publication_id"),
)


class PublicationType(db.Model):
    """A kind of publication ("Analysis", "Question and Answer")."""

    __tablename__ = "types"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)


class Topic(db.Model):
    """A subject tag ("Global Policy")."""

    __tablename__ = "topics"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)


class LabelRedirect(db.Model):
    """A type's or topic's slug before a rename or merge: filter URLs with it answer 301."""

    __tablename__ = "label_redirects"
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "type" or "topic"
    slug: Mapped[str] = mapped_column(String(120), primary_key=True)
    target_slug: Mapped[str] = mapped_column(String(120))


class Author(db.Model):
    """A writer; the bio is the line printed under the article."""

    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)  # /authors/<slug>
    bio: Mapped[str | None] = mapped_column(Text)


class Byline(db.Model):
    """An author's place on a publication's byline."""

    __tablename__ = "bylines"
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), primary_key=True, index=True)
    position: Mapped[int]
    author: Mapped[Author] = relationship(lazy="joined")


class MediaFile(db.Model):
    """An uploaded image, re-encoded and stored in a few widths under a content hash."""

    __tablename__ = "media"
    id: Mapped[int] = mapped_column(primary_key=True)
    stem: Mapped[str] = mapped_column(String(40), unique=True)  # content hash
    extension: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int]
    height: Mapped[int]
    widths: Mapped[list[int]] = mapped_column(JSON, default=list)
    original_name: Mapped[str] = mapped_column(String(255), default="")
    alt: Mapped[str] = mapped_column(String(300), default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def file_name(self, width: int) -> str:
        """The stored file of one width."""
        return f"{self.stem}-{width}.{self.extension}"

    @property
    def largest(self) -> str:
        return self.file_name(max(self.widths))

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


class PublicationState(enum.Enum):
    """Where a publication stands on the desk. "Scheduled" is not a state of its own: a
    published publication whose ``published_at`` is still ahead."""

    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


class Publication(db.Model):
    """An article or a publication card, as a reader sees it."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("source", "source_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    dek: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    body_source: Mapped[str] = mapped_column(Text, default="")  # Markdown, as the editor typed
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered once, at save
    state: Mapped[PublicationState] = mapped_column(
        db.Enum(
            PublicationState,
            name="publication_state",
            values_callable=lambda e: [m.value for m in e],
        ),
        default=PublicationState.DRAFT,
    )
    # When readers may see it (UTC); None for a draft never given a time.
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    corrected_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    correction: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=0, server_default="0")  # saves so far
    partner: Mapped[str | None] = mapped_column(String(200))
    source_note: Mapped[str | None] = mapped_column(Text)
    image_file: Mapped[str | None] = mapped_column(String(300))
    image_alt: Mapped[str | None] = mapped_column(String(300))
    image_caption: Mapped[str | None] = mapped_column(Text)
    figure_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"))  # an uploaded image
    invitation: Mapped[str | None] = mapped_column(Text)
    comments_open: Mapped[bool] = mapped_column(default=True)
    premoderation: Mapped[bool | None] = mapped_column()  # None: the site-wide rule applies
    # Bumped (in the same transaction) by every change that alters the public page, so
    # cached pages keyed by it are never stale, in any process.
    cache_version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
    # Where an imported publication came from (discussion/archive): importing again finds it.
    source: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(300))

    # Loaded on access; lists of cards ask for them up front (publications.CARD_LOADING).
    bylines: Mapped[list[Byline]] = relationship(
        order_by=Byline.position, cascade="all, delete-orphan"
    )
    types: Mapped[list[PublicationType]] = relationship(
        secondary=publication_types, order_by=PublicationType.name
    )
    topics: Mapped[list[Topic]] = relationship(secondary=publication_topics, order_by=Topic.name)
    figure: Mapped[MediaFile | None] = relationship()

    @property
    def authors(self) -> list[Author]:
        """Authors in byline order."""
        return [b.author for b in self.bylines]

    @property
    def published(self) -> date:
        """The day of publication (UTC), for rules and ranking; today for an undated draft."""
        return (self.published_at or utcnow()).astimezone(UTC).date()

    def is_public(self, now: datetime) -> bool:
        """Whether readers can see it at ``now``."""
        return (
            self.state is PublicationState.PUBLISHED
            and self.published_at is not None
            and self.published_at <= now
        )


class SlugRedirect(db.Model):
    """A slug a public publication had before: its old URL answers 301 to the new one."""

    __tablename__ = "slug_redirects"
    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True
    )


class Revision(db.Model):
    """A publication as one save left it: who, when, what changed, and every field."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("publication_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))
    number: Mapped[int]
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    changed: Mapped[list[str]] = mapped_column(JSON, default=list)  # field names
    note: Mapped[str | None] = mapped_column(String(200))  # e.g. "restored revision 3"
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    editor: Mapped[Moderator | None] = relationship(lazy="joined")


class PublicationTerm(db.Model):
    """One index term of a publication (publications/terms.py): how often it occurs, and
    its TF-IDF weight when indexed (to find candidates; lists are scored afresh)."""

    __tablename__ = "publication_terms"
    __table_args__ = (Index("ix_publication_terms_term_weight", "term", "weight"),)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int]
    weight: Mapped[float] = mapped_column(Float)


class TermFrequency(db.Model):
    """How many publications contain a term."""

    __tablename__ = "term_frequencies"
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    documents: Mapped[int]


class PublicationSearch(db.Model):
    """A publication's searchable text (discovery/fulltext.py keeps it in step with every
    change). Indexed by SQLite FTS5 (``publication_fts``) or, on PostgreSQL, by the
    weighted ``document`` tsvector the database generates from these columns."""

    __tablename__ = "publication_search"
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    title: Mapped[str] = mapped_column(Text)
    dek: Mapped[str] = mapped_column(Text)  # the dek and the summary
    body: Mapped[str] = mapped_column(Text)  # plain text
    names: Mapped[str] = mapped_column(Text)  # authors and topics


class Pin(db.Model):
    """An editor's choice of related publication, listed before computed ones."""

    __tablename__ = "pins"
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))


class Exclusion(db.Model):
    """An editor's choice never to list a publication as related to another."""

    __tablename__ = "related_exclusions"
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    excluded_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )


class RelatedPublication(db.Model):
    """A stored related-publications entry, with why it is related."""

    __tablename__ = "related_publications"
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    related_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float]
    pinned: Mapped[bool] = mapped_column(default=False)
    shared_topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    shared_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    terms: Mapped[list[str]] = mapped_column(JSON, default=list)

    related: Mapped[Publication] = relationship(foreign_keys=[related_id])


class Comment(db.Model):
    """A reader's comment: the text as typed beside the HTML rendered from it."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_thread", "publication_id", "state", "created_at"),
        Index("ix_comments_state_id", "state", "id"),  # queues, keyset by id
        Index("ix_comments_state_reports", "state", "open_reports"),  # the Reported tab
        Index("ix_comments_email_state", "email", "state"),  # author history
        UniqueConstraint("source", "source_id"),
        Index("ix_comments_publication_state_id", "publication_id", "state", "id"),  # its queue
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    root_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )  # the top-level comment of the thread, so a page of threads loads in one query
    name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str | None] = mapped_column(String(254))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # duplicate rule
    sanitizer_version: Mapped[int]
    state: Mapped[CommentState] = mapped_column(COMMENT_STATE, default=CommentState.PENDING)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Abuse rules use a keyed hash of the address; the raw address and user agent are
    # kept for a short time only (see the privacy task).
    ip_hash: Mapped[str | None] = mapped_column(String(64))  # no index: see migration 0006
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    open_reports: Mapped[int] = mapped_column(default=0)
    hidden: Mapped[bool] = mapped_column(default=False)  # hidden by reports until a decision
    # The conversation (comments/editing, picks, recommending): see the section at the end.
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # last edit by its poster
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # by its poster: a stub
    featured_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # an editors' pick
    featured_by: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    recommendations: Mapped[int] = mapped_column(default=0, server_default="0")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))  # posted by staff
    # An imported comment (discussion/archive): its author's web address, where it came from.
    website: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(300))

    publication: Mapped[Publication] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    holds: Mapped[list[Hold]] = relationship(cascade="all, delete-orphan", order_by="Hold.id")


class Role(enum.Enum):
    """What a signed-in member of staff may do."""

    MODERATOR = "moderator"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def title(self) -> str:
        return self.value.capitalize()


class MailPreference(enum.Enum):
    """How a member of staff hears about held comments."""

    EACH = "each"  # a mail for every held comment
    DIGEST = "digest"  # a digest every ``digest_hours`` listing pending comments
    NONE = "none"

    @property
    def title(self) -> str:
        return MAIL_PREFERENCE_TITLES[self]


MAIL_PREFERENCE_TITLES = {
    MailPreference.EACH: "A mail for every held comment",
    MailPreference.DIGEST: "A digest of pending comments every few hours",
    MailPreference.NONE: "No mail",
}


class Moderator(UserMixin, db.Model):
    """A member of staff: moderators decide on comments, editors publish, admins do both
    and also edit the rules and accounts."""

    __tablename__ = "moderators"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        db.Enum(Role, name="moderator_role", values_callable=lambda e: [m.value for m in e]),
        default=Role.MODERATOR,
    )
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # Mail (discussion/mail): where alerts go and how many the person wants.
    email: Mapped[str | None] = mapped_column(String(254))
    mail_preference: Mapped[MailPreference] = mapped_column(
        db.Enum(
            MailPreference,
            name="mail_preference",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=16,
        ),
        default=MailPreference.EACH,
        server_default=MailPreference.EACH.value,
    )
    digest_hours: Mapped[int] = mapped_column(default=4, server_default="4")
    digest_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot sign in
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def can_moderate(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def can_edit(self) -> bool:
        return self.role in (Role.EDITOR, Role.ADMIN)


class Hold(db.Model):
    """One rule that held (or rejected) a comment, and what it matched."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    rule: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)
    matches: Mapped[list[str]] = mapped_column(JSON, default=list)


class Decision(db.Model):
    """A change of a comment's state: who, when, from, to, why."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))  # None: rules
    from_state: Mapped[CommentState] = mapped_column(COMMENT_STATE)
    to_state: Mapped[CommentState] = mapped_column(COMMENT_STATE)
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("decisions.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    moderator: Mapped[Moderator | None] = relationship(lazy="joined")


class Report(db.Model):
    """A reader's report of an approved comment; one per reader per comment."""

    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter: Mapped[str] = mapped_column(String(64))  # keyed hash of the reader's session
    address: Mapped[str | None] = mapped_column(String(64))  # keyed hash of their address
    reason: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    resolved: Mapped[bool] = mapped_column(default=False)


class Setting(db.Model):
    """An admin's change to a moderation rule; absent keys take the configured default."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


# --- mail (discussion/mail) ----------------------------------------------------------------


class MailStatus(enum.Enum):
    """Where a mail of the outbox stands."""

    QUEUED = "queued"  # due at ``due_at`` (again, after a temporary failure)
    SENT = "sent"
    FAILED = "failed"  # refused for good (5xx) or given up after the retry period
    DROPPED = "dropped"  # not sent on purpose: unsubscribed, unconfirmed, over a cap


MAIL_STATUS = db.Enum(
    MailStatus,
    name="mail_status",
    values_callable=lambda e: [m.value for m in e],
    native_enum=False,
    length=16,
)


class OutboxMail(db.Model):
    """One mail to send, written in the same transaction as the event that causes it.

    What it says is rendered when it is sent, from ``kind`` and ``payload``; a worker
    claims due rows (``locked_until``), sends them and records the outcome.
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index("ix_mail_outbox_status_due", "status", "due_at"),
        Index("ix_mail_outbox_recipient_sent", "recipient", "sent_at"),
        Index("ix_mail_outbox_batch", "batch_key", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(254))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Notices that gather (replies to one thread for one address) share a key.
    batch_key: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[MailStatus] = mapped_column(MAIL_STATUS, default=MailStatus.QUEUED)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class MailAddress(db.Model):
    """A reader's address as the mail feature knows it: by keyed hash only.

    Confirmed once (double opt-in), remembered, so later opt-ins do not ask again.
    """

    __tablename__ = "mail_addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # stop all
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class MailSubscription(db.Model):
    """A reader's wish, given with a comment: its outcome, replies in its thread."""

    __tablename__ = "mail_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(
        ForeignKey("mail_addresses.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    root_id: Mapped[int] = mapped_column(index=True)  # the thread (its top-level comment)
    email: Mapped[str] = mapped_column(String(254))  # where the notices go
    outcome: Mapped[bool] = mapped_column(default=False)
    replies: Mapped[bool] = mapped_column(default=False)
    outcome_sent: Mapped[CommentState | None] = mapped_column(COMMENT_STATE)  # last told
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # this thread
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    address: Mapped[MailAddress] = relationship()


class JobRun(db.Model):
    """When a periodic job last ran: a worker claims a run by moving ``last_run_at``
    forward in one guarded UPDATE, so several workers run each job once."""

    __tablename__ = "job_runs"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- the conversation (comments/editing, comments/recommending) ----------------------------


class CommentEdit(db.Model):
    """A comment's text before one of its poster's edits: the history moderators see."""

    __tablename__ = "comment_edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    body_text: Mapped[str] = mapped_column(Text)  # as it read until ``replaced_at``
    body_html: Mapped[str] = mapped_column(Text)
    state: Mapped[CommentState] = mapped_column(COMMENT_STATE)  # its state before the edit
    replaced_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Recommendation(db.Model):
    """One reader's recommendation of a comment: one per visitor, a few per address."""

    __tablename__ = "recommendations"
    __table_args__ = (
        UniqueConstraint("comment_id", "visitor"),
        Index("ix_recommendations_comment_address", "comment_id", "address"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    visitor: Mapped[str] = mapped_column(String(64))  # keyed hash of the visitor cookie's id
    address: Mapped[str] = mapped_column(String(64))  # keyed hash of the client address
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# --- archive (discussion/archive) ------------------------------------------------------------


class LegacyAddress(db.Model):
    """An imported publication's address on the old site (a path, with ``?p=…`` kept):
    a request for it answers 301 to the publication."""

    __tablename__ = "legacy_addresses"
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True
    )


class Erasure(db.Model):
    """An admin's erasure of a person's comments at their request: who, when, how, how many.

    The address is kept only as a keyed hash, so the record finds nothing by the address."""

    __tablename__ = "erasures"
    id: Mapped[int] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    admin_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    mode: Mapped[str] = mapped_column(String(16))  # "redact" (text kept as a notice) or "delete"
    comments: Mapped[int]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    admin: Mapped[Moderator | None] = relationship()


# --- Open interfaces: API tokens and embedded pages (discussion/api, discussion/embed) ---


class TokenScope(enum.Enum):
    """What an API token may do: read the moderation queue, or also decide."""

    READ = "read"
    DECIDE = "decide"

    @property
    def title(self) -> str:
        return "Read only" if self is TokenScope.READ else "Read and decide"


class ApiToken(db.Model):
    """A member of staff's token for newsroom tools (``Authorization: Bearer …``): only a
    hash of it is stored; the token itself is shown once, when it is created."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int] = mapped_column(
        ForeignKey("moderators.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))  # what it is for: "Newsletter desk"
    scope: Mapped[TokenScope] = mapped_column(
        db.Enum(
            TokenScope,
            name="token_scope",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=8,
        )
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token
    prefix: Mapped[str] = mapped_column(String(16))  # its first characters, to tell them apart
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    moderator: Mapped[Moderator] = relationship()


class PublicationUrl(db.Model):
    """A page on one of the publisher's other sites whose comments are a publication's:
    the embed finds the publication by the page's canonical address."""

    __tablename__ = "publication_urls"
    id: Mapped[int] = mapped_column(primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the address
    url: Mapped[str] = mapped_column(Text)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


# --- moderation at speed (discussion/moderation) ---------------------------------------------


class CommentCount(db.Model):
    """How many comments a queue tab holds (a state, "reported" or "all"), kept in step by
    database triggers on ``comments`` (migration 0014) and spread over a few rows
    (``slot``: the comment id modulo 16) so concurrent writers rarely wait on one row."""

    __tablename__ = "comment_counts"
    slot: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int]


class PublicationCommentCount(db.Model):
    """The same counts per publication (the queue's publication filter and its menu)."""

    __tablename__ = "comment_counts_by_publication"
    __table_args__ = (Index("ix_comment_counts_by_publication_status_n", "status", "n"),)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int]


class SanctionKind(enum.Enum):
    """What a sanction names: an author's email or the address they post from, both kept
    as keyed hashes only."""

    EMAIL = "email"
    ADDRESS = "address"


class SanctionAction(enum.Enum):
    """What a sanction does to that author's next comments."""

    BLOCK = "block"  # refused with the same words as any held comment, recorded
    PREMODERATE = "premoderate"  # always held for a moderator


class Sanction(db.Model):
    """A moderator's block or pre-moderation of one author, until a time or for good."""

    __tablename__ = "sanctions"
    __table_args__ = (Index("ix_sanctions_key", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[SanctionKind] = mapped_column(
        db.Enum(
            SanctionKind,
            name="sanction_kind",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=16,
        )
    )
    key: Mapped[str] = mapped_column(String(64))  # keyed hash of the email or address
    action: Mapped[SanctionAction] = mapped_column(
        db.Enum(
            SanctionAction,
            name="sanction_action",
            values_callable=lambda e: [m.value for m in e],
            native_enum=False,
            length=16,
        )
    )
    until: Mapped[datetime | None] = mapped_column(UtcDateTime)  # None: for good
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="SET NULL")
    )  # the comment it was imposed from
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    refused: Mapped[int] = mapped_column(default=0, server_default="0")  # posts it stopped

    moderator: Mapped[Moderator | None] = relationship(foreign_keys=[moderator_id])

    def active(self, now: datetime) -> bool:
        return self.lifted_at is None and (self.until is None or self.until > now)


class AuthorNote(db.Model):
    """A moderator's note on an author (by email or address, as keyed hashes)."""

    __tablename__ = "author_notes"
    __table_args__ = (Index("ix_author_notes_key", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("moderators.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    moderator: Mapped[Moderator | None] = relationship()


class SpamToken(db.Model):
    """The spam score's model: in how many learned comments a word (or "host:…") occurs,
    spam and not spam. The row ``" documents"`` counts the comments themselves."""

    __tablename__ = "spam_tokens"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    spam: Mapped[int] = mapped_column(default=0)
    ham: Mapped[int] = mapped_column(default=0)


class SpamLabel(db.Model):
    """What the spam score learned from one comment (its latest moderator decision)."""

    __tablename__ = "spam_labels"
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    spam: Mapped[bool]


class SpamScore(db.Model):
    """The spam score a comment got when it was posted, and the words behind it."""

    __tablename__ = "spam_scores"
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True
    )
    probability: Mapped[float] = mapped_column(Float)
    words: Mapped[list[str]] = mapped_column(JSON, default=list)


class TopicRule(db.Model):
    """Stricter moderation for the publications of one topic: hold every comment, or an
    extra list of suspect words."""

    __tablename__ = "topic_rules"
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True
    )
    hold_all: Mapped[bool] = mapped_column(default=False)
    suspect_words: Mapped[list[str]] = mapped_column(JSON, default=list)

    topic: Mapped[Topic] = relationship()
