"""The conversation: posters editing and deleting their comments within the window,
preview, the thread's order and comment links, editors' picks, staff comments,
recommendations, visible counts and the count open pages poll."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.models import (
    Comment,
    CommentEdit,
    CommentState,
    Hold,
    OutboxMail,
    Recommendation,
)
from discussion.moderation import settings
from discussion.publications import catalog
from tests.helpers import (
    csrf_token,
    login,
    make_comment,
    make_publication,
    post_comment,
    site_admin,
)

A, P = CommentState.APPROVED, CommentState.PENDING


def configure(**values) -> None:
    settings.save(values, site_admin())
    db.session.commit()
    settings.forget()


def last() -> Comment:
    db.session.expire_all()
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def page(client: FlaskClient, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def edit(
    client: FlaskClient,
    slug: str,
    comment_id: int,
    body: str,
    via: str = "/auth/login",
    **extra: str,
):
    """Send an edit with the browser's session token (from any of its forms, ``via``)."""
    url = f"/publications/{slug}/comments/{comment_id}/edit"
    token = csrf_token(client, via)
    return client.post(url, data={"body": body, "csrf_token": token, **extra})


def gone(comment_id: int) -> bool:
    return db.session.scalar(select(Comment.id).where(Comment.id == comment_id)) is None


def status_token(page_html: str) -> str:
    match = re.search(r"/comments/status/([^\"<\s]+)", page_html)
    assert match, "no status link on the page"
    return match.group(1)


@pytest.fixture
def open_site(app: Flask, clock: list[datetime]) -> list[datetime]:
    """Pre-moderation off: a clean comment is published at once."""
    configure(premoderation=False)
    return clock


# --- own comments: the window, other browsers, the rules again -------------------------------


