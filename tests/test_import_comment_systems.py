"""Importing Disqus exports and Isso databases: threads matched by address (``--map``),
created with ``--create-missing`` or listed as unmatched, states, parents, reruns."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import Comment, CommentState, Publication
from tests.archive_samples import DATA, WpPost, isso_db, write, wxr
from tests.helpers import make_publication


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Comment).order_by(Comment.id)))


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


def disqus(threads: str, posts: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
{threads}{posts}
</disqus>"""


def thread(key: int, link: str, title: str = "A thread") -> str:
    return f"""<thread dsq:id="{key}"><id/><forum>news</forum><link>{link}</link>
<title>{title}</title><createdAt>2015-03-01T10:00:00Z</createdAt></thread>"""


def post(
    key: int,
    thread_key: int,
    message: str = "<p>Hello.</p>",
    *,
    parent: int | None = None,
    deleted: bool = False,
    spam: bool = False,
    created: str = "2015-03-02T10:00:00Z",
) -> str:
    parent_tag = f'<parent dsq:id="{parent}"/>' if parent else ""
    return f"""<post dsq:id="{key}"><id/><message><![CDATA[{message}]]></message>
<createdAt>{created}</createdAt><isDeleted>{str(deleted).lower()}</isDeleted>
<isSpam>{str(spam).lower()}</isSpam><author><email>r{key}@example.org</email>
<name>Reader {key}</name><isAnonymous>false</isAnonymous></author>
<ipAddress>192.0.2.{key % 250}</ipAddress><thread dsq:id="{thread_key}"/>{parent_tag}</post>"""


# --- Disqus --------------------------------------------------------------------------------


def test_isso_disqus_sample_lists_unmatched_threads(app: Flask, runner) -> None:
    result = runner.invoke(args=["import", "disqus", str(DATA / "isso-disqus.xml")])
    assert result.exit_code == 0, result.output
    assert "1 threads matched no publication:" in result.output
    assert "http://example.org/ 'Hello, World!'" in result.output
    assert "post 6: its thread 1337 is not in the file; skipped" in result.output
    assert last_line(result) == "imported 0 publications, 0 comments; skipped 3"


def test_isso_disqus_sample_with_create_missing(app: Flask, runner) -> None:
    args = ["import", "disqus", str(DATA / "isso-disqus.xml"), "--create-missing"]
    result = runner.invoke(args=args)
    assert last_line(result) == "imported 1 publications, 2 comments; skipped 1"
    publication = db.session.scalar(select(Publication))
    assert publication.title == "Hello, World!" and publication.slug == "hello-world"
    assert publication.published_at == datetime(2012, 12, 12, 12, 12, 12, tzinfo=UTC)
    first, reply = comments()
    assert reply.parent_id == first.id and reply.root_id == first.id
    assert reply.body_text == "Hello, World."
    again = runner.invoke(args=args)
    assert last_line(again) == "imported 0 publications, 0 comments; skipped 3"
    assert count(Publication) == 1 and count(Comment) == 2


