"""The full-text index: what a reader's query means, each publication's search document
kept in step with every change of content, and the match and rank conditions on SQLite
(FTS5, Porter stemming) and PostgreSQL (English tsvector with a GIN index).

A query is parsed once, by one grammar, and written out for either database, so the same
words find the same publications on both: words (all of them, stemmed), ``"quoted
phrases"``, ``OR`` between two items, ``-word`` to leave out. Nothing a reader types
reaches the database's own query syntax. A phrase is found within one field (title, dek,
names, body); on PostgreSQL, a phrase looked for by walking the publications (its words
in most of them) or beside another item joined by OR may also be found running from the
end of one field into the next, as PostgreSQL's document joins the fields.
"""

from __future__ import annotations

import html
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    Subquery,
    Text,
    and_,
    bindparam,
    cast,
    column,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection, Row
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
TS_WEIGHTS = literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")
RANKED_AT_MOST = 2000  # matches ranked per search: the newest (see ranked_publications)
COMMENTS_SEARCHED = 5000  # the newest matches a moderator's search looks through
# PostgreSQL (newest_matching_comments): walking the comments newest first pays for a
# query in this share of them or more; a window of the newest holds this many times the
# matches its share would give (both measured at 1,000,000 comments).
WALK_SHARE = 0.06
WINDOW_MARGIN = 1.2
# Primary-key entries put in a bitmap for the cost of one page read (measured: 250,000
# entries in 10.7 ms, a page read from the OS cache 2-3 µs).
KEY_ENTRIES_PER_PAGE = 60
ENGLISH = literal_column("'english'::regconfig")

# Words too common to look for: the Snowball English stop words, which PostgreSQL's
# 'english' configuration leaves out, left out of queries on SQLite too.
STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what
    which who whom this that these those am is are was were be been being have has had
    having do does did doing a an the and but if or because as until while of at by for
    with about against between into through during before after above below to from up
    down in out on off over under again further then once here there when where why how
    all any both each few more most other some such no nor not only own same so than too
    very s t can will just don should now
    """.split()  # noqa: SIM905 (the list as PostgreSQL ships it)
)
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MARK_START, MARK_END = "\x02", "\x03"  # around the words found, in snippets
PG_COMMENT_DOCUMENT = "comments.document"  # stored, indexed (migration 0015)
_QUOTED = r"'((?:[^'\\]|'')*)'"  # a lexeme in a tsquery written out as text
_LEXEME = re.compile(_QUOTED)
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
    common: tuple[str, ...] = ()  # words left out as too common (STOP_WORDS)

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

    def respelled(self, spelling: Mapping[str, str]) -> Query:
        """The same query with some words replaced (a suggestion for no results)."""

        def item(old: Item) -> Item:
            return Item(tuple(spelling.get(word, word) for word in old.words))

        groups = tuple(tuple(dict.fromkeys(item(i) for i in group)) for group in self.groups)
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
    common: list[str] = []
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
        if len(words) == 1 and words[0] in STOP_WORDS:
            common.append(words[0])
            joining = False
            continue
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
        common=tuple(dict.fromkeys(common)),
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


def ts_query(query: Query) -> ColumnElement:
    """The query as a PostgreSQL tsquery built from bound words (never parsed as tsquery
    syntax)."""

    def one(item: Item) -> ColumnElement:
        function = func.phraseto_tsquery if len(item.words) > 1 else func.plainto_tsquery
        return function(ENGLISH, bindparam(None, item.text, type_=String))

    def either(items: Iterable[Item]) -> ColumnElement:
        items = list(items)
        result = one(items[0])
        for item in items[1:]:
            result = func.tsquery_or(result, one(item))
        return result

    result = either(query.groups[0])
    for group in query.groups[1:]:
        result = func.tsquery_and(result, either(group))
    if query.excluded:
        result = func.tsquery_and(result, func.tsquery_not(either(query.excluded)))
    return result


# --- matching ----------------------------------------------------------------


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def ranked_publications(
    session: Session, query: Query, narrow: Callable[[Select], Select] = lambda stmt: stmt
) -> Subquery:
    """The publications matching ``query``, narrowed by ``narrow`` (conditions and joins
    on :class:`Publication`), as a subquery of ``id`` and ``score`` (higher is better).

    Only the newest ``RANKED_AT_MOST`` matches are ranked, so that a word found in most
    publications costs no more than a rarer one: the newest publications first, as a
    newsroom's readers expect."""
    if _postgresql(session):
        search = PublicationSearch.__table__
        document = literal_column("publication_search.document")
        tsquery = ts_query(query)
        plan = _plan(session, query)
        newest = search.c.publication_id
        matching = document.op("@@")(tsquery)
        if not plan.walk:
            newest = newest + 0  # not the key's order: the planner then takes an index
            if plan.pairs:  # not on the walk: it would compute each publication's pairs
                # Through the pairs' index alone, then each candidate's document: with
                # both indexes, PostgreSQL rechecks each candidate against both, computing
                # its pairs afresh. ts_match_vq is @@ as a function, which no index serves.
                required = cast(bindparam(None, list(plan.pairs)), ARRAY(Text))
                matching = and_(_PAIRS.op("@>")(required), func.ts_match_vq(document, tsquery))
        candidates = (
            narrow(
                select(search.c.publication_id.label("id"), document.label("document"))
                .join(Publication, Publication.id == search.c.publication_id)
                .where(matching)
            )
            .order_by(newest.desc())
            .limit(RANKED_AT_MOST)
            .subquery("candidates")
        )
        score = func.ts_rank(TS_WEIGHTS, candidates.c.document, tsquery)
        return select(candidates.c.id, score.label("score")).subquery("matches")
    fts = table("publication_fts", column("rowid", Integer))
    index = literal_column("publication_fts")
    score = -func.bm25(index, *(literal(w, Float) for w in FTS_WEIGHTS))
    return (
        narrow(
            select(fts.c.rowid.label("id"), score.label("score"))
            .join(Publication, Publication.id == fts.c.rowid)
            .where(index.op("MATCH")(fts5_expression(query)))
        )
        .order_by(fts.c.rowid.desc())
        .limit(RANKED_AT_MOST)
        .subquery("matches")
    )


