"""The site's own archive: export → import into an empty database → export gives the
same content, on SQLite and PostgreSQL and across them; WXR back to WordPress."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, func, select, text

from discussion import create_app
from discussion.accounts import staff
from discussion.archive import archivefile
from discussion.desk import editing
from discussion.extensions import db
from discussion.models import (
    AuthorNote,
    Comment,
    CommentEdit,
    CommentState,
    Decision,
    Erasure,
    Exclusion,
    Hold,
    LabelRedirect,
    LegacyAddress,
    MailAddress,
    MailSubscription,
    MediaFile,
    Publication,
    PublicationUrl,
    Recommendation,
    Report,
    Role,
    Sanction,
    SanctionAction,
    SanctionKind,
    Setting,
    SpamLabel,
    SpamScore,
    SpamToken,
    Topic,
    TopicRule,
)
from tests.archive_samples import WpComment, WpPost, write, wxr
from tests.conftest import MIGRATIONS, PG_SKIP
from tests.helpers import PASSWORD, make_comment

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def build_site(runner, tmp_path: Path) -> None:
    """A site with something in every exported table."""
    runner.invoke(args=["seed"])
    admin = staff.create_moderator("chief", PASSWORD, Role.ADMIN, email="chief@example.org")
    editor = staff.create_moderator("ed", PASSWORD, Role.EDITOR)
    db.session.commit()
    publication = db.session.scalar(select(Publication).order_by(Publication.id))
    draft = editing.Draft.of(publication)
    editing.save(
        publication,
        editing.Draft(**{**draft.__dict__, "slug": "moved-address", "topics": ("Archives",)}),
        editing.Action.PUBLISH,
        editor,
        now=NOW,
    )
    db.session.add(
        MediaFile(
            stem="a" * 40,
            extension="webp",
            content_type="image/webp",
            width=960,
            height=640,
            widths=[480, 960],
            original_name="photo.jpg",
            alt="A photo",
            uploaded_by=editor.id,
        )
    )
    db.session.commit()
    # Imported comments, one reply stored before its parent (a smaller id than it).
    posts = [
        WpPost(
            1,
            link="https://old.example.org/2018/01/imported/",
            comments=[
                WpComment(1, parent=2, content="Reply first."),
                WpComment(2, content="Parent later."),
                WpComment(3, approved="spam"),
            ],
        )
    ]
    runner.invoke(args=["import", "wordpress", str(write(tmp_path, "w.xml", wxr(posts)))])
    parent = make_comment(publication, body="Top *level*.", email="ann@example.org")
    reply = make_comment(publication, parent=parent, state=CommentState.PENDING, minutes=3)
    make_comment(publication, state=CommentState.REJECTED, minutes=5)
    db.session.add_all(
        [
            Decision(
                comment_id=reply.id,
                moderator_id=admin.id,
                from_state=CommentState.PENDING,
                to_state=CommentState.APPROVED,
                reason="fine",
                note="ok",
                created_at=NOW,
            ),
            Report(comment_id=parent.id, reporter="r" * 64, address="a" * 64, reason="spam"),
            Hold(comment_id=reply.id, rule="links", detail="2 links", matches=["x", "y"]),
            Setting(key="banned_words", value=["spamword", "ünïcode"]),
            Setting(key="premoderation", value={"on": True, "since": "2026-01-01"}),
            Erasure(address_hash="h" * 64, admin_id=admin.id, mode="redact", comments=2),
            LabelRedirect(kind="topic", slug="old-archives", target_slug="archives"),
            Exclusion(publication_id=publication.id, excluded_id=publication.id + 1),
            CommentEdit(
                comment_id=parent.id,
                body_text="Top level, before the edit.",
                body_html="<p>Top level, before the edit.</p>",
                state=CommentState.APPROVED,
                replaced_at=NOW,
            ),
            PublicationUrl(
                url_hash="u" * 64,
                url="https://www.example.org/story",
                publication_id=publication.id,
            ),
            Sanction(
                kind=SanctionKind.EMAIL,
                key="k" * 64,
                action=SanctionAction.PREMODERATE,
                comment_id=parent.id,
                moderator_id=admin.id,
                created_at=NOW,
            ),
            AuthorNote(
                key="k" * 64, text="Often off topic.", moderator_id=admin.id, created_at=NOW
            ),
            SpamToken(token="casino", spam=3, ham=0),
            SpamLabel(comment_id=parent.id, spam=False),
            SpamScore(comment_id=parent.id, probability=0.25, words=["casino"]),
            TopicRule(
                topic_id=db.session.scalar(select(Topic.id).filter_by(name="Archives")),
                hold_all=True,
                suspect_words=["rumour"],
            ),
            Recommendation(
                comment_id=parent.id, visitor="v" * 64, address="a" * 64, created_at=NOW
            ),
        ]
    )
    address = MailAddress(address_hash="m" * 64, confirmed_at=NOW)
    db.session.add(address)
    db.session.flush()
    db.session.add(
        MailSubscription(
            address_id=address.id,
            comment_id=parent.id,
            root_id=parent.id,
            email="ann@example.org",
            outcome=True,
            replies=True,
        )
    )
    db.session.commit()


def content_lines(path: Path) -> list[str]:
    """The archive without its header (which says when it was written)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as source:
        return source.read().splitlines()[1:]


