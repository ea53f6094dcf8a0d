"""A reader's search: public publications matching a query, best first (or newest),
narrowed by type, topic and dates, a page at a time, each with a highlighted passage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape
from sqlalchemy import Select, select

from ..extensions import db
from ..models import Publication
from ..publications import catalog
from ..web import clock
from . import fulltext, spelling

PER_PAGE = 10
MAX_PAGE = 50  # deeper pages cost more and help nobody: narrow the search instead


@dataclass(frozen=True)
class Narrowing:
    """What a search is narrowed to, besides its words."""

    filters: catalog.Filters
    since: date | None = None
    until: date | None = None
    newest_first: bool = False

    @property
    def narrowed(self) -> bool:
        return bool(self.filters.type or self.filters.topic or self.since or self.until)


@dataclass(frozen=True)
class Result:
    publication: Publication
    passage: Markup  # the words found in <mark>; empty when only the title matched


@dataclass(frozen=True)
class Results:
    results: list[Result]
    page: int
    has_next: bool


def highlighted(passage: str) -> Markup:
    """A passage from the index, escaped, with the words found marked."""
    return Markup(
        str(escape(passage))
        .replace(fulltext.MARK_START, "<mark>")
        .replace(fulltext.MARK_END, "</mark>")
    )


def search(query: fulltext.Query, narrowing: Narrowing, page: int) -> Results:
    """One page of results (``PER_PAGE``) for a query that has words to look for."""
    now = clock.now()

    def narrow(stmt: Select) -> Select:
        stmt = catalog.narrowed(stmt.where(catalog.public(now)), narrowing.filters)
        if narrowing.since is not None:
            stmt = stmt.where(Publication.published_at >= clock.start_of_day(narrowing.since))
        if narrowing.until is not None:
            end = clock.start_of_day(narrowing.until + timedelta(days=1))
            stmt = stmt.where(Publication.published_at < end)
        return stmt

    matches = fulltext.ranked_publications(db.session, query, narrow)
    order = () if narrowing.newest_first else (matches.c.score.desc(),)
    stmt = (
        select(Publication)
        .join(matches, matches.c.id == Publication.id)
        .options(*catalog.CARD_LOADING)
        .order_by(*order, *catalog.NEWEST_FIRST)
    )
    found = list(db.session.scalars(stmt.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)))
    shown = found[:PER_PAGE]
    passages = fulltext.snippets(db.session, query, [p.id for p in shown])
    results = [
        Result(
            p,
            highlighted(passages[p.id])
            if fulltext.MARK_START in passages.get(p.id, "")
            else Markup(""),
        )
        for p in shown
    ]
    return Results(results, page, len(found) > PER_PAGE)


def respelled(query: fulltext.Query, narrowing: Narrowing) -> fulltext.Query | None:
    """For a query that finds nothing: the same query with each word no publication uses
    replaced by the closest word that one does, when that finds something."""
    known = spelling.vocabulary()
    words = {word for group in query.groups for item in group for word in item.words}
    fixes = {word: found for word in words if word not in known and (found := known.closest(word))}
    if not fixes:
        return None
    suggestion = query.respelled(fixes)
    return suggestion if search(suggestion, narrowing, 1).results else None
