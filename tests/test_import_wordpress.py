"""Importing a WordPress export: real sample files, every rule of the mapping, hostile
files, idempotency, dry runs, old addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from discussion.archive import wordpress
from discussion.archive.importing import Importer
from discussion.comments import sanitizer
from discussion.comments.privacy import keyed_hash
from discussion.extensions import db
from discussion.models import (
    Comment,
    CommentState,
    Decision,
    LegacyAddress,
    Publication,
    PublicationType,
)
from discussion.web import clock
from tests.archive_samples import DATA, WpComment, WpPost, write, wxr


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def comments() -> list[Comment]:
    db.session.expire_all()
    return list(db.session.scalars(select(Comment).order_by(Comment.id)))


def run(runner, path: Path, *extra: str):
    result = runner.invoke(args=["import", "wordpress", str(path), *extra])
    return result


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


# --- real exports ------------------------------------------------------------------------


def test_wordpress_importer_sample_wxr_1_1(app: Flask, runner) -> None:
    result = run(runner, DATA / "wordpress-importer-valid-wxr-1.1.xml")
    assert result.exit_code == 0, result.output
    assert last_line(result) == "imported 1 publications, 1 comments; skipped 1"
    assert "1 pages (import them with --pages)" in result.output
    publication = db.session.scalar(select(Publication))
    assert publication.slug == "hello-world"
    assert publication.title == "Hello world!"
    assert publication.published_at == datetime(2010, 10, 16, 20, 53, 18, tzinfo=UTC)
    assert [a.name for a in publication.authors] == ["John Doe"]
    assert sorted(t.name for t in publication.topics) == ["Clippable", "alpha"]
    assert "Welcome to WordPress" in publication.body_html
    (comment,) = comments()
    assert comment.name == "Mr WordPress"
    assert comment.website == "http://wordpress.org/"
    assert comment.state is CommentState.APPROVED
    assert "view the post's comments" in comment.body_text
    assert comment.body_html == sanitizer.render(comment.body_text)


def test_pages_come_with_the_pages_option(app: Flask, runner) -> None:
    result = run(runner, DATA / "wordpress-importer-valid-wxr-1.1.xml", "--pages")
    assert last_line(result) == "imported 2 publications, 1 comments; skipped 0"
    page = db.session.scalar(select(Publication).filter_by(slug="about"))
    assert [t.name for t in page.types] == ["Page"]


def test_wordpress_importer_sample_wxr_1_2(app: Flask, runner) -> None:
    result = run(runner, DATA / "wordpress-importer-wxr-simple.xml")
    assert last_line(result) == "imported 1 publications, 0 comments; skipped 0"
    publication = db.session.scalar(select(Publication))
    assert publication.title == '"The Road Not Taken" by Robert Frost'
    assert '<a href="https://w.org">third</a>' in publication.body_html
    assert "<!--" not in publication.body_source


def test_isso_sample_threads_and_malformed_items(app: Flask, runner) -> None:
    """Isso's importer test file: WXR 1.0, a reply chain, an item without a post id."""
    result = run(runner, DATA / "isso-wordpress.xml")
    assert result.exit_code == 0, result.output
    assert last_line(result) == "imported 1 publications, 7 comments; skipped 3"
    assert "item 2 (post ?, '...'): no wp:post_id; skipped with its comments" in result.output
    by_text = {c.body_text: c for c in comments()}
    second, reply = by_text["Zweiter."], by_text["Drölfter!"]
    assert reply.parent_id == second.id and reply.root_id == second.id
    deeper = by_text["Yet another reply."]
    assert deeper.parent_id == reply.id and deeper.root_id == second.id
    multiline = by_text[
        "When you have a comment with multiple lines:  \nWordPress exports it like this."
    ]
    assert multiline.created_at == datetime(2022, 6, 6, 2, 13, 14, tzinfo=UTC)  # the GMT one
    assert "<br>" in multiline.body_html


# --- the mapping --------------------------------------------------------------------------


