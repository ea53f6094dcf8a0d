"""Backups of a SQLite site: a consistent copy of the database taken with SQLite's
backup API while the site serves and takes comments, plus the media files; and bringing
one back. PostgreSQL sites use ``pg_dump``/``pg_restore`` (README)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

DATABASE_FILE = "discussion.sqlite3"
MEDIA_DIR = "media"
MANIFEST = "backup.json"


class BackupError(Exception):
    """A backup or restore refused, with the reason."""


@dataclass(frozen=True)
class Copied:
    database_bytes: int
    media_files: int


def sqlite_path(database_uri: str) -> Path:
    """The database file a SQLite URI names; BackupError for any other database."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite":
        raise BackupError(
            f"backup and restore copy SQLite databases; this site uses {url.get_backend_name()}"
            ": use pg_dump and pg_restore (see the README, 'Backups')."
        )
    if not url.database or url.database == ":memory:":
        raise BackupError("The database is in memory: there is nothing to back up.")
    return Path(url.database)


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    # All pages in one step: SQLite copies one consistent snapshot (in WAL mode writers
    # go on meanwhile; a step-by-step copy would start again after each write).
    source.backup(target, pages=-1)


def _copy_media(source: Path, target: Path) -> int:
    if not source.is_dir():
        return 0
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
            copied += 1
    return copied


def backup(database_uri: str, media_root: Path, directory: Path) -> Copied:
    """Copy the live database and the media into ``directory`` (new or empty)."""
    database = sqlite_path(database_uri)
    if not database.exists():
        raise BackupError(f"There is no database at {database}.")
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"{directory} is not empty: back up into a new directory.")
    directory.mkdir(parents=True, exist_ok=True)
    target_file = directory / DATABASE_FILE
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(target_file)
    try:
        _copy(source, target)
        revision = target.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        target.close()
        source.close()
    media = _copy_media(media_root, directory / MEDIA_DIR)
    (directory / MANIFEST).write_text(
        json.dumps(
            {
                "taken_at": datetime.now(UTC).isoformat(),
                "database": DATABASE_FILE,
                "schema_revision": revision[0] if revision else None,
                "media_files": media,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return Copied(target_file.stat().st_size, media)


def restore(database_uri: str, media_root: Path, directory: Path) -> Copied:
    """Bring a backup back: the database replaced page by page through SQLite's backup
    API (other connections see the restored data at their next transaction), the media
    files copied back beside the ones there."""
    database = sqlite_path(database_uri)
    source_file = directory / DATABASE_FILE
    if not (directory / MANIFEST).is_file() or not source_file.is_file():
        raise BackupError(f"{directory} holds no backup (no {MANIFEST} and {DATABASE_FILE}).")
    source = sqlite3.connect(f"{source_file.resolve().as_uri()}?mode=ro", uri=True)
    try:
        if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{source_file} is damaged (integrity check failed).")
        database.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(database, timeout=30)
        try:
            _copy(source, target)
        finally:
            target.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source_file} could not be read: {error}") from error
    finally:
        source.close()
    media = _copy_media(directory / MEDIA_DIR, media_root)
    return Copied(database.stat().st_size, media)
