"""Reader pages: front page, publications index with filters, the article page, errors."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.comments import thread
from discussion.extensions import cache, db
from discussion.models import CommentState
from discussion.moderation import settings
from discussion.publications import catalog, content, related
from tests.helpers import USIP, WIRE, make_comment, make_publication


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_front_page_lists_latest_publications_with_comment_counts(
    seeded: Flask, client: FlaskClient
) -> None:
    from discussion.extensions import db
    from discussion.models import Publication

    usip = db.session.scalar(db.select(Publication).filter_by(slug=USIP))
    make_comment(usip)
    make_comment(usip, minutes=1)
    make_comment(usip, state=CommentState.PENDING)
    page = text_of(client.get("/"))
    assert "The United States Weighs Its Options" in page  # newest first (2024)
    assert page.index("The United States Weighs") < page.index("A Slippery Slope?")
    assert re.search(r"Khamenei Rejects U.S. Talks on Twitter.*?2 comments", page, re.S)
    assert "View All Publications" in page


def test_article_page_reads_like_the_usip_post(seeded: Flask, client: FlaskClient) -> None:
    response = client.get(f"/publications/{USIP}")
    assert response.status_code == 200
    page = text_of(response)
    for expected in [
        '<h1 class="article__title" id="article-title">Khamenei Rejects U.S. Talks on Twitter',
        "Khamenei has become an avid user of Twitter",  # dek
        'alt="Grand Ayatollah Ali Khamenei"',
        "<figcaption",
        "20130426Grand_Ayatollah_Ali_Khamenei,.jpg",
        "Multilateral talks on Feb. 26 in Almaty",
        "Viola Gienger is a senior writer at USIP.",
        "Tell us what you think by submitting a comment below.",
        'action="/publications/khamenei-rejects-us-talks-on-twitter/comments"',
        "Related Publications",
        "View All Publications",
        "Thursday, February 7, 2013",
    ]:
        assert expected in page, expected
    # The invitation is shown once, not also inside the body.
    assert page.count("Tell us what you think by submitting a comment below.") == 1
    # Order: body, author line, invitation, form, related.
    order = [
        page.index("Multilateral talks"),
        page.index("Viola Gienger is a senior writer"),
        page.index("Tell us what you think"),
        page.index('id="comment-form"'),
        page.index("Related Publications"),
    ]
    assert order == sorted(order)


def test_partner_article_shows_its_source_note_once(seeded: Flask, client: FlaskClient) -> None:
    page = text_of(client.get(f"/publications/{WIRE}"))
    assert page.count("This article is from the archive of our partner The Wire.") == 1
    assert "our partner ." not in page
    assert "Neither Iran nor Syria were invited" in page


def test_related_publications_are_the_seed_cards_then_the_other_article(
    seeded: Flask, client: FlaskClient
) -> None:
    page = text_of(client.get(f"/publications/{USIP}"))
    related = page[page.index("Related Publications") :]
    titles = re.findall(r'class="card__title"[^>]*><a href="/publications/([^"]+)"', related)
    assert titles == [
        "the-united-states-weighs-its-options-in-the-face-of-irans-provocations",
        "making-sense-of-iran-pakistan-cross-border-strikes",
        "a-slippery-slope-us-uk-launch-strikes-on-iran-backed-houthis-in-yemen",
        WIRE,
    ]
    assert "Sarhang Hamasaeed and Mona Yacoubian" in related
    assert "Tuesday, January 30, 2024" in related
    assert ">Question and Answer<" in related
    assert ">Violent Extremism<" in related
    wire = text_of(client.get(f"/publications/{WIRE}"))
    wire_related = wire[wire.index("Related Publications") :]
    listed = re.findall(r'class="card__title"[^>]*><a href="/publications/([^"]+)"', wire_related)
    assert USIP in listed and len(listed) == 4


def test_unknown_publication_is_404_in_the_site_layout(app: Flask, client: FlaskClient) -> None:
    response = client.get("/publications/no-such-thing")
    assert response.status_code == 404
    page = text_of(response)
    assert "Not Found" in page and 'class="site-header"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/publications/%2e%2e%2fetc%2fpasswd",
        "/publications/..%2f..%2fetc",
        "/publications/x%00y",
        "/publications/" + "a" * 5000,
    ],
)
def test_path_tricks_are_404(seeded: Flask, client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 404


def test_index_paginates_newest_first_with_rel_next(app: Flask, client: FlaskClient) -> None:
    for day in range(1, 13):
        make_publication(title=f"Item {day:02d}", published=f"2024-03-{day:02d}")
    first = text_of(client.get("/publications/"))
    assert first.index("Item 12") < first.index("Item 11")
    assert "Item 02" not in first  # ten a page
    next_link = re.search(r'<a class="pagination__next" rel="next" href="([^"]+)"', first)
    assert next_link
    second = text_of(client.get(next_link.group(1).replace("&amp;", "&")))
    assert "Item 02" in second and "Item 01" in second and "Item 12" not in second
    assert 'rel="next"' not in second
    assert "12 publications" in first


def test_index_filters_by_type_and_topic_combined(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Both", types=["Analysis"], topics=["Global Policy"])
    make_publication(title="Type only", types=["Analysis"], topics=["Gender"])
    make_publication(title="Topic only", types=["Question and Answer"], topics=["Global Policy"])
    by_type = text_of(client.get("/publications/?type=analysis"))
    assert "Both" in by_type and "Type only" in by_type and "Topic only" not in by_type
    by_topic = text_of(client.get("/publications/?topic=global-policy"))
    assert "Both" in by_topic and "Topic only" in by_topic and "Type only" not in by_topic
    both = text_of(client.get("/publications/?type=analysis&topic=global-policy"))
    assert ">Both<" in both and "Type only" not in both and "Topic only" not in both
    assert "1 publication of type “Analysis” on “Global Policy”" in both


def test_card_tags_link_to_the_filtered_index(app: Flask, client: FlaskClient) -> None:
    make_publication(title="Tagged", types=["Question and Answer"], topics=["Global Policy"])
    page = text_of(client.get("/publications/"))
    assert 'href="/publications/?type=question-and-answer"' in page
    assert 'href="/publications/?topic=global-policy"' in page


def test_filtered_pagination_keeps_the_filters(app: Flask, client: FlaskClient) -> None:
    for day in range(1, 12):
        make_publication(published=f"2024-03-{day:02d}", topics=["Global Policy"])
    page = text_of(client.get("/publications/?topic=global-policy"))
    link = re.search(r'rel="next" href="([^"]+)"', page)
    assert link and "topic=global-policy" in link.group(1) and "page=2" in link.group(1)


@pytest.mark.parametrize(
    "query",
    [
        "type=nope",
        "topic=nope",
        "type=analysis&topic=nope",
        "page=0",
        "page=-1",
        "page=abc",
        "page=99",
        "page=99999999999999999999",
    ],
)
def test_unknown_filters_and_pages_are_404(app: Flask, client: FlaskClient, query: str) -> None:
    make_publication()
    assert client.get(f"/publications/?{query}").status_code == 404


@pytest.mark.parametrize("query", ["page=2", "page=1000000000", "page=1000000000&sort=newest"])
def test_a_thread_page_past_its_last_is_404(app: Flask, client: FlaskClient, query: str) -> None:
    publication = make_publication()
    make_comment(publication)
    assert client.get(f"/publications/{publication.slug}?{query}").status_code == 404


def test_approved_comments_render_nested_without_email(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    root = make_comment(publication, name="First", email="first@example.org", body="Root *text*")
    reply = make_comment(publication, parent=root, name="Second", minutes=1, body="A reply")
    make_comment(publication, state=CommentState.PENDING, name="Hidden", minutes=2)
    make_comment(publication, state=CommentState.REJECTED, name="Gone", minutes=3)
    page = text_of(client.get(f"/publications/{publication.slug}"))
    assert f'id="comment-{root.id}"' in page and f'id="comment-{reply.id}"' in page
    assert '<div class="comment-body"><p>Root <em>text</em></p></div>' in page
    root_block = page[page.index(f'id="comment-{root.id}"') :]
    assert root_block.index(f'id="comment-{reply.id}"') < root_block.index("</article>")
    assert "first@example.org" not in page
    assert "Hidden" not in page and "Gone" not in page
    assert "Comments (2)" in page


def test_one_thread_is_read_whole_in_one_statement_while_its_comment_is_on_the_pages(
    app: Flask, count_queries
) -> None:
    """A reader's own thread, filled into the kept page: its top-level comment and the
    shown replies nested in the page's order, from one statement; nothing for another
    publication, for a reply, or once the comment is off the thread's pages."""
    publication, other = make_publication(), make_publication()
    root = make_comment(publication)
    later = make_comment(publication, parent=root, minutes=2)
    first = make_comment(publication, parent=root, minutes=1)
    nested = make_comment(publication, parent=first, minutes=3)
    make_comment(publication, parent=root, minutes=4, state=CommentState.PENDING)
    publication_id, root_id = publication.id, root.id
    count_queries.count = 0
    node = thread.one(publication_id, root_id, max_depth=3)
    assert count_queries.count == 1
    assert node is not None and node.comment.id == root_id
    assert [reply.comment.id for reply in node.replies] == [first.id, later.id]
    assert [reply.comment.id for reply in node.replies[0].replies] == [nested.id]
    assert thread.one(other.id, root_id, max_depth=3) is None
    assert thread.one(publication_id, first.id, max_depth=3) is None
    root.hidden = True  # hidden by reports: off the pages, its replies still shown
    db.session.commit()
    assert thread.one(publication_id, root_id, max_depth=3) is None


