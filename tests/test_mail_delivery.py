"""Mail delivery through a real SMTP server: what arrives and its headers, the server
down then up, refusals for good, two workers at once, a rolled-back event, .eml files."""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from discussion import create_app
from discussion.accounts import staff
from discussion.comments import posting
from discussion.extensions import db, mailman
from discussion.mail import delivery, notices, outbox, worker
from discussion.mail.outbox import Kind
from discussion.models import (
    Comment,
    CommentState,
    MailAddress,
    MailPreference,
    MailStatus,
    OutboxMail,
    utcnow,
)
from discussion.web import links
from tests.helpers import PASSWORD, csrf_token, login, make_publication, post_comment
from tests.mailsink import SITE_URL, SmtpSink, html_of, link, smtp, text_of

__all__ = ["smtp"]  # the fixture, imported for pytest

ALERTS = "desk@example.org"


def deliver(at=None) -> int:
    """One ``worker --once`` round at time ``at`` (now by default)."""
    return worker.run_once(lambda: at or utcnow())


def on_call(app: Flask, username: str = "oncall", email: str = ALERTS):
    moderator = staff.create_moderator(username, PASSWORD, email=email)
    db.session.commit()
    return moderator


def mails(status: MailStatus | None = None) -> list[OutboxMail]:
    stmt = select(OutboxMail).order_by(OutboxMail.id)
    if status is not None:
        stmt = stmt.where(OutboxMail.status == status)
    return list(db.session.scalars(stmt))


