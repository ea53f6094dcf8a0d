"""Saving a publication from the desk: states and schedule, slugs and their old
addresses, revisions and conflicts, corrections. Every function takes the editor."""

from __future__ import annotations

import difflib
import enum
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..comments import sanitizer
from ..extensions import db
from ..models import (
    Byline,
    Moderator,
    Publication,
    PublicationState,
    PublicationType,
    Revision,
    SlugRedirect,
    Topic,
)
from ..publications import catalog, content, related, seeds

# The comment policy an editor picks: (comments open, pre-moderation).
COMMENT_POLICIES = {
    "open": "Open (the site's moderation rules)",
    "premoderated": "Open, every comment held for moderation",
    "closed": "Closed",
}
_POLICY_SWITCHES: dict[str, tuple[bool, bool | None]] = {
    "open": (True, None),
    "premoderated": (True, True),
    "closed": (False, None),
}


class Action(enum.Enum):
    """The desk's buttons."""

    DRAFT = "draft"
    PUBLISH = "publish"
    UNPUBLISH = "unpublish"


class Status(enum.Enum):
    """Where a publication stands, as the desk lists it."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"

    @property
    def title(self) -> str:
        return self.value.capitalize()


def status(publication: Publication, now: datetime) -> Status:
    """Draft, scheduled (published, its time still ahead), published or unpublished."""
    if publication.state is PublicationState.PUBLISHED:
        if publication.published_at is not None and publication.published_at > now:
            return Status.SCHEDULED
        return Status.PUBLISHED
    return Status(publication.state.value)


def has_been_public(publication: Publication, now: datetime) -> bool:
    """Whether readers could ever have seen it (published, or unpublished after its time)."""
    return (
        publication.state is not PublicationState.DRAFT
        and publication.published_at is not None
        and publication.published_at <= now
    )


@dataclass(frozen=True)
class Draft:
    """A publication's editable fields, as an editor typed them."""

    title: str
    slug: str = ""
    dek: str = ""
    summary: str = ""
    body: str = ""
    authors: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    published_at: datetime | None = None
    partner: str = ""
    source_note: str = ""
    figure_id: int | None = None
    figure_alt: str = ""
    figure_caption: str = ""
    comment_policy: str = "open"
    correction: str = ""

    @classmethod
    def of(cls, publication: Publication) -> Draft:
        """The fields a publication has now."""
        policy = next(
            (
                name
                for name, (is_open, premoderation) in _POLICY_SWITCHES.items()
                if (is_open, premoderation)
                == (publication.comments_open, publication.premoderation)
            ),
            "closed" if not publication.comments_open else "open",
        )
        return cls(
            title=publication.title,
            slug=publication.slug,
            dek=publication.dek or "",
            summary=publication.summary or "",
            body=publication.body_source,
            authors=tuple(a.name for a in publication.authors),
            types=tuple(t.name for t in publication.types),
            topics=tuple(t.name for t in publication.topics),
            published_at=publication.published_at,
            partner=publication.partner or "",
            source_note=publication.source_note or "",
            figure_id=publication.figure_id,
            figure_alt=publication.image_alt or "",
            figure_caption=publication.image_caption or "",
            comment_policy=policy,
            correction=publication.correction or "",
        )

    def snapshot(self) -> dict[str, Any]:
        """The fields as a revision stores them (JSON)."""
        values = asdict(self)
        for key in ("authors", "types", "topics"):
            values[key] = list(values[key])
        values["published_at"] = self.published_at.isoformat() if self.published_at else None
        return values

    @classmethod
    def from_snapshot(cls, values: dict[str, Any]) -> Draft:
        known = {f.name for f in fields(cls)}
        kept = {k: v for k, v in values.items() if k in known}
        for key in ("authors", "types", "topics"):
            kept[key] = tuple(kept.get(key) or ())
        if kept.get("published_at"):
            kept["published_at"] = datetime.fromisoformat(kept["published_at"])
        return cls(**kept)


# What changes the article readers see, for the "Updated" date.
CONTENT_FIELDS = (
    "title", "dek", "summary", "body", "authors", "figure_id", "figure_alt", "figure_caption",
)  # fmt: skip