@dataclass
class _Statistics:
    """What PostgreSQL knows of the search documents (``pg_stats``): the share of documents
    holding each of the most common lexemes, and of the most common pairs of adjacent
    words (the pairs index's); the share below which one is not listed; the number of
    documents."""

    shares: dict[str, float]
    rarest: float
    pair_shares: dict[str, float]
    rarest_pair: float
    documents: float
    read_at: float


_statistics: dict[tuple[str, str], _Statistics] = {}  # by database and table
STATISTICS_SECONDS = 900  # how long a process keeps them (ANALYZE renews them rarely)
_STATISTICS = text(
    "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, "
    "p.most_common_elems::text::text[], p.most_common_elem_freqs, c.reltuples "
    "FROM pg_class c LEFT JOIN pg_stats s ON s.schemaname = current_schema() "
    "AND s.tablename = c.relname AND s.attname = 'document' "
    "LEFT JOIN pg_stats p ON p.schemaname = current_schema() AND p.tablename = :pairs "
    "WHERE c.relname = :searched AND c.relnamespace = current_schema()::regnamespace"
)
_PAIRS_INDEX = {"publication_search": "ix_publication_search_pairs", "comments": None}
# Each field's pairs of adjacent words, as the index of migration 0016 holds them (the
# same expression, so that the planner uses it).
_PAIRS = func.publication_search_pairs(
    literal_column("publication_search.title"),
    literal_column("publication_search.dek"),
    literal_column("publication_search.body"),
    literal_column("publication_search.names"),
)
_PHRASE_PART = re.compile(rf"\s*(?:{_QUOTED}|<(-|\d+)>)")  # a lexeme or a distance


def _listed(
    elements: list[str] | None, frequencies: list[float] | None
) -> tuple[dict[str, float], float]:
    """The shares of the listed elements, and the share below which one is not listed
    (the frequencies are followed by the lowest and the highest, and the share of nulls)."""
    elements, frequencies = elements or [], frequencies or []
    rarest = frequencies[len(elements)] if len(frequencies) > len(elements) else 0.0
    return dict(zip(elements, frequencies, strict=False)), rarest


def _lexeme_statistics(session: Session, table: str) -> _Statistics:
    """The statistics of ``publication_search`` or ``comments`` (kept a while)."""
    key = (str(session.get_bind().url), table)
    now = time.monotonic()
    kept = _statistics.get(key)
    if kept is None or now - kept.read_at > STATISTICS_SECONDS:
        row = session.execute(_STATISTICS, {"searched": table, "pairs": _PAIRS_INDEX[table]}).one()
        lexemes, lexeme_shares, pairs, pair_shares, documents = row
        shares, rarest = _listed(lexemes, lexeme_shares)
        pair_share, rarest_pair = _listed(pairs, pair_shares)
        kept = _statistics[key] = _Statistics(
            shares, rarest, pair_share, rarest_pair, max(documents, 0), now
        )
    return kept


def _unquoted(lexeme: str) -> str:
    return lexeme.replace("''", "'")