def test_states_types_and_skips(app: Flask, runner, tmp_path: Path) -> None:
    post = WpPost(
        1,
        title="States",
        name="states",
        categories=[
            ("category", "Elections"),
            ("post_tag", "Polls"),
            ("category", "Uncategorized"),
        ],
        excerpt="<b>The</b> dek.",
        comments=[
            WpComment(1, approved="1"),
            WpComment(2, approved="0"),
            WpComment(3, approved="spam"),
            WpComment(4, approved="trash"),
            WpComment(5, type="pingback"),
            WpComment(6, type="trackback"),
        ],
    )
    others = [
        WpPost(2, status="draft", comments=[WpComment(7)]),
        WpPost(3, type="attachment"),
        WpPost(4, type="page"),
        WpPost(5, type="nav_menu_item"),
    ]
    result = run(runner, write(tmp_path, "e.xml", wxr([post, *others])))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "imported 1 publications, 4 comments; skipped 7"
    assert "2 pingbacks and trackbacks" in result.output
    assert "1 not published (draft)" in result.output and "1 attachments" in result.output
    assert [c.state for c in comments()] == [
        CommentState.APPROVED,
        CommentState.PENDING,
        CommentState.SPAM,
        CommentState.REJECTED,
    ]
    publication = db.session.scalar(select(Publication))
    assert sorted(t.name for t in publication.topics) == ["Elections", "Polls"]
    assert publication.dek == "The dek."
    assert [a.name for a in publication.authors] == ["Jane Doe"]
    decided = db.session.scalars(select(Decision.to_state).order_by(Decision.id)).all()
    assert decided == [CommentState.APPROVED, CommentState.SPAM, CommentState.REJECTED]
    assert count(PublicationType) == 0


def test_comment_html_is_never_trusted(app: Flask, runner, tmp_path: Path) -> None:
    hostile = (
        '<p onclick="steal()">Hi <script>alert(1)</script><b>there</b></p>'
        '<a href="javascript:alert(2)">click</a> <a href="https://ok.example.org/">fine</a>'
        '<img src="x" onerror="alert(3)"><iframe src="https://evil.example/"></iframe>'
        "<style>body{display:none}</style>"
    )
    post = WpPost(1, content=hostile + "<h2>Sub</h2>", comments=[WpComment(1, content=hostile)])
    run(runner, write(tmp_path, "h.xml", wxr([post])))
    (comment,) = comments()
    for bad in ("script", "alert", "onclick", "javascript", "iframe", "onerror", "<style"):
        assert bad not in comment.body_html, bad
    assert "**there**" in comment.body_text
    assert comment.body_html == sanitizer.render(comment.body_text)
    assert '<a href="https://ok.example.org/" rel="nofollow ugc noopener">fine</a>' in (
        comment.body_html
    )
    publication = db.session.scalar(select(Publication))
    assert "<h2>Sub</h2>" in publication.body_html
    for bad in ("script", "alert", "onclick", "javascript", "iframe", "display:none"):
        assert bad not in publication.body_html, bad
    assert publication.body_html == sanitizer.render_article(publication.body_source)


