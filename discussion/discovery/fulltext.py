"""The full-text index: what a reader's query means, each publication's search document
kept in step with every change of content, and the match and rank conditions on SQLite
(FTS5, Porter stemming) and PostgreSQL (English tsvector with a GIN index).

A query is parsed once, by one grammar, and written out for either database, so the same
words find the same publications on both: words (all of them, stemmed), ``"quoted
phrases"``, ``OR`` between two items, ``-word`` to leave out. Nothing a reader types
reaches the database's own query syntax.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Subquery,
    bindparam,
    delete,
    event,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from ..models import (
    Author,
    Byline,
    Comment,
    Publication,
    PublicationSearch,
    Topic,
    publication_topics,
)

MAX_QUERY_LENGTH = 256  # characters of a query that are read; the rest is ignored
MAX_ITEMS = 12  # words or phrases of a query that are read
# Title above dek above author and topic names above body (SQLite bm25 column weights,
# and PostgreSQL's ts_rank weights for D, C, B, A).
FTS_WEIGHTS = (10.0, 4.0, 2.0, 1.0)  # title, dek, body, names — in the FTS5 column order
TS_WEIGHTS = "{0.1, 0.2, 0.4, 1.0}"

_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARK_START, MARK_END = "\x02", "\x03"  # around the words found, in snippets
PG_COMMENT_DOCUMENT = "to_tsvector('english', comments.body_text || ' ' || comments.name)"
_ITEM = re.compile(r'(-?)(?:"([^"]*)"?|(\S+))')


# --- queries -----------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A word, or a phrase of words that must follow each other."""

    words: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Query:
    """A parsed query: every group must match (a group is items joined by OR), and none
    of the excluded items may."""

    groups: tuple[tuple[Item, ...], ...] = ()
    excluded: tuple[Item, ...] = ()
    shortened: bool = False  # the reader typed more than is read

    def __bool__(self) -> bool:
        return bool(self.groups)

    @property
    def has_phrase(self) -> bool:
        return any(len(item.words) > 1 for group in self.groups for item in group)

    def any_of(self) -> Query:
        """The same words, any of them rather than all (a suggestion for no results)."""
        items = tuple(dict.fromkeys(item for group in self.groups for item in group))
        return Query(groups=(items,), excluded=self.excluded)

    def without_phrases(self) -> Query:
        """Phrases loosened into their words."""
        groups = tuple(
            (Item((word,)),) for group in self.groups for item in group for word in item.words
        )
        return Query(groups=groups, excluded=self.excluded)

    def display(self) -> str:
        """The query written back in the grammar readers type."""
        parts = [" OR ".join(_shown(item) for item in group) for group in self.groups] + [
            f"-{_shown(item)}" for item in self.excluded
        ]
        return " ".join(parts)


def _shown(item: Item) -> str:
    return f'"{item.text}"' if len(item.words) > 1 else item.text


def parse(raw: str) -> Query:
    """Read a reader's query; anything that is not a word is only a separator."""
    raw = unicodedata.normalize("NFKC", _CONTROL.sub(" ", raw or ""))
    shortened = len(raw) > MAX_QUERY_LENGTH
    raw = raw[:MAX_QUERY_LENGTH]
    groups: list[list[Item]] = []
    excluded: list[Item] = []
    joining = False
    count = 0
    for match in _ITEM.finditer(raw):
        negated, phrase, bare = match.group(1), match.group(2), match.group(3)
        if phrase is None and bare == "OR":
            joining = bool(groups)
            continue
        words = tuple(w.lower() for w in _WORD.findall(phrase if phrase is not None else bare))
        if not words:
            continue
        count += 1
        if count > MAX_ITEMS:
            shortened = True
            break
        item = Item(words)
        if negated and not joining:
            excluded.append(item)
        elif joining:
            groups[-1].append(item)
        else:
            groups.append([item])
        joining = False
    return Query(
        groups=tuple(tuple(dict.fromkeys(g)) for g in groups),
        excluded=tuple(dict.fromkeys(excluded)),
        shortened=shortened,
    )


