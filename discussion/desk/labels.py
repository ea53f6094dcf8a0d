"""Keeping the desk's vocabulary tidy: renaming and merging types and topics (admins;
their old filter addresses answer 301), and authors' bios (editors)."""

from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update

from ..discovery import fulltext
from ..extensions import db
from ..models import (
    Author,
    Byline,
    LabelRedirect,
    Moderator,
    PublicationType,
    Topic,
    publication_topics,
    publication_types,
)
from ..publications import catalog, seeds
from .editing import DeskError, NotAllowed

KINDS = {
    "type": (PublicationType, publication_types, publication_types.c.type_id),
    "topic": (Topic, publication_topics, publication_topics.c.topic_id),
}
NAME_LENGTH = Topic.__table__.c.name.type.length
BIO_LENGTH = 2000


def _admin(actor: Moderator) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only admins rename and merge types and topics.")


def with_counts(kind: str) -> list[tuple[PublicationType | Topic, int]]:
    """Every type or topic, by name, with how many publications carry it."""
    model, _, column = KINDS[kind]
    counts = dict(db.session.execute(select(column, func.count()).group_by(column)).all())
    labels = db.session.scalars(select(model).order_by(model.name))
    return [(label, counts.get(label.id, 0)) for label in labels]


def _publications_of(kind: str, label_id: int) -> list[int]:
    _, table, column = KINDS[kind]
    return list(db.session.scalars(select(table.c.publication_id).where(column == label_id)))


def _redirect(kind: str, old_slug: str, new_slug: str) -> None:
    """Old filter addresses lead to the new slug, and earlier redirects follow it."""
    db.session.execute(
        update(LabelRedirect)
        .where(LabelRedirect.kind == kind, LabelRedirect.target_slug == old_slug)
        .values(target_slug=new_slug)
    )
    db.session.execute(
        delete(LabelRedirect).where(LabelRedirect.kind == kind, LabelRedirect.slug == new_slug)
    )
    if old_slug != new_slug:
        db.session.merge(LabelRedirect(kind=kind, slug=old_slug, target_slug=new_slug))


def rename(kind: str, label_id: int, name: str, actor: Moderator) -> PublicationType | Topic:
    """Give a type or topic a new name (and slug); its old filter address answers 301."""
    _admin(actor)
    model = KINDS[kind][0]
    label = db.get_or_404(model, label_id)
    name = " ".join(name.split())
    if not name or len(name) > NAME_LENGTH:
        raise DeskError(f"A name is 1 to {NAME_LENGTH} characters.")
    slug = seeds.slugify(name)
    clash = db.session.scalar(
        select(model).where(
            (func.lower(model.name) == name.lower()) | (model.slug == slug), model.id != label.id
        )
    )
    if clash is not None:
        raise DeskError(f"“{clash.name}” exists already: merge into it instead.")
    old_slug = label.slug
    label.name, label.slug = name, slug
    _redirect(kind, old_slug, slug)
    catalog.touch(_publications_of(kind, label.id))
    return label


def merge(kind: str, label_id: int, into_id: int, actor: Moderator) -> PublicationType | Topic:
    """Move every publication of one type or topic to another and remove the first; its
    filter address answers 301 to the other's."""
    _admin(actor)
    model, table, column = KINDS[kind]
    label, into = db.get_or_404(model, label_id), db.get_or_404(model, into_id)
    if label.id == into.id:
        raise DeskError("Choose another one to merge into.")
    moved = _publications_of(kind, label.id)
    already = set(_publications_of(kind, into.id))
    key = column.key
    rows = [{"publication_id": p, key: into.id} for p in moved if p not in already]
    if rows:
        db.session.execute(insert(table), rows)
    db.session.execute(delete(table).where(column == label.id))
    _redirect(kind, label.slug, into.slug)
    db.session.delete(label)
    fulltext.reindex(db.session.connection(), moved)
    catalog.touch(moved)
    return into


def authors() -> list[tuple[Author, int]]:
    """Every author, by name, with how many publications they are on."""
    counts = dict(
        db.session.execute(select(Byline.author_id, func.count()).group_by(Byline.author_id)).all()
    )
    return [
        (a, counts.get(a.id, 0)) for a in db.session.scalars(select(Author).order_by(Author.name))
    ]


def set_bio(author: Author, bio: str, actor: Moderator) -> None:
    """An author's bio, the line printed under their articles."""
    if not actor.can_edit:
        raise NotAllowed("Only editors change authors' bios.")
    bio = bio.strip()
    if len(bio) > BIO_LENGTH:
        raise DeskError(f"A bio is at most {BIO_LENGTH} characters.")
    author.bio = bio or None
    db.session.flush()
    catalog.touch(
        db.session.scalars(select(Byline.publication_id).where(Byline.author_id == author.id)).all()
    )