def test_addresses_follow_the_privacy_rules(app: Flask, runner, tmp_path: Path, clock) -> None:
    recent = (clock[0] - timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S")
    post = WpPost(
        1,
        comments=[
            WpComment(1, ip="198.51.100.7", date_gmt=recent),
            WpComment(2, ip="198.51.100.8", date_gmt="2019-01-01 00:00:00"),
            WpComment(3, ip="not an address"),
        ],
    )
    run(runner, write(tmp_path, "p.xml", wxr([post])))
    new, old, odd = comments()
    key = app.config["SECRET_KEY"]
    assert new.ip_address == "198.51.100.7"
    assert new.ip_hash == keyed_hash("198.51.100.7", key, "address")
    assert old.ip_address is None  # past the retention window: only the keyed hash
    assert old.ip_hash == keyed_hash("198.51.100.8", key, "address")
    assert odd.ip_address is None and odd.ip_hash is None


def test_old_addresses_answer_301(app: Flask, runner, client, tmp_path: Path) -> None:
    posts = [
        WpPost(
            7,
            title="Pretty",
            name="pretty-post",
            link="https://old.example.org/2019/05/pretty-post/",
        ),
        WpPost(8, title="Plain", name="plain", link="https://old.example.org/?p=8"),
    ]
    run(runner, write(tmp_path, "a.xml", wxr(posts)))
    for old, slug in (
        ("/2019/05/pretty-post/", "pretty-post"),
        ("/2019/05/pretty-post", "pretty-post"),
        ("/?p=7", "pretty-post"),
        ("/?p=8", "plain"),
    ):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith(f"/publications/{slug}")
    assert count(LegacyAddress) == 3  # post 8's link is its /?p=8
    assert client.get("/2019/05/nothing-here/").status_code == 404
    assert client.get("/?p=999").status_code == 200  # the front page, as before


def test_a_taken_slug_gets_a_free_one_and_the_old_slug_redirects(
    app: Flask, runner, client, tmp_path: Path
) -> None:
    from tests.helpers import make_publication

    make_publication(slug="shared-name", title="Ours")
    run(runner, write(tmp_path, "s.xml", wxr([WpPost(1, title="Theirs", name="shared-name")])))
    theirs = db.session.scalar(select(Publication).filter_by(title="Theirs"))
    assert theirs.slug == "shared-name-2"


# --- idempotency, dry runs, crashes --------------------------------------------------------


def test_importing_twice_changes_nothing_and_a_newer_export_adds_only_the_new(
    app: Flask, runner, tmp_path: Path
) -> None:
    post = WpPost(1, comments=[WpComment(1), WpComment(2, parent=1)])
    path = write(tmp_path, "v1.xml", wxr([post]))
    assert last_line(run(runner, path)) == "imported 1 publications, 2 comments; skipped 0"
    before = [(c.id, c.parent_id, c.body_text) for c in comments()]
    again = run(runner, path)
    assert last_line(again) == "imported 0 publications, 0 comments; skipped 3"
    assert "2 already imported" in again.output
    assert [(c.id, c.parent_id, c.body_text) for c in comments()] == before
    post.comments.append(WpComment(3, parent=2, content="Newer."))
    newer = run(runner, write(tmp_path, "v2.xml", wxr([post, WpPost(2)])))
    assert last_line(newer) == "imported 1 publications, 1 comments; skipped 3"
    latest = comments()[-1]
    assert latest.body_text == "Newer." and latest.root_id == before[0][0]
    assert count(Publication) == 2


def test_a_dry_run_writes_nothing(app: Flask, runner, tmp_path: Path) -> None:
    path = write(
        tmp_path, "d.xml", wxr([WpPost(1, comments=[WpComment(1), WpComment(2, parent=1)])])
    )
    result = run(runner, path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert last_line(result) == (
        "dry run, nothing written: would have imported 1 publications, 2 comments; skipped 0"
    )
    assert count(Publication) == 0 and count(Comment) == 0 and count(LegacyAddress) == 0


def test_a_crashed_import_resumes_without_duplicates(app: Flask, tmp_path: Path) -> None:
    posts = [
        WpPost(n, comments=[WpComment(n * 10 + i, parent=(n * 10 if i else 0)) for i in range(3)])
        for n in range(1, 5)
    ]
    path = write(tmp_path, "c.xml", wxr(posts))

    def importer() -> Importer:
        return Importer(
            "wordpress", secret_key="k", personal_data_days=30, now=clock.now(), batch=2
        )

    class Crash(Exception):
        pass

    calls = [0]

    def crash_on_third_item(_position: int) -> None:
        calls[0] += 1  # after each element: the site's link and address, an author, items
        if calls[0] == 6:
            raise Crash

    with path.open("rb") as source, pytest.raises(Crash):
        wordpress.run(importer(), source, progress=crash_on_third_item)
    db.session.rollback()
    assert 0 < count(Comment) < 12
    with path.open("rb") as source:
        resumed = importer()
        wordpress.run(resumed, source)
        summary = resumed.finish()
    assert count(Comment) == 12 and count(Publication) == 4
    assert summary.comments.imported + summary.comments.skipped["already imported"] == 12
    assert all(c.parent_id is not None for c in comments() if c.source_id.endswith(("1", "2")))


# --- hostile files ------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss><channel><item><title>&lol9;</title></item></channel></rss>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&secret;</title></item></channel></rss>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external"])
def test_entities_are_refused_with_one_clear_error(
    app: Flask, runner, tmp_path: Path, text: str
) -> None:
    result = run(runner, write(tmp_path, "x.xml", text))
    assert result.exit_code == 1
    assert "declares a DTD or entities" in result.output
    assert "Traceback" not in result.output and "root:" not in result.output
    assert count(Publication) == 0


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "disqus.xml",
            (DATA / "isso-disqus.xml").read_text(),
            "first element is <disqus>, not <rss>",
        ),
        (
            "feed.xml",
            '<rss version="2.0"><channel><item><title>x</title></item></channel></rss>',
            "plain RSS feed",
        ),
        ("data.json", '{"publications": []}', "This is not a WordPress export (WXR)"),
        ("empty.xml", "", "This is not a WordPress export (WXR)"),
    ],
)
def test_a_file_of_another_format_gives_one_clear_error(
    app: Flask, runner, tmp_path: Path, name: str, text: str, message: str
) -> None:
    result = run(runner, write(tmp_path, name, text))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_ten_megabyte_comment_is_skipped_with_a_warning(
    app: Flask, runner, tmp_path: Path
) -> None:
    huge = "word " * (2 * 1024 * 1024)
    post = WpPost(1, comments=[WpComment(1, content=huge), WpComment(2, content="Short.")])
    result = run(runner, write(tmp_path, "big.xml", wxr([post])))
    assert last_line(result) == "imported 1 publications, 1 comments; skipped 1"
    assert "comment 1: 10,485,760 characters, longer than any comment; skipped" in result.output


