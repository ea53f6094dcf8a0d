"""Backups of a SQLite site taken while it takes comments, and restoring them; a
PostgreSQL site is told to use pg_dump."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import Comment, Publication
from tests.helpers import make_comment, make_publication


def comment_count() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Comment)) or 0


def test_a_backup_taken_while_comments_arrive_is_consistent_and_restores(
    app: Flask, runner, tmp_path: Path
) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["backup", str(tmp_path / "b")])
        assert result.exit_code == 1 and "pg_dump" in result.output
        return
    app.config["MEDIA_ROOT"] = str(tmp_path / "media")
    media = tmp_path / "media"
    (media / "ab").mkdir(parents=True)
    (media / "ab" / "photo-480.webp").write_bytes(b"image bytes")
    publication = make_publication()
    make_comment(publication, body="Before the backup.")
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    publication_id = publication.id
    db.session.commit()  # the test's own transaction would hold SQLite's write lock
    stop = threading.Event()
    written = [0]

    def readers_comment() -> None:  # another process of the site, posting meanwhile
        connection = sqlite3.connect(database, timeout=10)
        while not stop.is_set():
            with connection:
                connection.execute(
                    "INSERT INTO comments (publication_id, name, body_text, body_html,"
                    " sanitizer_version, state, created_at, open_reports, hidden)"
                    " VALUES (?, 'R', 'During.', '<p>During.</p>', 1, 'approved',"
                    " '2026-01-01 00:00:00', 0, 0)",
                    (publication_id,),
                )
            written[0] += 1
        connection.close()

    failed: list[BaseException] = []

    def run() -> None:
        try:
            readers_comment()
        except BaseException as error:  # reported below, not lost in the thread
            failed.append(error)

    writer = threading.Thread(target=run)
    writer.start()
    try:
        while written[0] < 20 and writer.is_alive():
            stop.wait(0.01)
        result = runner.invoke(args=["backup", str(tmp_path / "backup")])
    finally:
        stop.set()
        writer.join()
    assert not failed, failed
    assert result.exit_code == 0, result.output
    assert "and 1 media files" in result.output
    copy = sqlite3.connect(tmp_path / "backup" / "discussion.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    in_backup = copy.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
    copy.close()
    assert 21 <= in_backup <= 1 + written[0]
    # Later: more comments, a lost image; the restore brings back the backup's state.
    make_comment(db.session.get(Publication, publication_id), body="After the backup.")
    (media / "ab" / "photo-480.webp").unlink()
    db.session.remove()
    restored = runner.invoke(args=["restore", str(tmp_path / "backup"), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert comment_count() == in_backup
    assert (media / "ab" / "photo-480.webp").read_bytes() == b"image bytes"
    again = runner.invoke(args=["backup", str(tmp_path / "backup")])
    assert again.exit_code == 1 and "is not empty" in again.output


def test_restore_refuses_what_is_not_a_backup(app: Flask, runner, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(args=["restore", str(tmp_path / "empty"), "--yes"])
    assert result.exit_code == 1
    assert "holds no backup" in result.output or "pg_dump" in result.output


def test_restore_asks_first(app: Flask, runner, tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    result = runner.invoke(args=["restore", str(tmp_path / "b")], input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