@pytest.fixture
def other_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of the backend the test names."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    else:
        base = os.environ.get("TEST_DATABASE_URL", "")
        if not base.startswith("postgresql"):
            pytest.skip(PG_SKIP)
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS discussion_archive_roundtrip"))
            connection.execute(text("CREATE DATABASE discussion_archive_roundtrip"))
        admin.dispose()
        url = base.rsplit("/", 1)[0] + "/discussion_archive_roundtrip"
    return url


@pytest.mark.parametrize("other_database", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("name", ["site.jsonl", "site.jsonl.gz"])
def test_export_import_export_gives_the_same_content(
    app: Flask, runner, tmp_path: Path, other_database: str, name: str
) -> None:
    build_site(runner, tmp_path)
    first = tmp_path / name
    result = runner.invoke(args=["export", str(first)])
    assert result.exit_code == 0, result.output
    assert "staff accounts without password hashes" in result.output
    if name.endswith(".gz"):
        assert first.read_bytes()[:2] == b"\x1f\x8b"
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": other_database})
    second = tmp_path / ("again-" + name)
    with other.app_context():
        upgrade(directory=MIGRATIONS)
        restored = other.test_cli_runner().invoke(args=["import", "archive", str(first)])
        assert restored.exit_code == 0, restored.output
        assert "2 staff accounts came without passwords" in restored.output
        assert restored.output.strip().endswith(" comments; skipped 0")
        assert other.test_cli_runner().invoke(args=["export", str(second)]).exit_code == 0
        # The restored site works: threads, related lists, a new comment gets a new id.
        reply = db.session.scalar(select(Comment).filter_by(body_text="Reply first."))
        assert reply.parent.body_text == "Parent later." and reply.root_id == reply.parent_id
        assert db.session.scalar(select(func.count()).select_from(LegacyAddress)) == 2
        publication = db.session.scalar(select(Publication).filter_by(slug="moved-address"))
        new = make_comment(publication, body="After the move.")
        assert new.id > reply.id
        assert staff.authenticate("chief", PASSWORD) is None  # no password came along
        db.session.remove()
        db.engine.dispose()
    assert content_lines(second) == content_lines(first)
    records = [json.loads(line) for line in content_lines(first)]
    assert set(archivefile.TABLES) <= {r.get("table") for r in records}
    staff_rows = [r["row"] for r in records if r.get("table") == "moderators"]
    assert len(staff_rows) == 2 and all(r["password_hash"] is None for r in staff_rows)


def test_with_credentials_staff_can_sign_in_after_a_restore(
    app: Flask, runner, tmp_path: Path
) -> None:
    staff.create_moderator("chief", PASSWORD, Role.ADMIN)
    db.session.commit()
    path = tmp_path / "c.jsonl"
    runner.invoke(args=["export", str(path), "--with-credentials"])
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/o.db"})
    with other.app_context():
        upgrade(directory=MIGRATIONS)
        result = other.test_cli_runner().invoke(args=["import", "archive", str(path)])
        assert "without passwords" not in result.output
        assert staff.authenticate("chief", PASSWORD) is not None
        db.session.remove()
        db.engine.dispose()


def test_every_table_is_exported_or_derived(app: Flask) -> None:
    known = set(archivefile.TABLES) | set(archivefile.DERIVED) | set(archivefile.TRANSIENT)
    known |= set(archivefile.SECRETS)
    assert set(db.metadata.tables) == known


def test_an_archive_is_restored_only_into_an_empty_database(
    app: Flask, runner, tmp_path: Path
) -> None:
    make_comment_site = runner.invoke(args=["seed"])
    assert make_comment_site.exit_code == 0
    path = tmp_path / "a.jsonl"
    runner.invoke(args=["export", str(path)])
    result = runner.invoke(args=["import", "archive", str(path)])
    assert result.exit_code == 1
    assert "The database is not empty" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"publications": []}\n', "This is not an archive written by `flask export`"),
        ('{"format": "discussion-archive", "version": 99}\n', "version 99"),
        ('{"format": "discussion-archive", "version": 1}\n{"table": "x"', "line 2 is not JSON"),
        ('{"format": "discussion-archive", "version": 1}\n', "it was cut short"),
        ("", "The file is empty"),
    ],
)
def test_a_broken_archive_gives_one_clear_error(
    app: Flask, runner, tmp_path: Path, content: str, message: str
) -> None:
    result = runner.invoke(args=["import", "archive", str(write(tmp_path, "b.jsonl", content))])
    assert result.exit_code == 1
    assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(Publication)) == 0


