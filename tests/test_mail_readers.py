"""Readers' mail: the double opt-in, outcome and reply notices, one-click unsubscribe,
the stop page, caps, and trusting known authors only once their address is confirmed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from discussion.extensions import db
from discussion.mail import subscriptions, worker
from discussion.mail.subscriptions import MailSettings
from discussion.models import (
    Comment,
    CommentState,
    MailAddress,
    MailStatus,
    MailSubscription,
    OutboxMail,
    utcnow,
)
from discussion.moderation import decisions, settings
from tests.helpers import csrf_token, make_comment, make_publication, post_comment, site_admin
from tests.mailsink import SITE_URL, SmtpSink, html_of, link, smtp, text_of

__all__ = ["smtp"]

READER = "reader@example.org"


def deliver(at=None) -> int:
    return worker.run_once(lambda: at or utcnow())


def last_comment() -> Comment:
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def decide(comment_id: int, action: str, reason: str | None = None) -> None:
    decisions.act(comment_id, action, site_admin(), reason=reason)
    db.session.commit()


def confirm(client: FlaskClient, message) -> None:
    """What a reader does with a confirmation mail: open the link, press the button."""
    url = link(message, "/mail/confirm/").removeprefix(SITE_URL)
    page = client.get(url)
    assert page.status_code == 200 and "Confirm my address" in page.get_data(as_text=True)
    token = csrf_token(client, url)
    done = client.post(url, data={"csrf_token": token})
    assert done.status_code == 200 and "Address confirmed" in done.get_data(as_text=True)


def confirmed_reader(client: FlaskClient, smtp: SmtpSink, publication, **fields) -> Comment:
    """A reader's approved comment, asking for replies and outcome, address confirmed."""
    post_comment(
        client,
        publication.slug,
        email=READER,
        notify_outcome="y",
        notify_replies="y",
        **fields,
    )
    comment = last_comment()
    deliver()
    confirm(client, smtp.to(READER)[-1])
    decide(comment.id, "approve")
    deliver()
    smtp.clear()
    return comment