def fts5_expression(query: Query) -> str:
    """The query in FTS5's syntax: every word a quoted string (so no word is an operator);
    FTS5 tokenizes and stems quoted strings like the indexed text."""

    def quoted(item: Item) -> str:
        return '"' + " ".join(item.words).replace('"', '""') + '"'

    positive = " AND ".join(
        "(" + " OR ".join(quoted(item) for item in group) + ")" for group in query.groups
    )
    if query.excluded:
        positive += " NOT (" + " OR ".join(quoted(item) for item in query.excluded) + ")"
    return positive


def ts_query(query: Query) -> tuple[str, dict[str, str]]:
    """The query as a PostgreSQL tsquery expression over bound words (never parsed as
    tsquery syntax), and its parameters."""
    params: dict[str, str] = {}

    def one(item: Item) -> str:
        name = f"w{len(params)}"
        params[name] = item.text
        function = "phraseto_tsquery" if len(item.words) > 1 else "plainto_tsquery"
        return f"{function}('english', :{name})"

    def either(items: Iterable[Item]) -> str:
        result = ""
        for item in items:
            result = f"tsquery_or({result}, {one(item)})" if result else one(item)
        return result

    result = ""
    for group in query.groups:
        result = f"tsquery_and({result}, {either(group)})" if result else either(group)
    if query.excluded:
        result = f"tsquery_and({result}, tsquery_not({either(query.excluded)}))"
    return result, params


# --- matching ----------------------------------------------------------------


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ranked_publications(session: Session, query: Query) -> Subquery:
    """The publications matching ``query`` as a subquery of ``id`` and ``score`` (higher
    is better), public or not: callers add the reader's conditions."""
    if _postgresql(session):
        tsquery, params = ts_query(query)
        statement = text(
            f"SELECT publication_id AS id, ts_rank('{TS_WEIGHTS}', document, q) AS score "
            f"FROM publication_search, {tsquery} AS q WHERE document @@ q"
        ).bindparams(**params)
    else:
        weights = ", ".join(map(str, FTS_WEIGHTS))
        statement = text(
            f"SELECT rowid AS id, -bm25(publication_fts, {weights}) AS score "
            "FROM publication_fts WHERE publication_fts MATCH :expression"
        ).bindparams(expression=fts5_expression(query))
    return statement.columns(id=Integer, score=Float).subquery("matches")


