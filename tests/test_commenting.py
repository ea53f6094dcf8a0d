"""Posting comments: success, every validation error, CSRF, honeypot, closed threads."""

from __future__ import annotations

import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from discussion.extensions import db
from discussion.models import Comment, CommentState
from discussion.publications import catalog
from tests.helpers import USIP, csrf_token, make_comment, make_publication, post_comment


def stored() -> list[Comment]:
    return list(db.session.scalars(db.select(Comment).order_by(Comment.id)))


def form_values(page: str) -> dict[str, str]:
    """What the re-rendered form holds, unescaped, as a browser would show it."""
    values = {}
    for name in ("name", "email", "website"):
        match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
        values[name] = html.unescape(match.group(1)) if match else ""
    body = re.search(r'<textarea[^>]*name="body"[^>]*>(?:\r\n|\n)?(.*?)</textarea>', page, re.S)
    values["body"] = html.unescape(body.group(1)) if body else ""
    return values


def test_a_comment_is_stored_pending_and_shown_only_to_its_poster(
    seeded: Flask, client: FlaskClient, app: Flask
) -> None:
    body = "I think **talks** will resume.\nSee https://example.org/x"
    response = post_comment(client, USIP, name="Ada", email="ada@example.org", body=body)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/publications/{USIP}#your-comments")
    [comment] = stored()
    assert comment.state is CommentState.PENDING
    assert comment.body_text == body  # exactly as typed
    assert comment.email == "ada@example.org"
    assert "<strong>talks</strong>" in comment.body_html
    assert 'rel="nofollow ugc noopener"' in comment.body_html

    page = client.get(f"/publications/{USIP}").get_data(as_text=True)
    assert "Your comment awaits moderation" in page
    assert f'id="comment-{comment.id}"' in page
    assert "Awaiting moderation: only you can see this" in page
    assert "ada@example.org" not in page
    assert "Comments (0)" in page

    other = app.test_client().get(f"/publications/{USIP}").get_data(as_text=True)
    assert f'id="comment-{comment.id}"' not in other and "talks</strong>" not in other


def test_the_notice_shows_once(seeded: Flask, client: FlaskClient) -> None:
    post_comment(client, USIP)
    assert "awaits moderation" in client.get(f"/publications/{USIP}").get_data(as_text=True)
    again = client.get(f"/publications/{USIP}").get_data(as_text=True)
    assert "Thank you. Your comment awaits moderation" not in again
    assert "Awaiting moderation: only you can see this" in again  # still theirs to see