def test_the_poster_edits_within_the_window_and_readers_see_it_marked_edited(
    app: Flask, client: FlaskClient, open_site, moderator
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Teh first text.")
    comment = last()
    assert comment.state is A
    assert "Edit or delete" in page(client, f"/publications/{publication.slug}")

    open_site[0] += timedelta(minutes=14, seconds=59)
    response = edit(client, publication.slug, comment.id, "The *first* text.<script>x</script>")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#comment-{comment.id}")
    comment = last()
    assert comment.state is A and comment.edited_at == open_site[0]
    assert "<em>first</em>" in comment.body_html and "<script>" not in comment.body_html

    reader = app.test_client()
    shown = page(reader, f"/publications/{publication.slug}")
    assert "<em>first</em>" in shown and "Teh first" not in shown
    assert 'class="comment__edited"' in shown and "Edit or delete" not in shown

    login(mod := app.test_client(), "mod")
    history = page(mod, f"/moderation/comments/{comment.id}/edits")
    assert "Teh first text." in history and "The *first* text." in history
    assert "earlier texts" in page(mod, "/moderation/?status=approved")


def test_editing_ends_with_the_window_and_answers_403_with_the_text_kept(
    app: Flask, client: FlaskClient, open_site
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Original.")
    comment = last()
    url = f"/publications/{publication.slug}/comments/{comment.id}/edit"
    token = csrf_token(client, url)
    open_site[0] += timedelta(minutes=15)  # the window's last instant has passed
    response = client.post(url, data={"body": "Too late a fix.", "csrf_token": token})
    assert response.status_code == 403
    text = response.get_data(as_text=True)
    assert "The time to change this comment has passed." in text
    assert "Too late a fix." in text
    assert last().body_text == "Original."
    assert "Edit or delete" not in page(client, f"/publications/{publication.slug}")
    delete = client.post(
        f"/publications/{publication.slug}/comments/{comment.id}/delete",
        data={"csrf_token": token},
    )
    assert delete.status_code == 403 and last() is not None


def test_another_browser_cannot_edit_but_the_status_link_can(
    app: Flask, client: FlaskClient, clock
) -> None:
    publication = make_publication()
    posted = post_comment(client, publication.slug, body="Held for now.")
    assert posted.status_code == 303
    comment = last()
    assert comment.state is P
    token = status_token(page(client, f"/publications/{publication.slug}"))

    other = app.test_client()
    refused = edit(other, publication.slug, comment.id, "Changed elsewhere.")
    assert refused.status_code == 403
    assert "Changed elsewhere." in refused.get_data(as_text=True)
    assert last().body_text == "Held for now."

    status_page = page(other, f"/comments/status/{token}")
    assert "Edit or delete this comment" in status_page
    allowed = edit(other, publication.slug, comment.id, "Changed through the link.", token=token)
    assert allowed.status_code == 303
    assert allowed.headers["Location"].endswith(f"/comments/status/{token}")
    assert last().body_text == "Changed through the link."
    forged = edit(other, publication.slug, comment.id, "Forged.", token=token[:-2] + "xx")
    assert forged.status_code == 403


def test_an_edit_a_rule_would_hold_goes_back_to_pending_with_the_reason(
    app: Flask, client: FlaskClient, open_site
) -> None:
    configure(suspect_words=["lottery"])
    publication = make_publication()
    post_comment(client, publication.slug, body="A fair point.")
    comment = last()
    assert comment.state is A
    assert edit(client, publication.slug, comment.id, "Win the lottery!").status_code == 303
    comment = last()
    assert comment.state is P
    rules_fired = db.session.scalars(select(Hold.rule).where(Hold.comment_id == comment.id)).all()
    assert rules_fired == ["suspect_words"]
    assert "Win the lottery" not in page(app.test_client(), f"/publications/{publication.slug}")
    mine = page(client, f"/publications/{publication.slug}")
    assert "Your edit is saved and awaits moderation" in mine and "Win the lottery" in mine
    earlier = db.session.scalars(select(CommentEdit).where(CommentEdit.comment_id == comment.id))
    assert [(e.body_text, e.state) for e in earlier] == [("A fair point.", A)]


def test_moderators_hear_of_an_edit_held_again(
    app: Flask, client: FlaskClient, open_site, moderator
) -> None:
    moderator.email = "desk@example.org"
    db.session.commit()
    configure(suspect_words=["lottery"])
    publication = make_publication()
    post_comment(client, publication.slug, body="Plain words.")
    comment = last()
    alerts = select(func.count()).where(OutboxMail.recipient == "desk@example.org")
    assert db.session.scalar(alerts) == 0
    edit(client, publication.slug, comment.id, "The lottery!")
    assert db.session.scalar(alerts) == 1


def test_an_edit_is_checked_like_a_new_comment(app: Flask, client: FlaskClient, open_site) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Fine.")
    comment = last()
    too_long = "x" * (app.config["COMMENT_MAX_LENGTH"] + 1)
    response = edit(client, publication.slug, comment.id, too_long)
    assert response.status_code == 400
    assert too_long in response.get_data(as_text=True)
    assert edit(client, publication.slug, comment.id, "").status_code == 400
    assert last().body_text == "Fine."


def test_an_expired_form_keeps_the_edit(app: Flask, client: FlaskClient, open_site) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Before.")
    comment = last()
    response = client.post(
        f"/publications/{publication.slug}/comments/{comment.id}/edit",
        data={"body": "After, typed with care.", "csrf_token": "stale"},
    )
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Your change was not saved" in text and "After, typed with care." in text
    assert last().body_text == "Before."


def test_deleting_while_pending_withdraws(app: Flask, client: FlaskClient, clock) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Never mind.")
    comment_id = last().id
    url = f"/publications/{publication.slug}/comments/{comment_id}/delete"
    token = csrf_token(client, f"/publications/{publication.slug}/comments/{comment_id}/edit")
    response = client.post(url, data={"csrf_token": token})
    assert response.status_code == 303
    assert gone(comment_id)
    assert "withdrawn" in page(client, f"/publications/{publication.slug}")


def test_deleting_an_approved_comment_leaves_a_stub_only_under_replies(
    app: Flask, client: FlaskClient, open_site
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Alone.")
    alone = last().id
    post_comment(client, publication.slug, body="Answered.")
    answered = last()
    make_comment(publication, parent=answered, body="A reply to it.", name="Bea")
    answered_id = answered.id
    token = csrf_token(client, f"/publications/{publication.slug}/comments/{alone}/edit")
    for comment_id in (alone, answered_id):
        response = client.post(
            f"/publications/{publication.slug}/comments/{comment_id}/delete",
            data={"csrf_token": token},
        )
        assert response.status_code == 303
    assert gone(alone)
    db.session.expire_all()
    stub = db.session.get(Comment, answered_id)
    assert stub is not None and stub.deleted_at is not None and stub.body_text == ""
    shown = page(app.test_client(), f"/publications/{publication.slug}")
    assert shown.count("Comment deleted by its author.") == 1
    assert "A reply to it." in shown and "Answered." not in shown and "Alone." not in shown
    assert "Comments (1)" in shown


def test_a_deleted_comment_with_only_held_replies_is_not_shown(
    app: Flask, client: FlaskClient, open_site
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Asked.")
    asked = last()
    make_comment(publication, parent=asked, body="Waiting reply.", state=P)
    token = csrf_token(client, f"/publications/{publication.slug}/comments/{asked.id}/edit")
    client.post(
        f"/publications/{publication.slug}/comments/{asked.id}/delete", data={"csrf_token": token}
    )
    shown = page(app.test_client(), f"/publications/{publication.slug}")
    assert "Comment deleted by its author." not in shown and "Comments (0)" in shown


def test_counts_show_what_readers_can_see(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    parent = make_comment(publication, body="Later rejected.")
    make_comment(publication, parent=parent, body="An approved reply.", minutes=1)
    make_comment(publication, body="Standing.", minutes=2)
    parent.state = CommentState.REJECTED
    db.session.commit()
    shown = page(client, f"/publications/{publication.slug}")
    assert "Comments (1)" in shown and "An approved reply." not in shown
    assert "1 comment<" in page(client, "/publications/")


# --- preview --------------------------------------------------------------------------------


def test_preview_shows_the_comment_as_published_and_keeps_the_form(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    response = post_comment(
        client,
        publication.slug,
        name="Ada",
        body="A **bold** claim <script>x()</script>",
        preview="1",
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'id="comment-preview"' in text and "<strong>bold</strong>" in text
    assert "<script>x()" not in text
    assert "A **bold** claim &lt;script&gt;x()&lt;/script&gt;</textarea>" in text
    assert 'value="Ada"' in text
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_COMMENTS="2/minute")
def test_previews_do_not_use_up_the_comment_limit(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    for _ in range(3):
        assert post_comment(client, publication.slug, preview="1").status_code == 200
    assert post_comment(client, publication.slug, body="Posted.").status_code == 303


# --- order and links --------------------------------------------------------------------------


def order_on(html: str, names: list[str]) -> list[str]:
    return sorted(names, key=html.index)


@pytest.mark.config(COMMENT_THREADS_PER_PAGE=2)
def test_sorting_orders_threads_and_pages_keep_the_order(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    names = ["First", "Second", "Third", "Fourth"]
    comments = [make_comment(publication, name=n, minutes=i) for i, n in enumerate(names)]
    comments[2].recommendations = 5
    comments[0].recommendations = 2
    db.session.commit()
    base = f"/publications/{publication.slug}"
    oldest = page(client, base)
    assert order_on(oldest, ["First", "Second"]) == ["First", "Second"] and "Third" not in oldest
    assert page(client, base + "?sort=nonsense") == oldest
    newest = page(client, base + "?sort=newest")
    assert order_on(newest, ["Fourth", "Third"]) == ["Fourth", "Third"] and "First" not in newest
    assert "page=2&amp;sort=newest" in newest or "sort=newest&amp;page=2" in newest
    assert "Second" in page(client, base + "?sort=newest&page=2")
    best = page(client, base + "?sort=recommended")
    assert order_on(best, ["Third", "First"]) == ["Third", "First"]
    assert "Fourth" in page(client, base + "?sort=recommended&page=2")


@pytest.mark.config(COMMENT_THREADS_PER_PAGE=2)
def test_a_permalink_opens_the_page_of_the_thread_that_shows_the_comment(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    roots = [make_comment(publication, name=f"R{i}", minutes=i) for i in range(5)]
    reply = make_comment(publication, parent=roots[4], name="Replier", minutes=10)
    base = f"/publications/{publication.slug}"
    response = client.get(f"{base}/comments/{roots[4].id}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"{base}?page=3#comment-{roots[4].id}"
    assert client.get(f"{base}/comments/{reply.id}").headers["Location"] == (
        f"{base}?page=3#comment-{reply.id}"
    )
    assert client.get(f"{base}/comments/{roots[0].id}").headers["Location"] == (
        f"{base}#comment-{roots[0].id}"
    )
    newest = client.get(f"{base}/comments/{roots[0].id}?sort=newest")
    assert newest.headers["Location"] == f"{base}?page=3&sort=newest#comment-{roots[0].id}"
    target = newest.headers["Location"].split("#")[0]
    assert f'id="comment-{roots[0].id}"' in page(client, target)


def test_a_comment_that_is_not_public_has_no_permalink(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    other = make_publication()
    pending = make_comment(publication, state=P)
    hidden = make_comment(publication)
    hidden.hidden = True
    rejected_parent = make_comment(publication, state=CommentState.REJECTED)
    orphan = make_comment(publication)
    orphan.parent_id = orphan.root_id = rejected_parent.id
    db.session.commit()
    elsewhere = make_comment(other)
    base = f"/publications/{publication.slug}/comments"
    for c in (pending, hidden, rejected_parent, orphan, elsewhere):
        assert client.get(f"{base}/{c.id}").status_code == 404
    assert client.get(f"{base}/999999").status_code == 404


# --- picks and staff --------------------------------------------------------------------------


def test_moderators_feature_comments_from_the_article_page(
    app: Flask, client: FlaskClient, moderator
) -> None:
    publication = make_publication()
    comment = make_comment(publication, body="A sharp point.")
    another = make_comment(publication, body="Another view.", minutes=1)
    login(client, "mod")
    article = page(client, f"/publications/{publication.slug}")
    assert "Feature as a pick" in article
    token = re.search(
        r'name="csrf_token" value="([^"]+)"[^<]*<input type="hidden" name="next"', article
    )
    assert token
    response = client.post(
        f"/moderation/comments/{comment.id}/feature",
        data={"csrf_token": token.group(1), "next": f"/publications/{publication.slug}"},
    )
    assert response.status_code == 303
    reader = app.test_client()
    shown = page(reader, f"/publications/{publication.slug}")
    assert "Editors\u2019 pick</span>" in shown and "Editors\u2019 picks (1)" in shown
    picks = page(reader, f"/publications/{publication.slug}?tab=picks")
    assert f'id="comment-{comment.id}"' in picks and f'id="comment-{another.id}"' not in picks
    assert "Feature as a pick" not in shown  # nothing of a moderator's on shared pages
    client.post(f"/moderation/comments/{comment.id}/unfeature", data={"csrf_token": token.group(1)})
    assert "Editors\u2019 picks (0)" in page(reader, f"/publications/{publication.slug}")


def test_picks_come_from_the_queue_too_and_need_a_moderator(
    app: Flask, client: FlaskClient, moderator, editor
) -> None:
    publication = make_publication()
    comment = make_comment(publication)
    pending = make_comment(publication, state=P)
    url = f"/moderation/comments/{comment.id}/feature"
    assert client.post(url).status_code in (302, 303)  # anonymous: to sign in
    assert db.session.get(Comment, comment.id).featured_at is None
    login(ed := app.test_client(), "ed")
    assert ed.post(url, data={"csrf_token": csrf_token(ed, "/desk/")}).status_code == 403
    login(client, "mod")
    queue = page(client, "/moderation/?status=approved")
    assert "Feature as a pick" in queue
    token = csrf_token(client, "/moderation/?status=approved")
    assert client.post(url, data={"csrf_token": "wrong"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).featured_at is None  # no valid CSRF token
    assert client.post(url, data={"csrf_token": token}).status_code == 303
    client.post(f"/moderation/comments/{pending.id}/feature", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).featured_at is not None
    assert db.session.get(Comment, pending.id).featured_at is None
    assert "Remove from picks" in page(client, "/moderation/?status=approved")


def test_signed_in_staff_comment_as_themselves_with_a_badge(
    app: Flask, client: FlaskClient, moderator
) -> None:
    publication = make_publication()
    login(client, "mod")
    assert 'value="mod"' in page(client, f"/publications/{publication.slug}")
    form_token = csrf_token(app.test_client(), f"/publications/{publication.slug}")
    client.post(
        f"/publications/{publication.slug}/comments",
        data={"name": "mod", "body": "From the newsroom.", "csrf_token": form_token},
    )
    comment = last()
    assert comment.state is A and comment.staff_id == moderator.id
    shown = page(app.test_client(), f"/publications/{publication.slug}")
    assert 'badge--staff">Staff' in shown
    amended = edit(client, publication.slug, comment.id, "Amended.", via="/moderation/")
    assert amended.status_code == 303
    assert last().state is A  # pre-moderation holds readers' edits, not staff's
    post_comment(app.test_client(), publication.slug, name="mod", body="An impostor.")
    assert last().staff_id is None


# --- recommending -----------------------------------------------------------------------------


def recommend(client: FlaskClient, slug: str, comment_id: int, address: str = "192.0.2.1"):
    token = csrf_token(client, f"/publications/{slug}")
    return client.post(
        f"/publications/{slug}/comments/{comment_id}/recommend",
        data={"csrf_token": token, "page": "1", "sort": "newest"},
        environ_base={"REMOTE_ADDR": address},
    )


def counted(comment: Comment) -> int:
    db.session.expire_all()
    return db.session.get(Comment, comment.id).recommendations


def test_one_recommendation_per_reader_and_a_few_per_address(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    comment = make_comment(publication)
    response = recommend(client, publication.slug, comment.id)
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/publications/{publication.slug}?sort=newest#comment-{comment.id}"
    )
    assert "your recommendation is counted" in page(client, response.headers["Location"])
    recommend(client, publication.slug, comment.id)
    assert counted(comment) == 1
    limit = app.config["RECOMMENDATIONS_PER_ADDRESS"]
    for _ in range(limit + 1):  # cookies cleared each time: a new visitor, the same address
        recommend(app.test_client(), publication.slug, comment.id)
    assert counted(comment) == limit
    recommend(app.test_client(), publication.slug, comment.id, address="198.51.100.7")
    assert counted(comment) == limit + 1
    assert f'<span class="comment__count">{limit + 1}</span>' in page(
        app.test_client(), f"/publications/{publication.slug}"
    )


def test_a_reader_cannot_recommend_their_own_comment(
    app: Flask, client: FlaskClient, open_site
) -> None:
    publication = make_publication()
    client.post(
        f"/publications/{publication.slug}/comments",
        data={
            "name": "Ada",
            "body": "Mine.",
            "csrf_token": csrf_token(client, f"/publications/{publication.slug}"),
        },
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    mine = last()
    shown = page(client, f"/publications/{publication.slug}")
    assert f"/comments/{mine.id}/recommend" not in shown  # no button on one's own comment
    assert f"/comments/{mine.id}/recommend" in page(
        app.test_client(), f"/publications/{publication.slug}"
    )
    response = recommend(client, publication.slug, mine.id, address="10.0.0.2")
    assert "cannot recommend your own comment" in page(client, response.headers["Location"])
    recommend(app.test_client(), publication.slug, mine.id, address="10.0.0.1")  # cookies gone
    assert counted(mine) == 0
    assert db.session.scalar(select(func.count()).select_from(Recommendation)) == 0


def test_only_visible_comments_can_be_recommended(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    pending = make_comment(publication, state=P)
    assert recommend(client, publication.slug, pending.id).status_code == 404
    expired = client.post(
        f"/publications/{publication.slug}/comments/{pending.id}/recommend",
        data={"csrf_token": "forged"},
    )
    assert expired.status_code in (303, 404)
    assert counted(pending) == 0


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_RECOMMENDATIONS="2/minute")
def test_recommending_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    comments = [make_comment(publication, minutes=i) for i in range(3)]
    statuses = [recommend(client, publication.slug, c.id).status_code for c in comments]
    assert statuses == [303, 303, 429]


# --- the count open pages poll ------------------------------------------------------------


def test_the_live_count_is_shared_and_follows_approvals(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    url = f"/publications/{publication.slug}/comments/count"
    response = client.get(url)
    assert response.json == {"count": 0}
    assert (
        "public" in response.headers["Cache-Control"]
        and "s-maxage" in response.headers["Cache-Control"]
    )
    assert "Set-Cookie" not in response.headers
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    article = page(client, f"/publications/{publication.slug}")
    assert f'data-live-url="{url}"' in article and 'data-count="0"' in article
    make_comment(publication)
    catalog.touch([publication.id])  # as an approval does
    db.session.commit()
    assert client.get(url).json == {"count": 1}
    assert client.get("/publications/no-such-thing/comments/count").status_code == 404


def test_the_page_cache_answers_the_polls_and_an_approval_shows_at_once(
    app: Flask, client: FlaskClient, moderator, count_queries, page_clock
) -> None:
    publication = make_publication()
    pending = make_comment(publication, state=P)
    url = f"/publications/{publication.slug}/comments/count"
    assert client.get(url).json == {"count": 0}
    count_queries.count = 0
    for _ in range(5):
        assert client.get(url).json == {"count": 0}
    assert count_queries.count == 0  # answered by the page cache, not the app
    mod = app.test_client()
    login(mod, "mod")
    mod.post(
        f"/moderation/comments/{pending.id}/approve",
        data={"csrf_token": csrf_token(mod, "/moderation/")},
    )
    assert client.get(url).json == {"count": 1}


def test_what_belongs_to_one_reader_never_reaches_the_shared_page(
    app: Flask, client: FlaskClient, open_site, moderator
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Mine to edit.")
    login(mod := app.test_client(), "mod")
    url = f"/publications/{publication.slug}"
    for private in (client, mod):
        response = private.get(url)
        assert "private" in response.headers["Cache-Control"]
    shared = app.test_client().get(url)
    assert "public" in shared.headers["Cache-Control"]
    text = shared.get_data(as_text=True)
    assert "Mine to edit." in text
    assert "Edit or delete" not in text and "Feature as a pick" not in text
    assert "badge--staff" not in text