def test_threads_match_by_address_through_map(app: Flask, runner, tmp_path: Path) -> None:
    ours = make_publication(slug="budget-vote", title="Budget vote")
    text = disqus(
        thread(1, "http://old.example.com/blog/budget-vote/")
        + thread(2, "http://old.example.com/blog/elsewhere/"),
        post(10, 1)
        + post(11, 1, parent=12)  # its parent comes later in the file
        + post(12, 1, "Parent.")
        + post(13, 1, "Gone.", deleted=True)
        + post(14, 1, "Buy now", spam=True)
        + post(15, 1, "", deleted=True)
        + post(16, 2),
    )
    path = write(tmp_path, "disqus.xml", text)
    result = runner.invoke(
        args=[
            "import",
            "disqus",
            str(path),
            "--map",
            "http://old.example.com/blog/=https://news.example.org/publications/",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "http://old.example.com/blog/elsewhere/ 'A thread'" in result.output
    assert last_line(result) == "imported 0 publications, 6 comments; skipped 1"
    assert "1 thread matched no publication" in result.output
    by_id = {c.source_id: c for c in comments()}
    assert {c.publication_id for c in by_id.values()} == {ours.id}
    assert by_id["post 11"].parent_id == by_id["post 12"].id
    assert by_id["post 11"].root_id == by_id["post 12"].id
    assert by_id["post 13"].state is CommentState.REJECTED
    assert by_id["post 14"].state is CommentState.SPAM
    assert by_id["post 15"].body_text == "(deleted on Disqus)"
    assert by_id["post 10"].state is CommentState.APPROVED


def test_a_reply_whose_parent_is_on_another_page_is_imported_top_level(
    app: Flask, runner, tmp_path: Path
) -> None:
    """A thread shows on one page: a reply filed under another page's comment (Disqus
    ids are site-wide) would show on neither, so it starts a thread of its own."""
    first = make_publication(slug="first-vote", title="First vote")
    second = make_publication(slug="second-vote", title="Second vote")
    text = disqus(
        thread(1, "https://news.example.org/publications/first-vote")
        + thread(2, "https://news.example.org/publications/second-vote"),
        post(20, 1, "On the first.") + post(21, 2, "Filed under it.", parent=20),
    )
    path = write(tmp_path, "disqus.xml", text)
    result = runner.invoke(args=["import", "disqus", str(path)])
    assert result.exit_code == 0, result.output
    assert "its parent is on another page; shown as top-level" in result.output
    by_id = {c.source_id: c for c in comments()}
    reply = by_id["post 21"]
    assert reply.publication_id == second.id and reply.parent_id is None and reply.root_id is None
    assert by_id["post 20"].publication_id == first.id
    page = app.test_client().get("/publications/second-vote").get_data(as_text=True)
    assert "Filed under it." in page


def test_disqus_threads_find_publications_a_wordpress_import_brought(
    app: Flask, runner, tmp_path: Path
) -> None:
    """A WordPress site that used Disqus: its threads' addresses are the old permalinks."""
    link = "https://old.example.org/2016/02/elections/"
    runner.invoke(
        args=["import", "wordpress", str(write(tmp_path, "wp.xml", wxr([WpPost(3, link=link)])))]
    )
    path = write(tmp_path, "d.xml", disqus(thread(1, link), post(5, 1)))
    result = runner.invoke(args=["import", "disqus", str(path)])
    assert last_line(result) == "imported 0 publications, 1 comments; skipped 0"


def test_a_bad_map_is_a_usage_error(app: Flask, runner) -> None:
    result = runner.invoke(
        args=["import", "disqus", str(DATA / "isso-disqus.xml"), "--map", "no-equals"]
    )
    assert result.exit_code == 2
    assert "OLD_PREFIX=NEW_PREFIX" in result.output


def test_a_wordpress_file_is_not_a_disqus_export(app: Flask, runner) -> None:
    result = runner.invoke(args=["import", "disqus", str(DATA / "isso-wordpress.xml")])
    assert result.exit_code == 1
    assert "This is not a Disqus export: the file's first element is <rss>" in result.output


# --- Isso ------------------------------------------------------------------------------------


def test_isso_database(app: Flask, runner, tmp_path: Path) -> None:
    ours = make_publication(slug="on-water", title="On water")
    created = datetime(2019, 4, 1, 8, 0, tzinfo=UTC).timestamp()
    path = isso_db(
        tmp_path / "comments.db",
        threads=[(1, "/publications/on-water", "On water"), (2, "/nowhere/", "Nowhere")],
        comments=[
            (
                1,
                1,
                None,
                created,
                1,
                "198.51.100.1",
                "First *emphasis*",
                "Ann",
                "a@x.org",
                "https://ann.example",
            ),
            (1, 2, 1, created + 60, 2, "198.51.100.2", "A pending reply", "Ben", None, None),
            (1, 3, 2, created + 120, 4, "198.51.100.3", "", None, None, None),
            (
                1,
                4,
                3,
                created + 180,
                1,
                None,
                "Under a deleted one <script>x</script>",
                "Cy",
                None,
                None,
            ),
            (2, 5, None, created, 1, None, "Elsewhere", "Di", None, None),
        ],
    )
    result = runner.invoke(args=["import", "isso", str(path)])
    assert result.exit_code == 0, result.output
    assert last_line(result) == "imported 0 publications, 4 comments; skipped 1"
    first, pending, deleted, under = comments()
    assert {c.publication_id for c in (first, pending, deleted, under)} == {ours.id}
    assert first.body_html == "<p>First <em>emphasis</em></p>"
    assert first.website == "https://ann.example"
    assert first.created_at == datetime(2019, 4, 1, 8, 0, tzinfo=UTC)
    assert [c.state for c in (first, pending, deleted, under)] == [
        CommentState.APPROVED,
        CommentState.PENDING,
        CommentState.REJECTED,
        CommentState.APPROVED,
    ]
    assert deleted.body_text == "(deleted on Isso)"
    assert under.parent_id == deleted.id and under.root_id == first.id
    assert "<script>" not in under.body_html and "&lt;script&gt;" in under.body_html
    again = runner.invoke(args=["import", "isso", str(path)])
    assert last_line(again) == "imported 0 publications, 0 comments; skipped 5"


def test_isso_create_missing_and_dry_run(app: Flask, runner, tmp_path: Path) -> None:
    path = isso_db(
        tmp_path / "c.db",
        threads=[(1, "/2014/test/", "Test")],
        comments=[(1, 1, None, 1400000000.0, 1, None, "Hi", "A", None, None)],
    )
    dry = runner.invoke(args=["import", "isso", str(path), "--create-missing", "--dry-run"])
    assert last_line(dry) == (
        "dry run, nothing written: would have imported 1 publications, 1 comments; skipped 0"
    )
    assert count(Publication) == 0 and count(Comment) == 0
    real = runner.invoke(args=["import", "isso", str(path), "--create-missing"])
    assert last_line(real) == "imported 1 publications, 1 comments; skipped 0"
    assert db.session.scalar(select(Publication.slug)) == "test"


@pytest.mark.parametrize(
    "content", [b"SQLite format 3\x00 but broken", b"not a database at all", b""]
)
def test_a_file_that_is_not_an_isso_database(app: Flask, runner, tmp_path: Path, content) -> None:
    path = write(tmp_path, "x.db", content)
    result = runner.invoke(args=["import", "isso", str(path)])
    assert result.exit_code == 1
    assert "This is not an Isso database" in result.output
    assert "Traceback" not in result.output


def test_an_isso_file_whose_comments_are_a_view_is_refused(
    app: Flask, runner, tmp_path: Path
) -> None:
    import sqlite3

    path = tmp_path / "view.db"
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri TEXT, title TEXT);"
        "CREATE VIEW comments AS SELECT 1 AS tid, 1 AS id;"
    )
    connection.close()
    result = runner.invoke(args=["import", "isso", str(path)])
    assert result.exit_code == 1
    assert "it has no threads and comments tables" in result.output
