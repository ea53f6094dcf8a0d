"""Readers' reports and the poster's private status link."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import Comment, CommentState, Report
from tests.helpers import csrf_token, login, make_comment, make_publication, post_comment


def report(client: FlaskClient, publication, comment, reason: str = "abusive"):
    url = f"/publications/{publication.slug}/comments/{comment.id}/report"
    return client.post(url, data={"csrf_token": csrf_token(client, url), "reason": reason})


def test_a_reader_reports_a_comment_into_the_reported_queue(
    app: Flask, client: FlaskClient, moderator
) -> None:
    publication = make_publication()
    comment = make_comment(publication)
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert f"/comments/{comment.id}/report" in page
    response = report(client, publication, comment)
    assert response.status_code == 303
    assert "Moderators will review" in client.get(f"/publications/{publication.slug}").get_data(
        as_text=True
    )
    again = report(client, publication, comment, "spam")
    assert again.status_code == 303
    assert db.session.scalar(db.select(db.func.count()).select_from(Report)) == 1
    mod = app.test_client()
    login(mod, "mod")
    queue = mod.get("/moderation/?status=reported").get_data(as_text=True)
    assert f'id="comment-{comment.id}"' in queue
    assert "<strong>Reported</strong>: Abusive (1)" in queue


def test_reports_need_a_reason_and_an_approved_comment(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    comment = make_comment(publication)
    assert report(client, publication, comment, "because").status_code == 400
    pending = make_comment(publication, state=CommentState.PENDING)
    url = f"/publications/{publication.slug}/comments/{pending.id}/report"
    assert client.get(url).status_code == 404
    other = make_publication()
    assert client.get(f"/publications/{other.slug}/comments/{comment.id}/report").status_code == 404


def test_enough_reports_hide_a_comment_until_a_moderator_keeps_it(app: Flask, moderator) -> None:
    publication = make_publication()
    comment = make_comment(publication, body="Contested view")
    for n in range(3):
        reader = app.test_client()
        reader.environ_base["REMOTE_ADDR"] = f"192.0.2.{n}"  # three readers, three addresses
        report(reader, publication, comment)
    reader = app.test_client()
    page = reader.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Contested view" not in page and "Comments (0)" in page
    mod = app.test_client()
    login(mod, "mod")
    token = csrf_token(mod, "/moderation/?status=reported")
    mod.post(f"/moderation/comments/{comment.id}/approve", data={"csrf_token": token})
    page = reader.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Contested view" in page
    db.session.expire_all()
    assert db.session.get(Comment, comment.id).open_reports == 0
    assert all(r.resolved for r in db.session.scalars(db.select(Report)))


def test_rejecting_a_reported_comment_removes_it(app: Flask, moderator) -> None:
    publication = make_publication()
    comment = make_comment(publication, body="Really abusive")
    report(app.test_client(), publication, comment)
    mod = app.test_client()
    login(mod, "mod")
    token = csrf_token(mod, "/moderation/?status=reported")
    mod.post(f"/moderation/comments/{comment.id}/reject", data={"csrf_token": token})
    assert "Really abusive" not in app.test_client().get(
        f"/publications/{publication.slug}"
    ).get_data(as_text=True)
    assert 'Reported <span class="count">0</span>' in mod.get("/moderation/").get_data(as_text=True)


@pytest.mark.config(RATELIMIT_ENABLED=True, RATELIMIT_REPORTS="2/minute")
def test_reports_are_rate_limited_per_address(app: Flask) -> None:
    publication = make_publication()
    comments = [make_comment(publication, minutes=i) for i in range(3)]
    statuses = [report(app.test_client(), publication, c).status_code for c in comments]
    assert statuses == [303, 303, 429]


def status_link(page: str) -> str:
    match = re.search(r'href="http://localhost(/comments/status/[^"]+)"', page)
    assert match, "no status link"
    return match.group(1)


def test_the_poster_gets_a_private_status_link_and_can_withdraw(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Second thoughts")
    link = status_link(client.get(f"/publications/{publication.slug}").get_data(as_text=True))
    stranger = app.test_client()
    page = stranger.get(link).get_data(as_text=True)  # the link alone is enough
    assert "Pending: it awaits moderation." in page and "Second thoughts" in page
    token = csrf_token(stranger, link)
    response = stranger.post(link + "/withdraw", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 0
    assert stranger.get(link).status_code == 404


def test_the_status_link_shows_the_outcome(app: Flask, client: FlaskClient, moderator) -> None:
    publication = make_publication()
    post_comment(client, publication.slug, body="Rude words")
    link = status_link(client.get(f"/publications/{publication.slug}").get_data(as_text=True))
    mod = app.test_client()
    login(mod, "mod")
    comment = db.session.scalar(db.select(Comment))
    mod.post(
        f"/moderation/comments/{comment.id}/reject",
        data={"csrf_token": csrf_token(mod, "/moderation/"), "reason": "abusive"},
    )
    page = client.get(link).get_data(as_text=True)
    assert "Not published: Abusive or uncivil." in page
    assert "Withdraw" not in page
    token = csrf_token(client, "/auth/login")  # a valid token of this reader's session
    response = client.post(link + "/withdraw", data={"csrf_token": token})
    assert response.status_code == 303
    assert db.session.scalar(db.select(db.func.count()).select_from(Comment)) == 1


@pytest.mark.parametrize("token", ["nonsense", "MQ.forged", "a" * 300])
def test_forged_status_links_are_404(app: Flask, client: FlaskClient, token: str) -> None:
    assert client.get(f"/comments/status/{token}").status_code == 404


def test_one_address_cannot_hide_a_comment_by_clearing_cookies(app: Flask) -> None:
    publication = make_publication()
    comment = make_comment(publication, body="Unpopular but fine")
    for _ in range(3):  # three sessions, one address
        assert report(app.test_client(), publication, comment).status_code == 303
    page = app.test_client().get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Unpopular but fine" in page
    assert db.session.scalar(db.select(db.func.count()).select_from(Report)) == 3
