"""The site's own archive: every table needed to rebuild the site, as versioned JSON
Lines (docs/archive-format.md), written and read as a stream; gzip when the name ends
in ``.gz``.

Restoring writes rows table by table with their ids (:func:`load` is the one bulk write
of publications outside the content service), then recomputes what is derived from them
(related lists and the term index) in :func:`rebuild_derived`.
"""

from __future__ import annotations

import enum
import gzip
import json
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.types import DateTime, Enum

from ..discovery import fulltext
from ..extensions import db
from ..models import Comment, Moderator, Publication, UtcDateTime
from ..publications import related

FORMAT = "discussion-archive"
VERSION = 1
# In the order they are restored (what a row refers to comes first).
TABLES = (
    "moderators",
    "types",
    "topics",
    "label_redirects",
    "authors",
    "media",
    "publications",
    "publication_types",
    "publication_topics",
    "bylines",
    "slug_redirects",
    "legacy_addresses",
    "publication_urls",
    "revisions",
    "pins",
    "related_exclusions",
    "comments",
    "comment_edits",
    "recommendations",
    "holds",
    "decisions",
    "reports",
    "settings",
    "mail_addresses",
    "mail_subscriptions",
    "erasures",
    "sanctions",
    "author_notes",
    "spam_tokens",
    "spam_labels",
    "spam_scores",
    "topic_rules",
)
# Not exported: computed again from the rows above, or passing state of the worker.
DERIVED = (
    "related_publications",
    "publication_terms",
    "term_frequencies",
    "publication_search",
    "comment_counts",  # kept by triggers as the comments are restored
    "comment_counts_by_publication",
)
TRANSIENT = ("mail_outbox", "job_runs")
# Not exported: API tokens stay with the site that issued them (a restored site makes new
# ones; staff passwords travel only with --with-credentials).
SECRETS = ("api_tokens",)
# Columns left out: a cache key that any change moves (not content).
LEFT_OUT = {"publications": ("cache_version",)}
BATCH = 1000


class ArchiveError(Exception):
    """A file that is not this site's archive, or one this version cannot read."""


def opened(path: Path, mode: str) -> IO[str]:
    """The file as text, through gzip when its name ends in ``.gz``."""
    if path.name.endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8", newline="\n")  # type: ignore[return-value]
    return path.open(mode, encoding="utf-8", newline="\n")


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _columns(table: Table) -> list[str]:
    return [c.name for c in table.columns if c.name not in LEFT_OUT.get(table.name, ())]


def records(*, with_credentials: bool = False) -> Iterator[dict[str, Any]]:
    """The archive's lines: a header, every row of every table, a closing count."""
    yield {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": datetime.now(UTC).isoformat(),
        "with_credentials": with_credentials,
    }
    counts: dict[str, int] = {}
    for name in TABLES:
        table = db.metadata.tables[name]
        columns = _columns(table)
        stmt = select(*(table.c[c] for c in columns)).order_by(*table.primary_key.columns)
        n = 0
        with db.engine.connect() as connection:
            result = connection.execution_options(yield_per=BATCH).execute(stmt)
            for row in result:
                data = {c: _value(v) for c, v in zip(columns, row, strict=True)}
                if name == "moderators" and not with_credentials:
                    data["password_hash"] = None
                n += 1
                yield {"table": name, "row": data}
        counts[name] = n
    yield {"end": True, "counts": counts}


def write(
    path: Path, *, with_credentials: bool = False, progress: Callable[[], None] | None = None
) -> dict[str, int]:
    """Write the archive; returns the rows per table."""
    counts: dict[str, int] = {}
    with opened(path, "w") as out:
        for record in records(with_credentials=with_credentials):
            out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            if "counts" in record:
                counts = record["counts"]
            elif progress:
                progress()
    return counts


def _header(line: str) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ArchiveError("This is not an archive written by `flask export`.")
    if header.get("version") != VERSION:
        raise ArchiveError(
            f"This archive is version {header.get('version')}; this site reads version {VERSION}."
        )
    return header


def _reader(table: Table) -> Callable[[dict[str, Any]], dict[str, Any]]:
    converters: dict[str, Callable[[Any], Any]] = {}
    for column in table.columns:
        kind = column.type
        if isinstance(kind, UtcDateTime | DateTime):
            converters[column.name] = datetime.fromisoformat
        elif isinstance(kind, Enum) and kind.enum_class is not None:
            converters[column.name] = kind.enum_class
    known = {c.name for c in table.columns}

    def convert(row: dict[str, Any]) -> dict[str, Any]:
        return {
            k: (converters[k](v) if v is not None and k in converters else v)
            for k, v in row.items()
            if k in known
        }

    return convert