TYPED = {
    "name": "Zoë “Z” O'Brien <b>",
    "email": "zoe@example.org",
    "body": "Line one\nLine two with <script>alert(1)</script> & émoji 🕊️\n\n  indented",
}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Please enter your name."),
        ({"name": "   "}, "name", "Please enter your name."),
        ({"name": "n" * 81}, "name", "Please keep your name to 80 characters."),
        ({"email": "not-an-email"}, "email", "Please enter a valid email address"),
        ({"email": "a" * 250 + "@x.org"}, "email", "An email address is at most 254 characters."),
        ({"body": ""}, "body", "Please write a comment."),
        ({"body": " \n\t "}, "body", "Please write a comment."),
        ({"body": "b" * 5001}, "body", "Please keep your comment to 5000 characters."),
        ({"body": "bad\x00byte"}, "body", "Remove the invisible control characters"),
        ({"name": "bell\x07"}, "name", "Remove the invisible control characters"),
        ({"parent_id": "999999"}, "parent_id", "is no longer available"),
        ({"parent_id": "abc"}, "parent_id", "is no longer available"),
    ],
)
def test_each_validation_error_is_shown_beside_its_field_and_keeps_the_text(
    seeded: Flask, client: FlaskClient, changes: dict, field: str, message: str
) -> None:
    data = {**TYPED, **changes}
    response = post_comment(client, USIP, **data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert html.escape(message, quote=False) in page or message in page
    assert "Your comment was not posted" in page
    if field != "parent_id":
        assert f'aria-describedby="{field}-hint {field}-error"' in page or (
            f'aria-describedby="{field}-error"' in page
        )
        assert f'id="{field}-error"' in page
    kept = form_values(page)
    for key in ("name", "email", "body"):
        expected = data[key].replace("\r\n", "\n")
        if key == "email":
            expected = expected.strip()
        assert kept[key] == expected, key
    assert stored() == []


def test_body_length_counts_line_breaks_once(seeded: Flask, client: FlaskClient) -> None:
    body = ("x" * 99 + "\r\n") * 50  # 5,000 characters once CRLF is one line break
    response = post_comment(client, USIP, body=body)
    assert response.status_code == 303
    assert stored()[0].body_text == body.replace("\r\n", "\n")


def test_a_missing_or_wrong_csrf_token_is_refused_and_keeps_the_text(
    seeded: Flask, client: FlaskClient
) -> None:
    for token in (None, "forged"):
        data = {**TYPED, "website": "", "parent_id": ""}
        if token:
            data["csrf_token"] = token
        response = client.post(f"/publications/{USIP}/comments", data=data)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "the form had expired or came from another site" in page
        kept = form_values(page)
        assert kept["body"] == TYPED["body"] and kept["name"] == TYPED["name"]
        assert re.search(r'name="csrf_token" type="hidden" value="[^"]+"', page)  # a fresh one
    assert stored() == []


def test_honeypot_is_stored_as_spam_and_the_poster_sees_the_usual_notice(
    seeded: Flask, client: FlaskClient
) -> None:
    response = post_comment(client, USIP, website="http://spam.example")
    assert response.status_code == 303
    [comment] = stored()
    assert comment.state is CommentState.SPAM
    page = client.get(f"/publications/{USIP}").get_data(as_text=True)
    assert "Your comment awaits moderation" in page


def test_the_honeypot_is_hidden_from_people(seeded: Flask, client: FlaskClient) -> None:
    page = client.get(f"/publications/{USIP}").get_data(as_text=True)
    assert re.search(r'<div class="field field--trap" aria-hidden="true">', page)
    assert re.search(r'<input[^>]*name="website"[^>]*tabindex="-1"', page)


def test_closed_comments_replace_the_form_and_refuse_posts_keeping_the_text(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    token = csrf_token(client, f"/publications/{publication.slug}")
    publication.comments_open = False
    catalog.touch([publication.id])  # as the Switches page does
    db.session.commit()
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "Comments are closed on this publication." in page
    assert '/comments"' not in page and 'id="body"' not in page
    response = client.post(
        f"/publications/{publication.slug}/comments",
        data={**TYPED, "csrf_token": token},
    )
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Your comment was not posted" in page
    assert html.escape(TYPED["body"], quote=False) in page
    assert stored() == []


def test_a_reply_to_an_approved_comment_is_stored_under_it(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    parent = make_comment(publication, name="Parent")
    page = client.get(f"/publications/{publication.slug}?reply_to={parent.id}")
    text = page.get_data(as_text=True)
    assert "Reply to Parent" in text
    assert f'name="parent_id" type="hidden" value="{parent.id}"' in text
    response = post_comment(client, publication.slug, parent_id=str(parent.id), body="Agreed.")
    assert response.status_code == 303
    reply = stored()[-1]
    assert reply.parent_id == parent.id and reply.root_id == parent.id
    grandchild_parent = make_comment(publication, parent=reply, minutes=5)
    post_comment(client, publication.slug, parent_id=str(grandchild_parent.id))
    assert stored()[-1].root_id == parent.id


@pytest.mark.parametrize("state", [CommentState.PENDING, CommentState.REJECTED, CommentState.SPAM])
def test_replies_only_to_approved_comments(
    app: Flask, client: FlaskClient, state: CommentState
) -> None:
    publication = make_publication()
    parent = make_comment(publication, state=state)
    response = post_comment(client, publication.slug, parent_id=str(parent.id))
    assert response.status_code == 400
    assert "is no longer available" in response.get_data(as_text=True)


def test_replies_only_within_the_same_publication(app: Flask, client: FlaskClient) -> None:
    here, elsewhere = make_publication(), make_publication()
    parent = make_comment(elsewhere)
    response = post_comment(client, here.slug, parent_id=str(parent.id))
    assert response.status_code == 400


def test_typed_html_is_shown_as_text_never_interpreted(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    make_comment(publication, body='<img src=x onerror="alert(1)"> <script>x()</script>')
    page = client.get(f"/publications/{publication.slug}").get_data(as_text=True)
    assert "<script>x()" not in page and "<img src=x" not in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page


def test_posting_to_an_unknown_publication_is_404(app: Flask, client: FlaskClient) -> None:
    make_publication(slug="real")
    token = csrf_token(client, "/publications/real")
    response = client.post("/publications/ghost/comments", data={"csrf_token": token})
    assert response.status_code == 404


def test_an_oversized_request_answers_413_with_the_site_page(
    seeded: Flask, client: FlaskClient
) -> None:
    response = client.post(
        f"/publications/{USIP}/comments", data={"body": "x" * (140 * 1024), "name": "A"}
    )
    assert response.status_code == 413
    assert "Error 413" in response.get_data(as_text=True)
    assert stored() == []


def test_comment_get_is_405(seeded: Flask, client: FlaskClient) -> None:
    assert client.get(f"/publications/{USIP}/comments").status_code == 405


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/publications/{USIP}?page=²", 404),
        (f"/publications/{USIP}?reply_to=²", 200),  # not a reply: the plain form
        (f"/publications/{USIP}?reply_to=99999999999999999999", 200),
        (f"/publications/{USIP}/comments/99999999999999999999/report", 404),
        (f"/publications/{USIP}/comments/0/report", 404),
        ("/publications/?page=٣", 404),
        ("/comments/status/%00", 404),
    ],
)
def test_odd_numbers_answer_404_or_are_ignored_never_500(
    seeded: Flask, client: FlaskClient, url: str, status: int
) -> None:
    response = client.get(url)
    assert response.status_code == status
    if status == 200:  # ignored: the article with a fresh comment form, not a reply
        page = response.get_data(as_text=True)
        assert 'name="parent_id" type="hidden" value=""' in page


def test_refusals_without_a_page_to_show_are_plain_errors(
    seeded: Flask, client: FlaskClient
) -> None:
    assert client.post("/publications/ghost/comments", data={"body": "x"}).status_code == 404
    assert client.post("/comments/status/forged/withdraw").status_code == 400


def test_a_reply_to_a_vanished_comment_can_be_sent_again_as_a_new_comment(
    app: Flask, client: FlaskClient
) -> None:
    publication = make_publication()
    parent = make_comment(publication)
    parent.state = CommentState.REJECTED
    db.session.commit()
    response = post_comment(client, publication.slug, parent_id=str(parent.id), body="Kept")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'name="parent_id" type="hidden" value=""' in page
    assert "Kept</textarea>" in page
    assert post_comment(client, publication.slug, body="Kept").status_code == 303
    assert stored()[-1].parent_id is None
