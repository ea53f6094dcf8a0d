"""Search: stemming, phrases, ranking, filters, snippets, pages, hostile queries, help when
nothing is found, the index following every change, and the queue's full-text search.

Each test runs on SQLite (FTS5) and PostgreSQL (tsvector): the same expectations on both
are what "the same queries give the same top results" means here."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import ARRAY, Text, bindparam, cast, event, select, text

from discussion.archive import archivefile
from discussion.desk import editing
from discussion.desk.labels import merge, rename
from discussion.discovery import fulltext
from discussion.extensions import db
from discussion.models import (
    Comment,
    CommentState,
    Moderator,
    Publication,
    PublicationSearch,
    PublicationState,
    Topic,
)
from discussion.moderation import queue
from tests.archive_samples import WpPost, write, wxr
from tests.helpers import login, make_comment, make_publication


def titles(client: FlaskClient, **args: str) -> list[str]:
    response = client.get("/search", query_string=args)
    assert response.status_code == 200
    return re.findall(
        r'class="search-result__title"><a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True)
    )


def test_words_are_stemmed_and_every_word_must_match(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Talks resume", body=["The negotiations resumed in Doha."])
    make_publication(title="Aid arrives", body=["Convoys negotiate the mountain roads."])
    make_publication(title="Elections", body=["Turnout was high."])
    assert sorted(titles(client, q="negotiate")) == ["Aid arrives", "Talks resume"]
    assert titles(client, q="negotiations Doha") == ["Talks resume"]
    assert titles(client, q="NEGOTIATING") != []  # any case


def test_title_ranks_above_dek_above_body(app: Flask, client: FlaskClient) -> None:
    make_publication(title="In the body", dek="Nothing here.", body=["Ceasefire holds."])
    make_publication(title="Ceasefire in the title", dek="Nothing here.", body=["No."])
    make_publication(title="In the dek", dek="A ceasefire, at last.", body=["No."])
    assert titles(client, q="ceasefire") == ["Ceasefire in the title", "In the dek", "In the body"]


def test_quoted_phrases_or_and_left_out_words(app: Flask, client: FlaskClient) -> None:
    make_publication(title="One", body=["The peace process stalled."])
    make_publication(title="Two", body=["A process for lasting peace."])
    make_publication(title="Three", body=["Sanctions on exports."])
    assert titles(client, q='"peace process"') == ["One"]
    assert sorted(titles(client, q="peace")) == ["One", "Two"]
    assert sorted(titles(client, q="stalled OR sanctions")) == ["One", "Three"]
    assert titles(client, q="peace -lasting") == ["One"]


def test_authors_and_topics_are_searched(app: Flask, client: FlaskClient) -> None:
    make_publication(title="By her", authors=[{"name": "Viola Gienger"}])
    make_publication(title="On it", topics=["Violent Extremism"])
    assert titles(client, q="gienger") == ["By her"]
    assert titles(client, q="extremism") == ["On it"]


def test_only_public_publications_are_found(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Seen", body=["Mediation works."])
    hidden = make_publication(title="Unpublished", body=["Mediation fails."])
    hidden.state = PublicationState.UNPUBLISHED
    later = make_publication(title="Scheduled", body=["Mediation later."])
    later.published_at = datetime(2999, 1, 1, tzinfo=UTC)
    db.session.commit()
    assert titles(client, q="mediation") == ["Seen"]


def test_filters_by_type_topic_and_dates_and_newest_first(app: Flask, client: FlaskClient) -> None:
    make_publication(
        title="Old analysis", types=["Analysis"], topics=["Iran"], published="2020-05-01"
    )
    make_publication(
        title="New analysis", types=["Analysis"], topics=["Iraq"], published="2024-05-01"
    )
    make_publication(title="New report", types=["Report"], topics=["Iran"], published="2024-06-01")
    for p in ("Old analysis", "New analysis", "New report"):
        db.session.scalar(db.select(Publication).filter_by(title=p)).body_html += "<p>drones</p>"
    db.session.commit()
    assert sorted(titles(client, q="drones", type="analysis")) == ["New analysis", "Old analysis"]
    assert sorted(titles(client, q="drones", topic="iran")) == ["New report", "Old analysis"]
    assert sorted(titles(client, q="drones", **{"from": "2024-01-01"})) == [
        "New analysis",
        "New report",
    ]
    assert titles(client, q="drones", to="2021-12-31") == ["Old analysis"]
    assert titles(client, q="drones", sort="newest") == [
        "New report",
        "New analysis",
        "Old analysis",
    ]


def test_passages_mark_the_words_found_and_escape_the_rest(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Markup", body=["Write <b>bold</b> & the word sanctions."])
    page = client.get("/search?q=sanction").get_data(as_text=True)
    passage = re.search(r'search-result__passage">(.*?)</p>', page, re.S).group(1)
    assert "<mark>sanctions</mark>" in passage
    assert "bold" in passage and "&amp;" in passage and "<b>" not in passage


def test_results_come_a_page_at_a_time_with_rel_next(app: Flask, client: FlaskClient) -> None:
    for n in range(12):
        make_publication(
            title=f"Water {n}", body=["Water rights."], published=f"2024-01-{n + 1:02d}"
        )
    first = client.get("/search?q=water&sort=newest").get_data(as_text=True)
    assert len(re.findall(r'class="search-result"', first)) == 10
    assert '<link rel="next" href="/search?page=2&amp;q=water&amp;sort=newest">' in first
    assert '<meta name="robots" content="noindex">' in first
    second = titles(client, q="water", sort="newest", page="2")
    assert second == ["Water 1", "Water 0"]
    assert client.get("/search?q=water&page=3").status_code == 404
    assert client.get("/search?q=water&page=x").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "NEAR(a b)",
        '"',
        '"unbalanced quote',
        "*",
        "-",
        "- OR",
        "OR",
        "a OR",
        "AND NOT",
        "col:umn",
        "^start",
        "\x00",
        "x\x00y",
        "{title}: x",
        "é" * 300,
        "w " * 5000,
        "x" * 10_000,
        "'; DROP TABLE publications; --",
        "%_\\",
    ],
)
def test_hostile_queries_give_results_or_help(app: Flask, client: FlaskClient, query: str) -> None:
    make_publication(title="Anything", body=["Near the start of the column."])
    response = client.get("/search", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "search-results" in page or "Browse by topic" in page


def test_a_long_query_says_what_was_read(app: Flask, client: FlaskClient) -> None:
    page = client.get("/search", query_string={"q": "peace " * 50}).get_data(as_text=True)
    assert "Only the first 256 characters and 12 words" in page


def test_an_empty_search_offers_topics_and_the_latest(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Latest one", topics=["Iran"])
    page = client.get("/search").get_data(as_text=True)
    assert 'href="/topics/iran"' in page and "Latest one" in page
    assert "No publications match" not in page


def test_no_results_suggest_what_to_try(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Only one", types=["Analysis"], topics=["Iran"], body=["Peace talks."])
    page = client.get('/search?q="talks+peace"+nothing&type=analysis').get_data(as_text=True)
    assert "No publications match" in page
    assert 'href="/search?q=%22talks+peace%22+nothing"' in page  # without the filters
    assert "without the quotes: talks peace nothing" in page
    assert "any of the words: &#34;talks peace&#34; OR nothing" in page
    assert 'href="/topics/iran"' in page and "Only one" in page  # topics, the latest


def test_misspelled_words_get_a_suggestion_that_finds_something(
    app: Flask, client: FlaskClient
) -> None:
    make_publication(
        title="Negotiations in Doha",
        dek="Mediators meet.",
        types=["Analysis"],
        authors=[{"name": "Ana Ortiz"}],
    )
    make_publication(title="Elections in Kabul", types=["Report"])
    page = client.get("/search?q=negotiatons+dooha&type=analysis").get_data(as_text=True)
    assert "No publications match" in page
    assert (
        'Did you mean <a href="/search?q=negotiations+doha&amp;type=analysis">'
        "negotiations doha</a>?" in page
    )
    assert titles(client, q="negotiations doha", type="analysis") == ["Negotiations in Doha"]
    assert "Did you mean" in client.get("/search?q=ortis").get_data(as_text=True)  # authors
    # No suggestion that would find nothing: Kabul is not an analysis; nor for far words.
    assert "Did you mean" not in client.get("/search?q=kabull&type=analysis").get_data(as_text=True)
    assert "Did you mean" not in client.get("/search?q=zzyzx").get_data(as_text=True)


def test_only_left_out_words_ask_for_a_word(app: Flask, client: FlaskClient) -> None:
    page = client.get("/search?q=-war").get_data(as_text=True)
    assert "Add a word to look for" in page


@pytest.mark.parametrize("dates", [{"to": "9999-12-31"}, {"from": "0001-01-01"}])
def test_far_dates_are_explained_not_errors(
    app: Flask, client: FlaskClient, dates: dict[str, str]
) -> None:
    make_publication(title="Found", body=["Refugees."])
    response = client.get("/search", query_string={"q": "refugees", **dates})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Dates run from 1800 to 2999" in page and "Found" in page


def test_unknown_filters_and_dates_are_explained_not_errors(
    app: Flask, client: FlaskClient
) -> None:
    make_publication(title="Found", body=["Refugees."])
    response = client.get("/search?q=refugees&topic=nothing&from=yesterday")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "That type or topic does not exist" in page and "not a date like" in page
    assert "Found" in page


def test_every_page_has_a_search_box_that_works_without_javascript(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get("/").get_data(as_text=True)
    form = re.search(
        r'<form class="site-search" method="get" action="/search".*?</form>', page, re.S
    )
    assert form and 'name="q"' in form.group(0) and 'type="submit"' in form.group(0)
    assert "Disallow: /search" in client.get("/robots.txt").get_data(as_text=True)


def test_an_editors_save_is_searchable_in_the_same_transaction(
    app: Flask, editor: Moderator
) -> None:
    publication = make_publication(title="Draft story", body=["Nothing yet."])
    draft = editing.Draft.of(publication)
    changed = editing.Draft(**{**draft.__dict__, "body": "The flotilla sailed at dawn."})
    editing.save(
        publication,
        changed,
        editing.Action.PUBLISH,
        editor,
        now=publication.published_at,
        started_from=publication.revision,
    )
    found = db.session.execute(
        db.select(db.literal_column("id")).select_from(
            fulltext.ranked_publications(db.session, fulltext.parse("flotilla"))
        )
    ).scalars()
    assert list(found) == [publication.id]  # before the commit, in the save's transaction
    db.session.rollback()
    again = fulltext.ranked_publications(db.session, fulltext.parse("flotilla"))
    assert db.session.execute(db.select(db.func.count()).select_from(again)).scalar() == 0


def test_renamed_and_merged_topics_are_searched_by_their_new_names(
    app: Flask, client: FlaskClient, admin: Moderator
) -> None:
    make_publication(title="On the Gulf", topics=["Gulf States"])
    make_publication(title="On Yemen", topics=["Yemen"])
    topic = db.session.scalar(db.select(Topic).filter_by(name="Gulf States"))
    rename("topic", topic.id, "Arabian Peninsula", admin)
    db.session.commit()
    assert titles(client, q="peninsula") == ["On the Gulf"]
    assert titles(client, q="gulf") == ["On the Gulf"]  # still in the title
    yemen = db.session.scalar(db.select(Topic).filter_by(name="Yemen"))
    merge("topic", yemen.id, topic.id, admin)
    db.session.commit()
    assert sorted(titles(client, q="peninsula")) == ["On Yemen", "On the Gulf"]


def test_the_queue_search_is_full_text(
    app: Flask, client: FlaskClient, moderator: Moderator
) -> None:
    login(client, "mod")
    publication = make_publication()
    a = make_comment(publication, state=CommentState.PENDING, body="The negotiations failed.")
    b = make_comment(publication, state=CommentState.PENDING, body="Nothing", name="Diplomat")
    make_comment(publication, state=CommentState.PENDING, body="Elections", email="x@example.org")
    page = lambda q: client.get("/moderation/", query_string={"q": q}).get_data(as_text=True)  # noqa: E731
    ids = lambda q: [int(i) for i in re.findall(r'id="comment-(\d+)"', page(q))]  # noqa: E731
    assert ids("negotiate") == [a.id]  # stemmed: "negotiations"
    assert ids("diplomats") == [b.id]  # names are searched
    assert len(ids("x@example.org")) == 1 and len(ids("x@exa")) == 1
    assert ids('NEAR("') == [] and ids("-") == []


def test_words_too_common_are_left_out_and_said(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Mediation", body=["The mediators met."])
    page = client.get("/search?q=the+mediators").get_data(as_text=True)
    assert "Words too common to look for were left out: “the”." in page
    assert "Mediation" in titles(client, q="the mediators")
    assert "Add a word to look for" in client.get("/search?q=the+of").get_data(as_text=True)


def test_a_word_found_everywhere_ranks_only_the_newest_matches(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "RANKED_AT_MOST", 3)
    oldest = make_publication(title="Refugees", body=["On refugees."], published="2020-01-01")
    for n in range(4):
        make_publication(title=f"Later {n}", body=["Refugees again."], published="2024-01-01")
    found = titles(client, q="refugees")
    assert len(found) == 3 and oldest.title not in found
    assert titles(client, q="refugees", to="2020-12-31") == ["Refugees"]  # filters come first


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_walks_newest_first_only_for_words_in_most_publications(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "RANKED_AT_MOST", 3)
    monkeypatch.setattr(fulltext, "_statistics", {})
    for n in range(12):
        make_publication(
            title=f"Report {n}", body=["Refugees return."], published=f"2024-01-{n + 1:02}"
        )
    make_publication(title="Truce", body=["Refugees and a ceasefire."], published="2024-02-01")
    db.session.commit()
    db.session.execute(text("ANALYZE publication_search"))
    queries = ("refugees", "ceasefire", '"ceasefire refugees"')
    walks = {q: fulltext._plan(db.session, fulltext.parse(q)).walk for q in queries}
    # 13 of 13 documents: walking tests 3, the index would return 13; 1 of 13: the index.
    assert walks == {"refugees": True, "ceasefire": False, '"ceasefire refugees"': False}
    assert titles(client, q="refugees") == ["Truce", "Report 11", "Report 10"]
    assert titles(client, q="ceasefire") == ["Truce"]


def test_phrases_need_their_words_next_to_each_other(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Talks", body=["Officials say the peace process resumed today."])
    make_publication(title="Apart", body=["Peace returned and the process resumed."])
    make_publication(title="Gap", body=["Peace and process: two words."])
    make_publication(title="Reversed", dek="A process of peace.", body=["Nothing."])
    make_publication(title="Three words", body=["The United States of America voted."])
    assert titles(client, q='"peace process"') == ["Talks"]
    assert titles(client, q='"peace process" resumed') == ["Talks"]
    assert titles(client, q='"united states of america"') == ["Three words"]
    assert titles(client, q='"states united"') == []


def test_the_pairs_a_phrase_requires_are_read_from_its_tsquery() -> None:
    assert fulltext._pairs("'unit' <-> 'state' <2> 'america'") == ("unit state",)
    assert fulltext._pairs("'peace-build' <-> 'peac' <-> 'build'") == (
        "peace-build peac",
        "peac build",
    )
    assert fulltext._pairs("'o''brien' <-> 'said'") == ("o'brien said",)
    assert fulltext._pairs("'conflict'") == ()
    assert fulltext._pairs("( 'a' | 'b' ) <-> 'c'") == ()  # not a chain: no pairs


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_finds_a_phrase_through_the_index_of_word_pairs(app: Flask) -> None:
    make_publication(title="Talks", body=["The peace process resumed."])
    db.session.commit()
    pairs = db.session.scalar(select(fulltext._PAIRS).select_from(PublicationSearch))
    assert set(pairs) >= {"peac process", "process resum"} and "talk peac" not in pairs
    plan = fulltext._plan(db.session, fulltext.parse('"peace process" resumed'))
    assert plan == fulltext._Plan(walk=False, pairs=("peac process",))
    # One word is never a phrase, even one PostgreSQL parses into two ("covid", "19").
    assert fulltext._plan(db.session, fulltext.parse("covid_19")).pairs == ()
    # The search's expression is the index's own: the planner can use the index for it.
    required = fulltext._PAIRS.op("@>")(cast(bindparam("p", ["peac process"]), ARRAY(Text)))
    statement = select(PublicationSearch.publication_id).where(required).compile(db.engine)
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    explained = db.session.connection().exec_driver_sql(f"EXPLAIN {statement}", statement.params)
    assert "ix_publication_search_pairs" in "\n".join(row[0] for row in explained)


def test_the_queue_search_looks_through_the_newest_matches(
    app: Flask, client: FlaskClient, moderator: Moderator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "COMMENTS_SEARCHED", 2)
    login(client, "mod")
    publication = make_publication()
    made = [
        make_comment(publication, state=CommentState.PENDING, body="Ceasefire now.", minutes=n)
        for n in range(3)
    ]
    page = client.get("/moderation/?q=ceasefire").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'id="comment-(\d+)"', page)] == [made[2].id, made[1].id]


def test_the_queue_search_shows_each_tab_as_the_tab_does(
    app: Flask, client: FlaskClient, moderator: Moderator
) -> None:
    """A search's page of each tab, read from its matches, holds what the tab holds."""
    login(client, "mod")
    one, two = make_publication(), make_publication()
    for n, state in enumerate([*CommentState, CommentState.APPROVED] * 2):
        for body in ("A ceasefire now.", "Nothing to see."):
            comment = make_comment(two if n % 2 else one, state=state, body=body, minutes=n)
            comment.open_reports = 1 if n in (4, 9) else 0  # approved: in "reported" too
    db.session.commit()
    matching = {c.id for c in db.session.scalars(select(Comment)) if "ceasefire" in c.body_text}

    app.config["MODERATION_QUEUE_PAGE_SIZE"] = 2  # the pages' cursors too

    def ids(**args: str) -> list[int]:
        """Every page's comments, following the "next" links."""
        found, path = [], f"/moderation/?{urlencode(args)}"
        while path:
            page = client.get(path).get_data(as_text=True)
            found += [int(i) for i in re.findall(r'id="comment-(\d+)"', page)]
            link = re.search(r'rel="next" href="([^"]+)"', page)
            path = html.unescape(link.group(1)) if link else ""
        return found

    for status in queue.QUEUES:
        for narrowed in ({}, {"publication": str(two.id)}, {"order": "oldest"}):
            whole = ids(status=status, **narrowed)
            assert whole, (status, narrowed)
            found = ids(status=status, q="ceasefire", **narrowed)
            assert found == [i for i in whole if i in matching], (status, narrowed)
    counted = queue.counts(queue.QueueQuery(search="ceasefire", publication_id=two.id))
    assert counted == {
        "pending": 1,
        "reported": 1,
        "approved": 2,
        "rejected": 1,
        "spam": 1,
        "all": 5,
    }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_looks_for_a_middling_word_among_the_newest_comments_first(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fulltext, "_statistics", {})
    monkeypatch.setattr(fulltext, "COMMENTS_SEARCHED", 4)
    monkeypatch.setattr(fulltext, "WINDOW_MARGIN", 1.0)
    publication = make_publication()
    # 40 comments, 10 of them with the word: 8 among the oldest 24, 2 among the newest 16.
    with_word = {3, 6, 9, 12, 15, 18, 21, 23, 30, 37}
    made = [
        make_comment(publication, body="A ceasefire." if n in with_word else "Other words.")
        for n in range(40)
    ]
    db.session.execute(text("ANALYZE comments"))
    query = fulltext.parse("ceasefire")
    share, _ = fulltext._estimate(
        db.session, query, fulltext._lexeme_statistics(db.session, "comments")
    )
    assert share == pytest.approx(0.25)  # a window of the newest 4 / 0.25 = 16 comments

    def newest(walk_share: float) -> tuple[list[int], list[str]]:
        """The ids found, and the statements sent for them."""
        monkeypatch.setattr(fulltext, "WALK_SHARE", walk_share)
        sent: list[str] = []
        listener = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = fulltext.newest_matching_comments(db.session, query, Comment.id)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return [row.id for row in rows], sent

    windowed = lambda sent: any("enable_indexscan" in s for s in sent)  # noqa: E731
    older = lambda sent: any("comments.id <=" in s for s in sent)  # noqa: E731
    expected = [made[n].id for n in (37, 30, 23, 21)]  # the window's two, then older ones
    found, sent = newest(walk_share=0.5)
    assert found == expected and windowed(sent) and older(sent)
    found, sent = newest(walk_share=0.2)  # as PostgreSQL's planner chooses
    assert found == expected and not windowed(sent)
    assert db.session.scalar(text("SHOW enable_indexscan")) == "on"  # for what follows
    # Three more: the window of the newest 16 now holds enough, the older are left alone.
    more = [make_comment(publication, body="Ceasefire again.") for _ in range(3)]
    found, sent = newest(walk_share=0.5)
    assert found == [c.id for c in reversed(more)] + [made[37].id]
    assert windowed(sent) and not older(sent)


def test_imported_and_restored_publications_are_searchable(
    app: Flask, client: FlaskClient, runner: object, tmp_path: Path
) -> None:
    posts = [WpPost(1, title="Imported piece", content="<p>Hydropower disputes upstream.</p>")]
    result = runner.invoke(args=["import", "wordpress", str(write(tmp_path, "w.xml", wxr(posts)))])
    assert result.exit_code == 0, result.output
    assert titles(client, q="hydropower") == ["Imported piece"]
    assert runner.invoke(args=["export", str(tmp_path / "site.jsonl")]).exit_code == 0
    db.session.execute(db.delete(PublicationSearch))  # as a fresh database would be
    db.session.commit()
    assert titles(client, q="hydropower") == []
    archivefile.rebuild_derived()  # what `import archive` ends with
    db.session.commit()
    assert titles(client, q="hydropower") == ["Imported piece"]