def test_invalid_utf8_is_replaced_and_named(app: Flask, runner, tmp_path: Path) -> None:
    text = wxr([WpPost(1, comments=[WpComment(1, content="caf\u00e9 BAD"), WpComment(2)])])
    raw = text.encode("utf-8").replace(b"BAD", b"\xff\xfe bytes")
    result = run(runner, write(tmp_path, "u.xml", raw))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "imported 1 publications, 2 comments; skipped 0"
    assert "comment 1: bytes that are not UTF-8 replaced" in result.output
    assert "2 byte sequences that are not UTF-8 were replaced" in result.output
    assert comments()[0].body_text == "caf\u00e9 \ufffd\ufffd bytes"


def test_times_in_odd_zones_are_stored_in_utc(app: Flask, runner, tmp_path: Path) -> None:
    post = WpPost(
        1,
        date_gmt="0000-00-00 00:00:00",  # WordPress writes this for some imported posts
        pub_date="Wed, 05 Jun 2024 16:04:48 +0545",  # Nepal
        comments=[WpComment(1, date_gmt="", date="2024-06-05 18:00:00")],
    )
    result = run(runner, write(tmp_path, "t.xml", wxr([post])))
    publication = db.session.scalar(select(Publication))
    assert publication.published_at == datetime(2024, 6, 5, 10, 19, 48, tzinfo=UTC)
    assert comments()[0].created_at == datetime(2024, 6, 5, 18, 0, tzinfo=UTC)
    assert "no UTC date; its local date is taken as UTC" in result.output