def snippets(session: Session, query: Query, ids: list[int]) -> dict[int, str]:
    """For each of these publications, a passage of its dek or body around the words
    found, as plain text with the words between MARK_START and MARK_END."""
    if not ids:
        return {}
    if _postgresql(session):
        tsquery, params = ts_query(query)
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, "
            "MaxFragments=2, FragmentDelimiter=…"
        )
        rows = session.execute(
            text(
                "SELECT publication_id, ts_headline('english', dek || ' ' || body, q, :options) "
                f"FROM publication_search, {tsquery} AS q "
                "WHERE publication_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True), options=options, ids=ids, **params)
        )
        return {id_: passage for id_, passage in rows}
    rows = session.execute(
        text(
            "SELECT rowid, "
            f"snippet(publication_fts, 2, '{MARK_START}', '{MARK_END}', '…', 24), "
            f"snippet(publication_fts, 1, '{MARK_START}', '{MARK_END}', '…', 24) "
            "FROM publication_fts WHERE publication_fts MATCH :expression AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True), expression=fts5_expression(query), ids=ids)
    )
    return {
        id_: body if MARK_START in body or MARK_START not in dek else dek for id_, body, dek in rows
    }


def comments_matching(session: Session, query: Query) -> ColumnElement[bool]:
    """A condition on comments: their text or name matches ``query``."""
    if _postgresql(session):
        tsquery, params = ts_query(query)
        return text(f"{PG_COMMENT_DOCUMENT} @@ {tsquery}").bindparams(**params)  # type: ignore[return-value]
    found = text("SELECT rowid FROM comment_fts WHERE comment_fts MATCH :expression").bindparams(
        expression=fts5_expression(query)
    )
    return Comment.id.in_(found.columns(rowid=Integer))


# --- the index ---------------------------------------------------------------


def plain_text(markup: str | None) -> str:
    """Sanitized HTML as the words a reader sees (for the index, never for display)."""
    return _CONTROL.sub(" ", html.unescape(_TAG.sub(" ", markup or "")))


def reindex(connection: Connection, ids: Iterable[int]) -> None:
    """Write the search documents of these publications afresh (in the caller's
    transaction); a publication that no longer exists loses its document."""
    ids = sorted(set(ids))
    for start in range(0, len(ids), 500):
        _reindex(connection, ids[start : start + 500])


def _reindex(connection: Connection, ids: list[int]) -> None:
    names: dict[int, list[str]] = {}
    for publication_id, name in connection.execute(
        select(Byline.publication_id, Author.name)
        .join(Author, Author.id == Byline.author_id)
        .where(Byline.publication_id.in_(ids))
        .order_by(Byline.publication_id, Byline.position)
    ):
        names.setdefault(publication_id, []).append(name)
    for publication_id, name in connection.execute(
        select(publication_topics.c.publication_id, Topic.name)
        .join(Topic, Topic.id == publication_topics.c.topic_id)
        .where(publication_topics.c.publication_id.in_(ids))
        .order_by(publication_topics.c.publication_id, Topic.name)
    ):
        names.setdefault(publication_id, []).append(name)
    rows = [
        {
            "publication_id": id_,
            "title": title,
            "dek": " ".join(part for part in (dek, summary) if part),
            "body": plain_text(body_html),
            "names": " ".join(names.get(id_, [])),
        }
        for id_, title, dek, summary, body_html in connection.execute(
            select(
                Publication.id,
                Publication.title,
                Publication.dek,
                Publication.summary,
                Publication.body_html,
            ).where(Publication.id.in_(ids))
        )
    ]
    table = PublicationSearch.__table__
    connection.execute(delete(table).where(table.c.publication_id.in_(ids)))
    if rows:
        connection.execute(insert(table), rows)


WATCHED = ("title", "dek", "summary", "body_html", "topics", "bylines")


def _changed(obj: object, attributes: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def _follow_changes(session: Session, _context: object) -> None:
    """After each flush, in its transaction: re-index the publications whose searchable
    text changed (their own fields, bylines, or the name of one of their topics or
    authors)."""
    ids: set[int] = set()
    renamed_topics: list[int] = []
    renamed_authors: list[int] = []
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, Publication):
            if obj in session.new or obj in session.deleted or _changed(obj, WATCHED):
                ids.add(obj.id)
        elif isinstance(obj, Byline):
            if obj.publication_id is not None:
                ids.add(obj.publication_id)
        elif isinstance(obj, Topic) and obj not in session.new and _changed(obj, ("name",)):
            renamed_topics.append(obj.id)
        elif isinstance(obj, Author) and obj not in session.new and _changed(obj, ("name",)):
            renamed_authors.append(obj.id)
    connection = session.connection()
    if renamed_topics:
        ids.update(
            connection.scalars(
                select(publication_topics.c.publication_id).where(
                    publication_topics.c.topic_id.in_(renamed_topics)
                )
            )
        )
    if renamed_authors:
        ids.update(
            connection.scalars(
                select(Byline.publication_id).where(Byline.author_id.in_(renamed_authors))
            )
        )
    if ids:
        reindex(connection, ids)


def init_app() -> None:
    """Make every session keep the search documents in step (once per process)."""
    if not event.contains(Session, "after_flush", _follow_changes):
        event.listen(Session, "after_flush", _follow_changes)


# Schema the search index keeps outside the models: FTS5 tables (and their shadow
# tables), PostgreSQL's generated tsvector column and GIN indexes.
_OUTSIDE_MODELS = re.compile(
    r"(publication_fts|comment_fts)(_\w+)?|document|ix_comments_fulltext|ix_publication_search_document"
)


def in_models(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object``: leave the search index's own schema out of the
    comparison with the models (autogenerate would drop it)."""
    return not (reflected and compare_to is None and _OUTSIDE_MODELS.fullmatch(name or ""))