def test_a_held_comment_reaches_the_moderator_with_trustworthy_headers(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    on_call(app)
    publication = make_publication(title="Talks & <Tweets>")
    post_comment(
        client,
        publication.slug,
        name='<b onclick="x()">Eve</b>',
        body="Read <script>alert(1)</script> this",
    )
    assert smtp.messages == []  # nothing is sent by the POST itself
    assert deliver() == 1
    [message] = smtp.to(ALERTS)
    assert message["To"] == ALERTS
    assert message["From"] == "Discussion <noreply@news.example.org>"
    assert message["Message-ID"].endswith("@news.example.org>")
    assert message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == "A comment waits for moderation: Talks & <Tweets>"
    html = html_of(message)
    assert '<b onclick="x()">' not in html and "&lt;b onclick=" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    comment_id = mails()[0].payload["comment_id"]
    queue = link(message, "/moderation/")
    assert queue == f"{SITE_URL}/moderation/?status=all&after={comment_id + 1}#comment-{comment_id}"
    assert "Pre-moderation" in text_of(message)  # why it is held


def test_links_come_from_site_url_never_from_the_host_header(app: Flask, smtp: SmtpSink) -> None:
    on_call(app)
    publication = make_publication()
    client = app.test_client()
    token = csrf_token(client, f"/publications/{publication.slug}")
    fields = {"name": "Ada", "email": "", "body": "Hi", "website": "", "parent_id": ""}
    response = client.post(
        f"/publications/{publication.slug}/comments",
        data={**fields, "csrf_token": token},
        base_url="http://attacker.example",
    )
    assert response.status_code == 303
    deliver()
    [message] = smtp.messages
    assert "attacker.example" not in message.as_string()
    assert SITE_URL in text_of(message)


def test_opening_the_queue_link_changes_nothing(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    on_call(app)
    publication = make_publication()
    post_comment(client, publication.slug, body="Waiting")
    deliver()
    queue = link(smtp.messages[0], "/moderation/").removeprefix(SITE_URL)
    login(client, "oncall")
    page = client.get(queue)
    assert page.status_code == 200 and "Waiting" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 1
    assert db.session.scalar(select(Comment.state)) is CommentState.PENDING


def test_a_rolled_back_event_sends_nothing(app: Flask, smtp: SmtpSink) -> None:
    on_call(app)
    publication = make_publication()
    posted = posting.post_comment(publication, name="Ada", body="Never stored")
    notices.comment_posted(posted.id, posted.state, root_id=None, email=None)
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 1
    db.session.rollback()
    assert deliver() == 0
    assert smtp.messages == [] and mails() == []


def test_the_server_down_then_up_retries_and_delivers_once(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    on_call(app)
    publication = make_publication()
    smtp.stop()
    started = time.perf_counter()
    assert post_comment(client, publication.slug, body="While down").status_code == 303
    assert time.perf_counter() - started < 2  # the POST does not wait for the server
    now = utcnow()
    deliver(now)
    [mail] = mails()
    assert mail.status is MailStatus.QUEUED and mail.attempts == 1
    assert "Could not reach the mail server" in (mail.last_error or "")
    assert outbox.aware(mail.due_at) == now + timedelta(seconds=60)
    deliver(now + timedelta(seconds=30))  # not due yet: not tried
    assert mails()[0].attempts == 1
    deliver(now + timedelta(seconds=61))  # down still: the wait doubles
    assert mails()[0].attempts == 2
    assert outbox.aware(mails()[0].due_at) == now + timedelta(seconds=61 + 120)
    smtp.start()
    deliver(now + timedelta(hours=1))
    deliver(now + timedelta(hours=2))
    assert len(smtp.messages) == 1
    [mail] = mails()
    assert mail.status is MailStatus.SENT and mail.attempts == 3


def test_a_mail_server_down_for_an_hour_loses_nothing(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    on_call(app)
    publication = make_publication()
    smtp.stop()
    for n in range(3):
        post_comment(client, publication.slug, body=f"Comment {n}")
    start = utcnow()
    for minute in range(0, 61, 5):  # a worker polling through the hour
        deliver(start + timedelta(minutes=minute))
    assert {m.status for m in mails()} == {MailStatus.QUEUED}
    smtp.start()
    deliver(start + timedelta(minutes=125))
    assert len(smtp.messages) == 3
    assert {m.status for m in mails()} == {MailStatus.SENT}


def test_a_refusal_for_good_is_kept_with_the_answer_and_shown_to_admins(
    app: Flask, client: FlaskClient, smtp: SmtpSink, admin
) -> None:
    on_call(app, email="gone@example.org")
    smtp.handler.refuse["gone@example.org"] = "550 5.1.1 <gone@example.org>: no such user"
    publication = make_publication()
    post_comment(client, publication.slug)
    deliver()
    [mail] = mails()
    assert mail.status is MailStatus.FAILED
    assert mail.last_error == "550 5.1.1 <gone@example.org>: no such user"
    deliver(utcnow() + timedelta(days=1))  # never tried again
    assert mails()[0].attempts == 1 and smtp.messages == []
    login(client, "chief")
    page = client.get("/moderation/mail").get_data(as_text=True)
    assert "gone@example.org" in page and "550 5.1.1" in page
    # The admin fixes it; the mail goes out.
    del smtp.handler.refuse["gone@example.org"]
    token = csrf_token(client, "/moderation/mail")
    client.post(f"/moderation/mail/{mail.id}/retry", data={"csrf_token": token})
    deliver()
    assert len(smtp.to("gone@example.org")) == 1


def test_the_failed_mail_page_is_for_admins(app: Flask, client: FlaskClient, moderator) -> None:
    login(client, "mod")
    assert client.get("/moderation/mail").status_code == 403


def test_temporary_refusals_are_retried_for_two_days_then_kept_as_failed(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    on_call(app, email="full@example.org")
    smtp.handler.refuse["full@example.org"] = "452 4.2.2 Mailbox full"
    publication = make_publication()
    post_comment(client, publication.slug)
    start = utcnow()
    at = start
    while at < start + timedelta(hours=49):
        deliver(at)
        at += timedelta(minutes=30)
    [mail] = [m for m in mails() if m.kind == Kind.HELD]  # stale-queue alerts came too
    assert mail.status is MailStatus.FAILED
    assert mail.last_error.startswith("Gave up after")
    assert "452 4.2.2 Mailbox full" in mail.last_error
    assert 48 <= mail.attempts <= 60  # backoff capped at an hour: about one an hour


def test_two_workers_at_once_send_each_mail_once(app: Flask, smtp: SmtpSink) -> None:
    """Confirmation mails for addresses that exist, sent by two workers in threads."""
    now = utcnow()
    for n in range(60):
        address = MailAddress(address_hash=f"{n:064d}", created_at=now)
        db.session.add(address)
        db.session.flush()
        outbox.enqueue(Kind.CONFIRM, f"reader{n}@example.org", {"address_id": address.id}, now=now)
    db.session.commit()
    app.config["MAIL_BATCH_SIZE"] = 7
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait()
                worker.run_once()
                db.session.remove()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 60 and len(set(ids)) == 60
    assert {m.status for m in mails()} == {MailStatus.SENT}


def test_without_a_mail_server_mails_are_eml_files(
    app: Flask, client: FlaskClient, runner, tmp_path: Path
) -> None:
    app.config.update(MAIL_FILE_PATH=str(tmp_path / "mail"))
    mailman.init_app(app)
    assert app.config["MAIL_BACKEND"] == delivery.EML_BACKEND
    on_call(app)
    post_comment(client, make_publication().slug)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Mails handled: 1." in result.output
    [path] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == ALERTS and message["Auto-Submitted"] == "auto-generated"
    assert mails()[0].status is MailStatus.SENT


def test_outside_testing_mail_refuses_to_guess_the_site_address(app: Flask) -> None:
    app.testing = False
    try:
        with pytest.raises(links.NoSiteAddress):
            links.site_url()
        app.config["SITE_URL"] = "https://news.example.org/"
        assert links.absolute("publications.front") == "https://news.example.org/"
    finally:
        app.testing = True


def test_the_posters_status_link_comes_from_site_url(app: Flask) -> None:
    app.config["SITE_URL"] = SITE_URL
    publication = make_publication()
    client = app.test_client()
    page = f"/publications/{publication.slug}"
    token = csrf_token(client, page)
    fields = {"name": "Ada", "email": "", "body": "Hi", "website": "", "parent_id": ""}
    hostile = "http://attacker.example"
    client.post(f"{page}/comments", data={**fields, "csrf_token": token}, base_url=hostile)
    shown = client.get(page, base_url=hostile).get_data(as_text=True)
    assert f'href="{SITE_URL}/comments/status/' in shown
    assert "attacker.example/comments/status" not in shown


def test_while_the_server_is_down_a_round_tries_one_batch_only(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    """A backlog is not churned through (and the database kept busy) for nothing."""
    on_call(app)
    app.config["MAIL_BATCH_SIZE"] = 2
    publication = make_publication()
    for n in range(5):
        post_comment(client, publication.slug, body=f"Backlog {n}")
    smtp.stop()
    deliver()
    assert sorted(m.attempts for m in mails()) == [0, 0, 0, 1, 1]
    smtp.start()
    deliver()
    assert len(smtp.messages) == 3  # up again: everything due goes, batch after batch


def test_a_mail_that_cannot_be_rendered_is_failed_and_the_rest_go(
    app: Flask, smtp: SmtpSink
) -> None:
    now = utcnow()
    address = MailAddress(address_hash="1" * 64, created_at=now)
    digest = staff.create_moderator("digest", PASSWORD, email="digest@example.org")
    digest.mail_preference = MailPreference.DIGEST
    db.session.add(address)
    db.session.flush()
    outbox.enqueue(
        Kind.DIGEST, "digest@example.org", {"moderator_id": digest.id, "comment_ids": 7}, now=now
    )
    outbox.enqueue(Kind.CONFIRM, "a@example.org", {"address_id": address.id}, now=now)
    db.session.commit()
    deliver()
    broken, fine = mails()
    assert fine.status is MailStatus.SENT and len(smtp.messages) == 1
    assert broken.status is MailStatus.FAILED
    assert broken.last_error.startswith("Could not be rendered: ")


def test_the_worker_will_not_start_without_a_site_address(app: Flask, runner) -> None:
    app.testing = False
    try:
        result = runner.invoke(args=["worker", "--once"])
    finally:
        app.testing = True
    assert result.exit_code != 0 and "SITE_URL is not set" in result.output


def test_the_worker_keeps_running_until_it_is_stopped(
    app: Flask, client: FlaskClient, smtp: SmtpSink, database_url: str
) -> None:
    """``flask --app discussion worker`` as production runs it: a process of its own that
    delivers mail queued while it runs, and exits cleanly on SIGTERM."""
    on_call(app)
    publication = make_publication()
    environment = {
        **os.environ,
        "FLASK_SQLALCHEMY_DATABASE_URI": database_url,
        "FLASK_SECRET_KEY": app.config["SECRET_KEY"],
        "FLASK_SITE_URL": SITE_URL,
        "FLASK_MAIL_SERVER": "127.0.0.1",
        "FLASK_MAIL_PORT": str(smtp.port),
        "FLASK_MAIL_WORKER_POLL_SECONDS": "0.2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "discussion", "worker"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for n in range(2):  # queued while it runs, one after the other
            post_comment(client, publication.slug, body=f"While running {n}")
            deadline = time.monotonic() + 20
            while len(smtp.messages) < n + 1 and time.monotonic() < deadline:
                time.sleep(0.1)  # waiting on another process
            assert len(smtp.messages) == n + 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Worker stopped." in output


def test_a_reply_approved_while_its_batch_is_being_sent_waits_for_the_next(app: Flask) -> None:
    now = utcnow()
    hour = timedelta(hours=1)

    def gather(item: int) -> OutboxMail:
        mail = outbox.gather(
            Kind.REPLIES, "r@example.org", "replies:1:1", "reply_ids", item, {}, now=now, every=hour
        )
        db.session.commit()
        return mail

    first = gather(10)
    assert gather(11).id == first.id  # not yet claimed: gathered
    assert outbox.claim(now, 10) == [first]  # a worker takes it
    db.session.commit()
    later = gather(12)
    assert later.id != first.id and later.payload["reply_ids"] == [12]
    assert outbox.aware(later.due_at) == now + hour
    assert db.session.get(OutboxMail, first.id).payload["reply_ids"] == [10, 11]


def test_mail_settings_come_from_flask_variables(
    monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    for name, value in {
        "FLASK_MAIL_SERVER": "smtp.example.org",
        "FLASK_MAIL_PORT": "587",
        "FLASK_MAIL_USE_TLS": "true",
        "FLASK_MAIL_USERNAME": "discussion",
        "FLASK_MAIL_PASSWORD": "secret",
        "FLASK_MAIL_DEFAULT_SENDER": "comments@example.org",
    }.items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    state = app.extensions["mailman"]
    assert (state.server, state.port, state.use_tls, state.use_ssl) == (
        "smtp.example.org",
        587,
        True,
        False,
    )
    assert (state.username, state.password, state.backend) == ("discussion", "secret", "smtp")
    assert state.default_sender == "comments@example.org"