def test_parents_missing_or_in_a_circle(app: Flask, runner, tmp_path: Path) -> None:
    post = WpPost(
        1,
        comments=[
            WpComment(1, parent=99, content="Orphan."),
            WpComment(2, parent=3, content="A."),
            WpComment(3, parent=2, content="B."),
            WpComment(4, parent=4, content="Self."),
            WpComment(5, parent=3, content="Under B."),
        ],
    )
    result = run(runner, write(tmp_path, "loop.xml", wxr([post])))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "imported 1 publications, 5 comments; skipped 0"
    assert "comment 99" not in result.output
    assert "comment 1: its parent is not in the file; shown as a top-level comment" in result.output
    assert "in a circle" in result.output
    by_text = {c.body_text: c for c in comments()}
    assert by_text["Orphan."].parent_id is None
    assert by_text["Self."].parent_id is None
    a, b = by_text["A."], by_text["B."]
    assert {a.parent_id, b.parent_id} == {None, a.id} or {a.parent_id, b.parent_id} == {None, b.id}
    top = a if a.parent_id is None else b
    for c in by_text.values():  # every thread ends at a top-level comment
        assert c.root_id is None if c.parent_id is None else c.root_id is not None
    assert by_text["Under B."].root_id == top.id


def test_worker_processes_store_what_one_process_stores(app: Flask, tmp_path: Path) -> None:
    """Large imports convert and sanitize in worker processes: same text, same HTML."""
    from discussion.archive.convert import render_batch

    bodies = [
        f"Comment <b>{n}</b> with a [link](https://example.org/{n}) & *stars*" for n in range(600)
    ]
    post = WpPost(1, comments=[WpComment(n + 1, content=b) for n, b in enumerate(bodies)])
    path = write(tmp_path, "many.xml", wxr([post]))
    importer = Importer(
        "wordpress", secret_key="k", personal_data_days=30, now=clock.now(), workers=2
    )
    with path.open("rb") as source:
        wordpress.run(importer, source)
    assert importer.finish().comments.imported == 600
    stored = [(c.body_text, c.body_html, c.body_hash) for c in comments()]
    assert stored == render_batch([(b, "html") for b in bodies])


def test_a_changed_post_updates_its_publication_unless_an_editor_saved_it(
    app: Flask, runner, tmp_path: Path, editor
) -> None:
    from discussion.desk import editing

    post = WpPost(1, title="First title", content="<p>First body.</p>")
    run(runner, write(tmp_path, "v1.xml", wxr([post])))
    post.title, post.content = "Corrected title", "<p>Corrected body.</p>"
    path = write(tmp_path, "v2.xml", wxr([post]))
    dry = run(runner, path, "--dry-run")
    assert "publications: 0 imported, 1 updated, 0 skipped" in dry.output
    assert db.session.scalar(select(Publication.title)) == "First title"
    assert "publications: 0 imported, 1 updated, 0 skipped" in run(runner, path).output
    db.session.expire_all()
    publication = db.session.scalar(select(Publication))
    assert publication.title == "Corrected title"
    assert "Corrected body." in publication.body_html
    draft = editing.Draft.of(publication)
    editing.save(
        publication,
        editing.Draft(**{**draft.__dict__, "title": "The editor's title"}),
        editing.Action.PUBLISH,
        editor,
        now=clock.now(),
    )
    db.session.commit()
    post.title = "Third title from WordPress"
    again = run(runner, write(tmp_path, "v3.xml", wxr([post])))
    assert "publications: 0 imported, 0 updated, 1 skipped (1 already imported)" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(Publication.title)) == "The editor's title"


def test_a_dry_run_tells_what_the_import_would(app: Flask, runner, tmp_path: Path) -> None:
    post = WpPost(
        1, comments=[WpComment(1, parent=2, content="Reply."), WpComment(2), WpComment(3, parent=9)]
    )
    path = write(tmp_path, "f.xml", wxr([post]))
    dry = run(runner, path, "--dry-run")
    real = run(runner, path)
    assert dry.output.splitlines()[1:-1] == real.output.splitlines()[1:-1]
    assert "comment 3: its parent is not in the file" in real.output
    assert "comment 1:" not in real.output
