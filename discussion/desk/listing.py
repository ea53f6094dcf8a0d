"""The desk's list: every publication in any state, searchable and filtered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, select

from ..extensions import db
from ..models import (
    Publication,
    PublicationState,
    PublicationType,
    Topic,
    publication_topics,
    publication_types,
)
from .editing import Status


@dataclass(frozen=True)
class DeskQuery:
    """What an editor is looking for."""

    search: str = ""
    status: Status | None = None
    type_id: int | None = None
    topic_id: int | None = None


def _status_condition(status: Status, now: datetime) -> ColumnElement[bool]:
    published = Publication.state == PublicationState.PUBLISHED
    if status is Status.SCHEDULED:
        return published & (Publication.published_at > now)
    if status is Status.PUBLISHED:
        return published & (Publication.published_at <= now)
    return Publication.state == PublicationState(status.value)


def page(query: DeskQuery, *, now: datetime, page: int, per_page: int) -> Pagination:
    """A page of publications, the most recently changed first."""
    stmt = select(Publication)
    if query.search:
        escaped = query.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Publication.title.ilike(f"%{escaped}%", escape="\\"))
    if query.status is not None:
        stmt = stmt.where(_status_condition(query.status, now))
    if query.type_id is not None:
        stmt = stmt.join(publication_types).where(publication_types.c.type_id == query.type_id)
    if query.topic_id is not None:
        stmt = stmt.join(publication_topics).where(publication_topics.c.topic_id == query.topic_id)
    stmt = stmt.order_by(Publication.updated_at.desc(), Publication.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, max_per_page=per_page, error_out=False)


def types() -> list[PublicationType]:
    return list(db.session.scalars(select(PublicationType).order_by(PublicationType.name)))


def topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.name)))