def _pairs(phrase: str) -> tuple[str, ...]:
    """The pairs of adjacent words a phrase requires, from its tsquery written out
    (``'unit' <-> 'state' <2> 'america'``: "unit state"); none when it is not such a
    chain."""
    parts = list(_PHRASE_PART.finditer(phrase))
    if "".join(part.group(0) for part in parts) != phrase:
        return ()
    pairs: list[str] = []
    previous, adjacent = None, False
    for part in parts:
        lexeme, distance = part.groups()
        if lexeme is None:
            adjacent = distance == "-"
            continue
        lexeme = _unquoted(lexeme)
        if adjacent and previous is not None:
            pairs.append(f"{previous} {lexeme}")
        previous, adjacent = lexeme, False
    return tuple(pairs)


@dataclass(frozen=True)
class _Plan:
    """How PostgreSQL finds a query's newest matches (:func:`_plan`)."""

    walk: bool  # walk the publications newest first, testing each one's document
    pairs: tuple[str, ...]  # pairs of adjacent words every match holds (its phrases')


def _plan(session: Session, query: Query) -> _Plan:
    """Whether to find the newest matches by walking the publications newest first,
    testing each one's document, rather than through the indexes (every match, then the
    newest). The walk pays for words in a large share ``s`` of the ``n`` documents: it
    tests ``RANKED_AT_MOST / s`` documents where the index returns ``s * n``. PostgreSQL's
    planner misjudges this (reading each document costs it nothing), so the share is
    estimated from its statistics (:func:`_estimate`). Through the indexes, a phrase's
    candidates are the documents with all its pairs of adjacent words (the document index
    holds no positions), then each is checked."""
    statistics = _lexeme_statistics(session, "publication_search")
    share, pairs = _estimate(session, query, statistics)
    return _Plan(share * share * statistics.documents > RANKED_AT_MOST, pairs)


def _estimate(
    session: Session, query: Query, statistics: _Statistics
) -> tuple[float, tuple[str, ...]]:
    """The share of documents matching ``query``, from ``statistics`` (a word not listed
    counting as half the rarest listed, a phrase as its rarest word or pair of adjacent
    words, the groups as independent), and the pairs every match holds (its phrases')."""
    items = list(dict.fromkeys(item for group in query.groups for item in group))
    found = session.execute(
        select(
            *(func.phraseto_tsquery(ENGLISH, bindparam(None, i.text)).cast(String) for i in items)
        )
    ).one()
    # A single word is looked for as plainto_tsquery reads it ("covid_19": both parts,
    # anywhere), never as a phrase; without the index's statistics (before its first
    # ANALYZE) a pair's share is not known, and the phrase counts as its rarest word.
    pairs_of = {
        item: _pairs(written) if len(item.words) > 1 else ()
        for item, written in zip(items, found, strict=True)
    }
    pair_known = bool(statistics.pair_shares)
    share_of = {
        item: min(
            chain(
                (
                    statistics.shares.get(_unquoted(word), statistics.rarest / 2)
                    for word in _LEXEME.findall(written)
                ),
                (
                    statistics.pair_shares.get(pair, statistics.rarest_pair / 2)
                    for pair in pairs_of[item]
                    if pair_known
                ),
            ),
            default=0.0,
        )
        for item, written in zip(items, found, strict=True)
    }
    share = 1.0
    for group in query.groups:
        share *= min(1.0, sum(share_of[item] for item in group))
    required = (pair for group in query.groups if len(group) == 1 for pair in pairs_of[group[0]])
    return share, tuple(dict.fromkeys(required))


def snippets(session: Session, query: Query, ids: list[int]) -> dict[int, str]:
    """For each of these publications, a passage of its dek or body around the words
    found, as plain text with the words between MARK_START and MARK_END."""
    if not ids:
        return {}
    if _postgresql(session):
        search = PublicationSearch.__table__
        options = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, "
            "MaxFragments=2, FragmentDelimiter=…"
        )
        passage = func.ts_headline(
            ENGLISH, search.c.dek + " " + search.c.body, ts_query(query), options
        )
        rows = session.execute(
            select(search.c.publication_id, passage).where(search.c.publication_id.in_(ids))
        )
        return {id_: text_ for id_, text_ in rows}
    fts = table("publication_fts", column("rowid", Integer))
    index = literal_column("publication_fts")

    def passage(column_number: int) -> ColumnElement:
        return func.snippet(index, column_number, MARK_START, MARK_END, "…", 24)

    rows = session.execute(
        select(fts.c.rowid, passage(2), passage(1)).where(
            index.op("MATCH")(fts5_expression(query)), fts.c.rowid.in_(ids)
        )
    )
    return {
        id_: body if MARK_START in body or MARK_START not in dek else dek for id_, body, dek in rows
    }