def test_set_password(app: Flask, runner) -> None:
    staff.create_moderator("chief", PASSWORD, Role.ADMIN)
    db.session.commit()
    assert runner.invoke(args=["set-password", "chief", "--password", "short"]).exit_code == 1
    result = runner.invoke(args=["set-password", "chief", "--password", "a new long password"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert staff.authenticate("chief", "a new long password") is not None
    assert runner.invoke(args=["set-password", "nobody", "--password", "x" * 12]).exit_code == 1


@pytest.mark.config(SITE_URL="https://news.example.org")
def test_wxr_export_goes_back_to_wordpress(app: Flask, runner, tmp_path: Path) -> None:
    """The WXR export reads as WordPress writes it: importing it gives the same comments,
    states and threads."""
    posts = [
        WpPost(
            1,
            title="Back & forth",
            comments=[
                WpComment(1, content="One <b>bold</b> ]]> word."),
                WpComment(2, parent=1, approved="0"),
                WpComment(3, approved="spam"),
                WpComment(4, parent=2, approved="trash"),
            ],
        )
    ]
    runner.invoke(args=["import", "wordpress", str(write(tmp_path, "in.xml", wxr(posts)))])
    before = [(c.name, c.body_text, c.state, c.parent_id is not None) for c in _comments()]
    out = tmp_path / "out.xml"
    result = runner.invoke(args=["export", "--format", "wxr", str(out)])
    assert result.exit_code == 0, result.output
    text_out = out.read_text(encoding="utf-8")
    assert "<wp:wxr_version>1.2</wp:wxr_version>" in text_out
    assert "https://news.example.org/publications/" in text_out
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()
    again = runner.invoke(args=["import", "wordpress", str(out)])
    assert again.output.strip().endswith("imported 1 publications, 4 comments; skipped 0")
    after = [(c.name, c.body_text, c.state, c.parent_id is not None) for c in _comments()]
    assert after == before


def _comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Comment).order_by(Comment.created_at, Comment.id)))