def had_credentials(path: Path) -> bool:
    """Whether the archive carries staff password hashes (read from its header)."""
    with opened(path, "r") as source:
        return bool(_header(source.readline()).get("with_credentials"))


def is_empty() -> bool:
    return not any(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Publication, Comment, Moderator)
    )


def load(path: Path, *, progress: Callable[[], None] | None = None) -> dict[str, int]:
    """Restore an archive into an empty database; returns the rows per table."""
    if not is_empty():
        raise ArchiveError(
            "The database is not empty: an archive is restored into a new, migrated "
            "database (`flask --app discussion db upgrade` on an empty one)."
        )
    counts: dict[str, int] = dict.fromkeys(TABLES, 0)
    threads = array("q")  # (comment id, parent id, root id): set once every comment is in
    pending: list[dict[str, Any]] = []
    current: str | None = None
    convert: Callable[[dict[str, Any]], dict[str, Any]] = dict
    header: dict[str, Any] | None = None
    ended = None
    try:
        with opened(path, "r") as source:
            for number, line in enumerate(source, start=1):
                if header is None:
                    header = _header(line)
                    continue
                try:
                    record = json.loads(line)
                except ValueError as error:
                    raise ArchiveError(f"line {number} is not JSON ({error})") from error
                if "end" in record:
                    ended = record.get("counts") or {}
                    break
                name = record.get("table")
                if name not in counts or not isinstance(record.get("row"), dict):
                    raise ArchiveError(f"line {number}: no table this site knows ({name!r})")
                if name != current:
                    _insert(current, pending)
                    pending, current = [], name
                    convert = _reader(db.metadata.tables[name])
                row = convert(record["row"])
                if name == "moderators" and not row.get("password_hash"):
                    row["password_hash"] = ""  # no password: set one with `set-password`
                if name == "comments" and (row.get("parent_id") or row.get("root_id")):
                    threads.extend((row["id"], row.get("parent_id") or 0, row.get("root_id") or 0))
                    row["parent_id"] = row["root_id"] = None
                pending.append(row)
                counts[name] += 1
                if len(pending) >= BATCH:
                    _insert(current, pending)
                    pending = []
                if progress:
                    progress()
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise ArchiveError(f"The file could not be read: {error}") from error
    if header is None:
        raise ArchiveError("The file is empty.")
    if ended is None:
        raise ArchiveError("The archive ends early (no closing line): it was cut short.")
    _insert(current, pending)
    _thread(threads)
    _advance_sequences()
    rebuild_derived()
    return counts


def _insert(name: str | None, rows: list[dict[str, Any]]) -> None:
    if name and rows:
        db.session.execute(insert(db.metadata.tables[name]), rows)


def _thread(threads: array) -> None:
    """Comments' parents and threads, once every comment exists (a reply may have a
    smaller id than its parent when an import attached it later)."""
    for start in range(0, len(threads), 3 * BATCH):
        chunk = threads[start : start + 3 * BATCH]
        db.session.execute(
            update(Comment),
            [
                {"id": chunk[i], "parent_id": chunk[i + 1] or None, "root_id": chunk[i + 2] or None}
                for i in range(0, len(chunk), 3)
            ],
        )


def _advance_sequences() -> None:
    """PostgreSQL hands out ids from sequences: move each past the restored rows."""
    if db.engine.dialect.name != "postgresql":
        return
    for name in TABLES:
        table = db.metadata.tables[name]
        if "id" in table.c and table.c.id.autoincrement is not False and table.c.id.primary_key:
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                    f" COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                )
            )


def rebuild_derived() -> int:
    """What the archive leaves out because it follows from the rest: related lists, the
    term index and the search documents. Recomputing marks the publications' pages
    changed; their ``updated_at`` stays as the archive has it."""
    kept = db.session.execute(select(Publication.id, Publication.updated_at)).all()
    lists = related.refresh_all()
    fulltext.reindex(db.session.connection(), [i for i, _ in kept])
    for start in range(0, len(kept), BATCH):
        db.session.execute(
            update(Publication),
            [{"id": i, "updated_at": when} for i, when in kept[start : start + BATCH]],
        )
    return lists