def test_the_first_mail_asks_to_confirm_and_nothing_else_goes_until_then(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication(title="Talks")
    response = post_comment(client, publication.slug, email=READER, notify_outcome="y")
    assert response.status_code == 303
    comment = last_comment()
    deliver()
    [confirmation] = smtp.to(READER)
    assert confirmation["Subject"] == "Please confirm your address for Discussion"
    assert "List-Unsubscribe" not in confirmation
    decide(comment.id, "approve")
    deliver()
    assert len(smtp.to(READER)) == 1  # still only the confirmation
    # A mail scanner following the link changes nothing: only the page's POST confirms.
    url = link(confirmation, "/mail/confirm/").removeprefix(SITE_URL)
    client.get(url)
    decide_again = post_comment(client, publication.slug, email=READER, notify_outcome="y")
    assert decide_again.status_code == 303
    deliver()
    assert len(smtp.to(READER)) == 1  # no second confirmation within a day, no notice
    confirm(client, confirmation)
    deliver()
    [_, published] = smtp.to(READER)  # the outcome decided meanwhile, told now
    assert published["Subject"] == "Your comment is published: Talks"
    assert f"{SITE_URL}/publications/{publication.slug}#comment-{comment.id}" in text_of(published)
    assert published["Auto-Submitted"] == "auto-generated"


def test_a_confirmed_address_is_not_asked_again(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    confirmed_reader(client, smtp, publication)
    post_comment(client, publication.slug, email=READER.upper(), notify_outcome="y", body="More")
    decide(last_comment().id, "approve")
    deliver()
    [message] = smtp.messages
    assert message["Subject"].startswith("Your comment is published")


def test_not_published_says_the_reason_category(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    confirmed_reader(client, smtp, publication)
    post_comment(client, publication.slug, email=READER, notify_outcome="y", body="Off")
    decide(last_comment().id, "reject", reason="off-topic")
    deliver()
    [message] = smtp.messages
    assert message["Subject"].startswith("Your comment was not published")
    assert "Reason: Off-topic" in text_of(message)


def test_spam_and_rules_refusals_are_not_told(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    confirmed_reader(client, smtp, publication)
    post_comment(client, publication.slug, email=READER, notify_outcome="y", body="Buy")
    decide(last_comment().id, "spam")
    settings.save({"banned_words": ["casino"]}, site_admin())
    db.session.commit()
    settings.forget()
    post_comment(client, publication.slug, email=READER, notify_outcome="y", body="casino")
    assert last_comment().state is CommentState.REJECTED
    deliver()
    assert smtp.messages == []


def test_reply_notices_only_for_approved_replies_by_others(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication(title="Talks")
    mine = confirmed_reader(client, smtp, publication)
    other = app.test_client()
    fields = {"email": "other@example.org", "parent_id": str(mine.id)}
    post_comment(other, publication.slug, name="Omar", body="Pending reply", **fields)
    pending = last_comment()
    post_comment(other, publication.slug, name="Omar", body="Rejected reply", **fields)
    decide(last_comment().id, "reject")
    post_comment(other, publication.slug, name="Omar", body="Spam reply", **fields)
    decide(last_comment().id, "spam")
    post_comment(
        client, publication.slug, body="My own reply", email=READER, parent_id=str(mine.id)
    )
    decide(last_comment().id, "approve")
    deliver()
    assert smtp.messages == []  # pending, rejected, spam, and the reader's own reply
    decide(pending.id, "approve")
    deliver()
    [message] = smtp.to(READER)
    assert message["Subject"] == "A new reply in your discussion: Talks"
    text = text_of(message)
    assert "Omar wrote:" in text and "Pending reply" in text
    assert "other@example.org" not in message.as_string()  # never another reader's address
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Unsubscribe"].strip().startswith(f"<{SITE_URL}/mail/stop/")


def test_replies_are_gathered_into_one_mail_an_hour(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    mine = confirmed_reader(client, smtp, publication)
    other = app.test_client()

    def reply(body: str) -> None:
        post_comment(other, publication.slug, name="Omar", body=body, parent_id=str(mine.id))
        decide(last_comment().id, "approve")

    reply("First")
    start = utcnow()
    deliver(start)
    reply("Second")
    reply("Third")
    deliver(start + timedelta(minutes=30))
    assert len(smtp.to(READER)) == 1
    deliver(start + timedelta(minutes=61))
    [first, second] = smtp.to(READER)
    assert "First" in text_of(first) and "Second" not in text_of(first)
    assert second["Subject"].startswith("2 new replies")
    assert "Second" in text_of(second) and "Third" in text_of(second)


def test_one_click_unsubscribe_stops_every_notice(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    mine = confirmed_reader(client, smtp, publication)
    post_comment(app.test_client(), publication.slug, body="Reply", parent_id=str(mine.id))
    decide(last_comment().id, "approve")
    deliver()
    [message] = smtp.messages
    url = message["List-Unsubscribe"].strip().strip("<>").removeprefix(SITE_URL)
    # What a mail provider sends (RFC 8058): a POST with this body, no cookie, no token.
    response = app.test_client().post(url, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    post_comment(app.test_client(), publication.slug, body="Again", parent_id=str(mine.id))
    decide(last_comment().id, "approve")
    post_comment(client, publication.slug, email=READER, notify_outcome="y", body="Mine")
    decide(last_comment().id, "approve")
    deliver(utcnow() + timedelta(hours=2))
    assert len(smtp.messages) == 1
    # A new wish after stopping must be confirmed again, and one confirmation a day at most
    # goes to an address: the one at the start was it.
    confirmations = select(func.count()).select_from(OutboxMail).where(OutboxMail.kind == "confirm")
    assert db.session.scalar(confirmations) == 1


def test_a_get_on_the_unsubscribe_link_changes_nothing_and_the_page_stops_one_thread(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    first = confirmed_reader(client, smtp, publication)
    post_comment(client, publication.slug, email=READER, notify_replies="y", body="Second thread")
    second = last_comment()
    decide(second.id, "approve")
    other = app.test_client()
    for parent in (first, second):
        post_comment(other, publication.slug, body="Reply", parent_id=str(parent.id))
        decide(last_comment().id, "approve")
    deliver()
    assert len(smtp.messages) == 2
    about_first = next(m for m in smtp.messages if "#comment-" in text_of(m))
    url = link(about_first, "/mail/stop/").removeprefix(SITE_URL)
    thread_of = {m["List-Unsubscribe"]: m for m in smtp.messages}
    assert len(thread_of) == 2  # each thread its own link
    page = client.get(url)
    assert page.status_code == 200
    assert "Stop mails about this discussion" in page.get_data(as_text=True)
    token = csrf_token(client, url)
    stopped = client.post(url, data={"csrf_token": token, "scope": "thread"})
    assert "no more mails about this discussion" in stopped.get_data(as_text=True)
    smtp.clear()
    for parent in (first, second):
        post_comment(other, publication.slug, body="Later", parent_id=str(parent.id))
        decide(last_comment().id, "approve")
    deliver(utcnow() + timedelta(hours=2))
    [message] = smtp.messages
    assert message["List-Unsubscribe"] != about_first["List-Unsubscribe"]


def test_a_form_post_without_its_token_stops_nothing(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    mine = confirmed_reader(client, smtp, publication)
    post_comment(app.test_client(), publication.slug, body="Reply", parent_id=str(mine.id))
    decide(last_comment().id, "approve")
    deliver()
    url = link(smtp.messages[0], "/mail/stop/").removeprefix(SITE_URL)
    assert app.test_client().post(url, data={"scope": "all"}).status_code == 400
    assert (
        app.test_client().post(url + "x", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    )


def test_the_mail_html_escapes_what_readers_typed(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    mine = confirmed_reader(client, smtp, publication)
    post_comment(
        app.test_client(),
        publication.slug,
        name='"><img src=x onerror=alert(1)>',
        body="<a href='https://evil.example'>click</a>",
        parent_id=str(mine.id),
    )
    decide(last_comment().id, "approve")
    deliver()
    [message] = smtp.messages
    html = html_of(message)
    assert "<img" not in html and "&lt;img src=x" in html
    assert "<a href='https://evil.example'>" not in html
    assert set(message.keys()) >= {"Message-ID", "Date", "From", "To", "Subject"}
    assert message["To"] == READER and "evil" not in message["Subject"]


@pytest.mark.config(MAIL_RECIPIENT_DAILY_CAP=3)
def test_notices_to_one_address_are_capped_per_day(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    confirmed_reader(client, smtp, publication)  # the confirmation and the outcome: 2 of 3
    for n in range(2):
        post_comment(client, publication.slug, email=READER, notify_outcome="y", body=f"N{n}")
        decide(last_comment().id, "approve")
    deliver()
    assert len(smtp.messages) == 1  # the second waits for the next day
    deliver(utcnow() + timedelta(days=1, hours=1))
    assert len(smtp.messages) == 2
    assert {m.status for m in db.session.scalars(select(OutboxMail))} == {MailStatus.SENT}


def test_a_ticked_box_needs_an_email_and_keeps_the_text(app: Flask, client: FlaskClient) -> None:
    publication = make_publication()
    response = post_comment(client, publication.slug, notify_replies="y", body="Kept text")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Please enter your email address to be told by email." in page
    assert "Kept text" in page
    assert '<input checked id="notify_replies" name="notify_replies" type="checkbox"' in page


def test_the_form_offers_both_boxes(app: Flask, client: FlaskClient) -> None:
    page = client.get(f"/publications/{make_publication().slug}").get_data(as_text=True)
    assert 'name="notify_outcome" type="checkbox" value="y"' in page
    assert "Email me when my comment is published" in page
    assert "Email me when someone replies" in page


def test_known_authors_are_trusted_only_once_confirmed(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    settings.save({"auto_approve_known_authors": True}, site_admin())
    db.session.commit()
    settings.forget()
    publication = make_publication()
    make_comment(publication, email=READER)  # an approved comment with that address
    post_comment(app.test_client(), publication.slug, email=READER, body="Impostor")
    assert last_comment().state is CommentState.PENDING  # anyone can type an address
    post_comment(client, publication.slug, email=READER, notify_outcome="y", body="Me")
    deliver()
    confirm(client, smtp.to(READER)[0])
    post_comment(client, publication.slug, email=READER, body="Me again")
    assert last_comment().state is CommentState.APPROVED


def test_a_comment_the_rules_publish_at_once_is_told_at_once(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    confirmed_reader(client, smtp, publication)
    settings.save({"premoderation": False}, site_admin())
    db.session.commit()
    settings.forget()
    post_comment(client, publication.slug, email=READER, notify_outcome="y", body="Straight in")
    assert last_comment().state is CommentState.APPROVED
    deliver()
    [message] = smtp.messages
    assert message["Subject"].startswith("Your comment is published")
    assert f"#comment-{last_comment().id}" in text_of(message)


def test_two_first_comments_from_one_address_at_once_both_post(app: Flask) -> None:
    publication = make_publication()
    ids = [make_comment(publication, state=CommentState.PENDING).id for _ in range(2)]
    db.session.commit()  # this test's own session holds no lock while the two post
    first_inserted = threading.Event()
    errors: list[BaseException] = []

    def wish(comment_id: int, wait: threading.Event | None) -> None:
        try:
            with app.app_context():
                if wait is not None:
                    wait.wait(10)
                subscriptions.opt_in(
                    comment_id=comment_id,
                    root_id=comment_id,
                    email=READER,
                    outcome=True,
                    replies=False,
                    settings=MailSettings(secret_key=app.config["SECRET_KEY"]),
                    now=utcnow(),
                )
                db.session.flush()
                if wait is None:
                    first_inserted.set()
                    time.sleep(0.5)  # the other one's insert waits meanwhile
                db.session.commit()
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [
        threading.Thread(target=wish, args=(ids[0], None)),
        threading.Thread(target=wish, args=(ids[1], first_inserted)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert db.session.scalar(select(func.count()).select_from(MailAddress)) == 1
    assert db.session.scalar(select(func.count()).select_from(MailSubscription)) == 2
    confirmations = select(func.count()).select_from(OutboxMail).where(OutboxMail.kind == "confirm")
    assert db.session.scalar(confirmations) == 1


@pytest.mark.config(
    RATELIMIT_ENABLED=True, RATELIMIT_COMMENTS="100/minute", RATELIMIT_MAIL_CONFIRMATIONS="2/day"
)
def test_one_client_cannot_send_confirmations_to_many_addresses(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    for n in range(4):
        response = post_comment(
            client, publication.slug, email=f"victim{n}@example.org", notify_replies="y"
        )
        assert response.status_code == 303  # the comment is posted all the same
    deliver()
    assert sorted(m["To"] for m in smtp.messages) == ["victim0@example.org", "victim1@example.org"]
    assert db.session.scalar(select(func.count()).select_from(MailSubscription)) == 4


def test_a_name_with_line_breaks_adds_no_header_and_no_recipient(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    publication = make_publication()
    mine = confirmed_reader(client, smtp, publication)
    post_comment(
        app.test_client(),
        publication.slug,
        name="Eve\r\nBcc: victim@example.org\r\nSubject: Prize",
        body="Reply",
        parent_id=str(mine.id),
    )
    decide(last_comment().id, "approve")
    deliver()
    [(envelope, message)] = smtp.handler.received
    assert envelope == [READER]
    assert "Bcc" not in message and message.get_all("Subject") == [message["Subject"]]
    assert message["Subject"] == "A new reply in your discussion: " + publication.title