class DeskError(Exception):
    """A save the desk refuses, with a message for the editor."""


class NotAllowed(DeskError):
    """The acting person is not an editor."""


class Conflict(DeskError):
    """Someone else saved the publication after this editor opened it."""


@dataclass(frozen=True)
class Saved:
    """What a save did."""

    publication: Publication
    changed: tuple[str, ...]
    status: Status
    lists: int  # related lists rewritten


def _require_editor(actor: Moderator) -> None:
    if not actor.can_edit:
        raise NotAllowed("Only editors and admins can change publications.")


def save(
    publication: Publication | None,
    draft: Draft,
    action: Action,
    editor: Moderator,
    *,
    now: datetime,
    started_from: int | None = None,
    note: str | None = None,
) -> Saved:
    """Create or update a publication, as ``action`` says, and keep a revision.

    ``started_from`` is the revision the editor opened: if another save came since, the
    publication is left alone and :class:`Conflict` says so. Publishing with a time
    ahead schedules it; without one publishes now. Once a publication has been public,
    changing its slug keeps the old address answering (a 301), and changing what
    readers read sets the "Updated" time.
    """
    _require_editor(editor)
    created = publication is None
    if publication is None:
        publication = Publication(slug="", title="", revision=0)
        db.session.add(publication)
    elif started_from is not None and started_from != publication.revision:
        raise Conflict(_conflict_message(publication))
    was_public = not created and has_been_public(publication, now)
    before = None if created else Draft.of(publication)
    state_before = None if created else publication.state

    slug = (
        draft.slug
        or publication.slug  # an emptied address keeps the one it has
        or seeds.slugify(draft.title)[: Publication.__table__.c.slug.type.length]
    )
    _check_slug(slug, publication)
    if was_public and publication.slug and slug != publication.slug:
        db.session.merge(SlugRedirect(slug=publication.slug, publication_id=publication.id))
    db.session.execute(delete(SlugRedirect).where(SlugRedirect.slug == slug))

    published_at = draft.published_at
    if action is Action.PUBLISH and published_at is None:
        published_at = now
    publication.slug = slug
    publication.title = draft.title
    publication.dek = draft.dek or None
    publication.summary = draft.summary or draft.dek
    if publication.body_source != draft.body or created:
        publication.body_source = draft.body
        publication.body_html = sanitizer.render_article(draft.body)
    publication.published_at = published_at
    publication.partner = draft.partner or None
    publication.source_note = draft.source_note or None
    publication.figure_id = draft.figure_id
    publication.image_alt = draft.figure_alt or None
    publication.image_caption = draft.figure_caption or None
    publication.comments_open, publication.premoderation = _POLICY_SWITCHES[draft.comment_policy]
    publication.correction = draft.correction or None
    publication.state = {
        Action.DRAFT: PublicationState.DRAFT,
        Action.PUBLISH: PublicationState.PUBLISHED,
        Action.UNPUBLISH: PublicationState.UNPUBLISHED,
    }[action]
    publication.types = [content.named(PublicationType, n) for n in draft.types]
    publication.topics = [content.named(Topic, n) for n in draft.topics]
    if [a.name for a in publication.authors] != list(draft.authors):
        publication.bylines = [
            Byline(author=content.author(name), position=i) for i, name in enumerate(draft.authors)
        ]

    after = Draft.of(publication)
    changed = tuple(
        f.name
        for f in fields(Draft)
        if before is None or getattr(before, f.name) != getattr(after, f.name)
    ) + (("state",) if publication.state is not state_before else ())
    if was_public and any(name in CONTENT_FIELDS for name in changed):
        publication.corrected_at = now
    db.session.flush()
    _bump_revision(publication)
    db.session.add(
        Revision(
            publication_id=publication.id,
            number=publication.revision,
            editor_id=editor.id,
            created_at=now,
            changed=list(changed),
            note=note,
            fields={**after.snapshot(), "state": publication.state.value},
        )
    )
    catalog.touch([publication.id])
    lists = related.refresh_for(publication)
    return Saved(publication, changed, status(publication, now), lists)