def newest_matching_comments(
    session: Session, query: Query, *columns: ColumnElement
) -> list[Row[Any]]:
    """These columns of the newest ``COMMENTS_SEARCHED`` comments whose text or name
    matches ``query``, newest first (a word in most comments then costs no more than a
    rare one).

    SQLite's FTS5 index gives its matches newest first itself. PostgreSQL's GIN index
    knows nothing of their order: its planner either walks the comments newest first,
    testing each one (cheap for a query in a large share of them), or reads every match
    through the index and keeps the newest (cheap for a rare one). For a query in a
    middling share ``s`` (estimated as for publications, :func:`_estimate`) both read tens
    of thousands of pages at a million comments, so its matches are first looked for
    among the newest ``WINDOW_MARGIN * COMMENTS_SEARCHED / s`` comments alone, the search
    index's bitmap ANDed with the primary key's (about a page read per match), then, if
    the window held too few, among the older ones. The window is taken when it reads
    fewer pages than every match would."""
    if not _postgresql(session):
        fts = table("comment_fts", column("rowid", Integer))
        found = (
            select(fts.c.rowid)
            .where(literal_column("comment_fts").op("MATCH")(fts5_expression(query)))
            .order_by(fts.c.rowid.desc())
            .limit(COMMENTS_SEARCHED)
        )
        stmt = select(*columns).where(Comment.id.in_(found)).order_by(Comment.id.desc())
        return list(session.execute(stmt))
    matching = literal_column(PG_COMMENT_DOCUMENT).op("@@")(ts_query(query))
    newest = select(*columns).where(matching).limit(COMMENTS_SEARCHED)
    statistics = _lexeme_statistics(session, "comments")
    share, _ = _estimate(session, query, statistics)
    window = math.ceil(WINDOW_MARGIN * COMMENTS_SEARCHED / max(share, 1e-9))
    # Pages read: the window's matches and its share of the key, against every match.
    window_pays = (
        WINDOW_MARGIN * COMMENTS_SEARCHED + window / KEY_ENTRIES_PER_PAGE
        < share * statistics.documents
    )
    if share >= WALK_SHARE or not window_pays:  # as PostgreSQL's planner chooses
        return list(session.execute(newest.order_by(Comment.id.desc())))
    start = (session.scalar(select(func.max(Comment.id))) or 0) - window
    # Priced as PostgreSQL prices them, random page reads (the bitmaps') lose to walking
    # the window in the key's order, which reads every comment in it: plain index scans
    # are off for this statement alone (SET LOCAL; on failure the rollback ends it).
    # Anything the session had to write was flushed by the statements above.
    session.execute(text("SET LOCAL enable_indexscan = off"))
    windowed = newest.where(Comment.id > start).order_by(Comment.id.desc())
    found = list(session.execute(windowed))
    session.execute(text("RESET enable_indexscan"))
    if len(found) < COMMENTS_SEARCHED and start > 0:  # a word rarer lately than overall
        older = newest.where(Comment.id <= start).order_by(Comment.id.desc())
        found += session.execute(older.limit(COMMENTS_SEARCHED - len(found)))
    return found


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
    if not (ids or renamed_topics or renamed_authors):
        return  # most flushes (comments, decisions) touch no search document
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


# Kept in step with the comments by triggers, which SQLite drops with the table: migrations
# 0010 and every later one that rebuilds "comments" (batch mode) create them from here.
SQLITE_COMMENT_TRIGGERS = (
    "CREATE TRIGGER comments_fts_ai AFTER INSERT ON comments BEGIN "
    "INSERT INTO comment_fts(rowid, body_text, name) VALUES (new.id, new.body_text, new.name); "
    "END",
    "CREATE TRIGGER comments_fts_ad AFTER DELETE ON comments BEGIN "
    "INSERT INTO comment_fts(comment_fts, rowid, body_text, name) "
    "VALUES ('delete', old.id, old.body_text, old.name); END",
    "CREATE TRIGGER comments_fts_au AFTER UPDATE OF body_text, name ON comments BEGIN "
    "INSERT INTO comment_fts(comment_fts, rowid, body_text, name) "
    "VALUES ('delete', old.id, old.body_text, old.name); "
    "INSERT INTO comment_fts(rowid, body_text, name) VALUES (new.id, new.body_text, new.name); "
    "END",
)


# Schema the search index keeps outside the models: FTS5 tables (and their shadow
# tables), PostgreSQL's generated tsvector column and GIN indexes.
_OUTSIDE_MODELS = re.compile(
    r"(publication_fts|comment_fts)(_\w+)?|document|ix_comments_fulltext"
    r"|ix_publication_search_(document|pairs)"
)


def in_models(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's ``include_object``: leave the search index's own schema out of the
    comparison with the models (autogenerate would drop it)."""
    return not (reflected and compare_to is None and _OUTSIDE_MODELS.fullmatch(name or ""))