def test_deep_replies_stop_nesting_at_the_configured_depth(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    parent = make_comment(publication, name="Level0")
    chain = [parent]
    for level in range(1, 7):
        parent = make_comment(publication, parent=parent, name=f"Level{level}", minutes=level)
        chain.append(parent)
    page = text_of(client.get(f"/publications/{publication.slug}"))
    assert page.count('class="comment__replies"') == 3  # four levels: 0..3
    assert "in reply to Level4" in page


def test_comments_paginate_by_thread_with_rel_next(app: Flask, client: FlaskClient) -> None:
    app.config["COMMENT_THREADS_PER_PAGE"] = 3
    publication = make_publication()
    comments = [make_comment(publication, name=f"C{i}", minutes=i) for i in range(5)]
    page = text_of(client.get(f"/publications/{publication.slug}"))
    assert f'id="comment-{comments[2].id}"' in page and f'id="comment-{comments[3].id}"' not in page
    link = re.search(r'rel="next" href="([^"]+)"', page)
    assert link
    second = text_of(client.get(link.group(1).split("#")[0]))
    assert f'id="comment-{comments[4].id}"' in second
    assert "Comments (5)" in second


@pytest.mark.parametrize("code", [400, 403, 404, 405, 413, 429, 500])
def test_error_pages_use_the_site_layout(app: Flask, client: FlaskClient, code: int) -> None:
    from flask import abort

    @app.get(f"/_boom/{code}")
    def boom() -> str:
        if code == 500:
            raise RuntimeError("boom")
        abort(code)

    app.testing = False  # let the 500 handler run instead of propagating
    response = client.get(f"/_boom/{code}")
    assert response.status_code == code
    page = text_of(response)
    assert f"Error {code}" in page and 'class="site-header"' in page and "boom" not in page


def test_method_not_allowed_keeps_the_allow_header(seeded: Flask, client: FlaskClient) -> None:
    response = client.delete(f"/publications/{USIP}")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Error 405" in text_of(response)


def test_query_count_does_not_grow_with_comments_or_related(
    app: Flask, client: FlaskClient, count_queries, page_clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    few = make_publication(topics=["Global Policy"])
    many = make_publication(topics=["Global Policy"])
    for i in range(3):
        make_publication(topics=["Global Policy"], title=f"Neighbour {i}")
    root = make_comment(few)
    make_comment(few, parent=root, minutes=1)
    for i in range(30):
        parent = make_comment(many, minutes=i)
        make_comment(many, parent=parent, minutes=i)

    def queries(url: str) -> int:
        count_queries.count = 0
        assert client.get(url).status_code == 200
        return count_queries.count

    cache.clear()
    settings.current()  # cached for a few seconds, as after any first request
    catalog.live_mark()  # read at most once a second: keep this test's second from ending
    monkeypatch.setattr(catalog, "LIVE_MARK_SECONDS", 3600)
    rendered = [queries(f"/publications/{p.slug}") for p in (few, many)]
    shared = [queries(f"/publications/{p.slug}") for p in (few, many)]
    app.extensions["page_cache"].clear()  # as in another process, or a second later
    cached = [queries(f"/publications/{p.slug}") for p in (few, many)]
    assert rendered[0] == rendered[1]
    assert shared == [0, 0]  # this process's page cache answers first-time readers
    assert cached == [1, 1]  # the publication's cache state: the rest is cached
    listing = [queries(url) for url in ("/publications/", "/")]
    for i in range(8):
        make_publication(topics=["Global Policy"], authors=[{"name": f"A{i}", "bio": None}])
    assert [queries(url) for url in ("/publications/", "/")] == listing


def test_the_cached_page_changes_exactly_when_a_comment_is_approved(
    app: Flask, client: FlaskClient, moderator
) -> None:
    from tests.helpers import login, queue_token

    publication = make_publication()
    comment = make_comment(publication, state=CommentState.PENDING, body="Fresh insight")
    url = f"/publications/{publication.slug}"
    first = client.get(url)
    assert "Fresh insight" not in first.get_data(as_text=True)
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    mod = app.test_client()
    login(mod, "mod")
    mod.post(f"/moderation/comments/{comment.id}/approve", data={"csrf_token": queue_token(mod)})
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200 and "Fresh insight" in again.get_data(as_text=True)
    mod.post(f"/moderation/comments/{comment.id}/reject", data={"csrf_token": queue_token(mod)})
    assert "Fresh insight" not in client.get(url).get_data(as_text=True)


def test_a_changed_publication_enters_the_lists_it_now_belongs_to(
    app: Flask, client: FlaskClient
) -> None:
    anchor = make_publication(title="Water rights on the Nile", topics=["Economics"])
    others = [make_publication(title=f"Harvest festival {i}", topics=["Culture"]) for i in range(4)]
    newcomer = make_publication(title="Cooking with lentils", topics=["Food"])
    before = client.get(f"/publications/{anchor.slug}").get_data(as_text=True)
    assert newcomer.slug not in before
    content.upsert(
        {
            "slug": newcomer.slug,
            "title": "Water rights on the Nile basin",
            "published": "2024-01-02",
            "topics": ["Economics"],
            "types": ["Analysis"],
        }
    )
    related.refresh_all()
    db.session.commit()
    after = client.get(f"/publications/{anchor.slug}").get_data(as_text=True)
    listed = after[after.index("Related Publications") :]
    assert newcomer.slug in listed
    assert others  # the neighbours it displaced are still publications