def _bump_revision(publication: Publication) -> None:
    """Count the save, guarded in SQL: of two saves from the same revision, one wins."""
    current = publication.revision
    result = db.session.execute(
        update(Publication)
        .where(Publication.id == publication.id, Publication.revision == current)
        .values(revision=current + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(_conflict_message(publication))
    set_committed_value(publication, "revision", current + 1)


def _conflict_message(publication: Publication) -> str:
    last = db.session.scalar(
        select(Revision)
        .where(Revision.publication_id == publication.id)
        .order_by(Revision.number.desc())
    )
    who = last.editor.username if last and last.editor else "someone"
    return (
        f"Not saved: {who} saved this publication while you were editing it. "
        "Your text is below, unchanged: compare it with the current version, "
        "then save again."
    )


def _check_slug(slug: str, publication: Publication) -> None:
    if not slug or not catalog.is_slug(slug):
        raise DeskError("Give the publication a title or an address made of letters and digits.")
    taken = db.session.scalar(
        select(Publication.id).where(Publication.slug == slug, Publication.id != publication.id)
    )
    if taken is not None:
        raise DeskError(f"The address “{slug}” belongs to another publication; choose another.")
    moved = db.session.scalar(select(SlugRedirect.publication_id).where(SlugRedirect.slug == slug))
    if moved is not None and moved != publication.id:
        raise DeskError(
            f"The address “{slug}” still leads readers to another publication; choose another."
        )


def revisions(publication: Publication) -> list[Revision]:
    """A publication's revisions, newest first."""
    return list(
        db.session.scalars(
            select(Revision)
            .where(Revision.publication_id == publication.id)
            .order_by(Revision.number.desc())
        )
    )


def revision(publication: Publication, number: int) -> Revision | None:
    return db.session.scalar(
        select(Revision).where(Revision.publication_id == publication.id, Revision.number == number)
    )


def restore(publication: Publication, number: int, editor: Moderator, *, now: datetime) -> Saved:
    """Bring back a revision's fields as a new save; the state stays as it is now."""
    _require_editor(editor)
    old = revision(publication, number)
    if old is None:
        raise DeskError("There is no such revision.")
    action = {
        PublicationState.DRAFT: Action.DRAFT,
        PublicationState.PUBLISHED: Action.PUBLISH,
        PublicationState.UNPUBLISHED: Action.UNPUBLISH,
    }[publication.state]
    draft = Draft.from_snapshot(old.fields)
    return save(
        publication,
        draft,
        action,
        editor,
        now=now,
        started_from=publication.revision,
        note=f"restored revision {number}",
    )


@dataclass(frozen=True)
class Change:
    """One field that differs between a revision and the current publication."""

    field: str
    lines: list[tuple[str, str]]  # (" ", "-" or "+", line of text)


FIELD_LABELS = {
    "title": "Title",
    "slug": "Address",
    "dek": "Dek",
    "summary": "Summary",
    "body": "Body",
    "authors": "Authors",
    "types": "Types",
    "topics": "Topics",
    "published_at": "Publication time",
    "partner": "Partner",
    "source_note": "Source note",
    "figure_id": "Figure",
    "figure_alt": "Figure alternative text",
    "figure_caption": "Figure caption",
    "comment_policy": "Comments",
    "correction": "Correction note",
}


def _lines(value: Any) -> list[str]:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, datetime):
        return [value.isoformat()]
    return str(value or "").split("\n")


def compare(old: Draft, publication: Publication) -> list[Change]:
    """Each field where an old revision differs from the publication now, line by line
    (``-`` only in the revision, ``+`` only now)."""
    current = Draft.of(publication)
    changes = []
    for f in fields(Draft):
        before, after = getattr(old, f.name), getattr(current, f.name)
        if before != after:
            diff = difflib.ndiff(_lines(before), _lines(after))
            lines = [(line[0], line[2:]) for line in diff if line[:1] in " -+"]
            changes.append(Change(FIELD_LABELS[f.name], lines))
    return changes
