"""Moderators' mail: an address and a preference per account, an alert per held comment,
digests every N hours, the stale-queue alert, and the periodic jobs run once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from discussion.accounts import staff
from discussion.extensions import db
from discussion.mail import jobs, worker
from discussion.models import Comment, CommentState, JobRun, MailPreference, Moderator, utcnow
from tests.helpers import (
    PASSWORD,
    csrf_token,
    login,
    make_comment,
    make_publication,
    post_comment,
)
from tests.mailsink import SmtpSink, smtp, text_of

__all__ = ["smtp"]


def deliver(at=None) -> int:
    return worker.run_once(lambda: at or utcnow())


def person(name: str, email: str | None, preference=MailPreference.EACH, hours=4) -> Moderator:
    moderator = staff.create_moderator(name, PASSWORD, email=email)
    moderator.mail_preference, moderator.digest_hours = preference, hours
    db.session.commit()
    return moderator


def test_create_moderator_takes_an_email(app: Flask, runner) -> None:
    result = runner.invoke(
        args=["create-moderator", "ana", "--password", PASSWORD, "--email", "Ana@Example.org"]
    )
    assert result.exit_code == 0, result.output
    ana = staff.find("ana")
    assert ana.email == "Ana@example.org" and ana.mail_preference is MailPreference.EACH
    bad = runner.invoke(args=["create-moderator", "bo", "--password", PASSWORD, "--email", "x@"])
    assert bad.exit_code != 0 and "not valid" in bad.output


def test_each_preference_gets_what_it_chose(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    each = person("each", "each@example.org")
    person("digest", "digest@example.org", MailPreference.DIGEST, hours=6)
    person("quiet", "quiet@example.org", MailPreference.NONE)
    person("nomail", None)
    gone = person("gone", "gone@example.org")
    gone.active = False
    db.session.commit()
    publication = make_publication()
    post_comment(client, publication.slug, body="First held", website="")
    post_comment(client, publication.slug, body="Second held")
    start = utcnow()
    deliver(start)
    assert len(smtp.to("each@example.org")) == 2
    own_settings = f"https://news.example.org/moderation/accounts/{each.id}/mail"
    assert own_settings in text_of(smtp.to("each@example.org")[0])
    [digest] = smtp.to("digest@example.org")  # the first digest: pending comments now
    assert digest["Subject"] == "2 comments wait for moderation"
    text = text_of(digest)
    assert "First held" in text and "Second held" in text
    assert "Held: Pre-moderation: Pre-moderation is on for the site." in text
    assert smtp.to("quiet@example.org") == [] and smtp.to("gone@example.org") == []
    post_comment(client, publication.slug, body="Third held")
    deliver(start + timedelta(hours=5))
    assert len(smtp.to("digest@example.org")) == 1  # not before 6 hours
    deliver(start + timedelta(hours=6, minutes=5))
    [_, second] = smtp.to("digest@example.org")
    assert second["Subject"] == "3 comments wait for moderation"


def test_an_alert_for_a_comment_decided_before_it_went_out_is_dropped(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    person("each", "each@example.org")
    publication = make_publication()
    post_comment(client, publication.slug, body="Quickly decided")
    comment = db.session.scalar(select(Comment))
    comment.state = CommentState.APPROVED
    db.session.commit()
    deliver()
    assert smtp.messages == []


@pytest.mark.config(MAIL_STALE_QUEUE_HOURS=12)
def test_the_stale_queue_alert_goes_once_until_the_wait_grows(
    app: Flask, client: FlaskClient, smtp: SmtpSink
) -> None:
    person("each", "each@example.org")
    person("digest", "digest@example.org", MailPreference.DIGEST, hours=24)
    person("quiet", "quiet@example.org", MailPreference.NONE)
    publication = make_publication()
    old = make_comment(publication, state=CommentState.PENDING, body="Old one")
    created = old.created_at if old.created_at.tzinfo else old.created_at.replace(tzinfo=UTC)
    deliver(created + timedelta(hours=11))
    stale = [m for m in smtp.messages if "waited" in m["Subject"]]
    assert stale == []
    deliver(created + timedelta(hours=12, minutes=1))
    stale = [m for m in smtp.messages if "waited" in m["Subject"]]
    assert sorted(m["To"] for m in stale) == ["digest@example.org", "each@example.org"]
    assert stale[0]["Subject"] == "The moderation queue has waited more than 12 hours"
    assert "Old one" in text_of(stale[0])
    deliver(created + timedelta(hours=13))
    deliver(created + timedelta(hours=20))
    assert len([m for m in smtp.messages if "waited" in m["Subject"]]) == 2
    deliver(created + timedelta(hours=24, minutes=30))  # still waiting 12 hours later
    assert len([m for m in smtp.messages if "waited" in m["Subject"]]) == 4


def test_each_job_runs_once_per_period_whoever_asks(app: Flask) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert set(jobs.run_due(now)) == {"digests", "stale-queue", "erase-personal-data"}
    assert jobs.run_due(now) == {}  # a second worker at the same moment
    assert set(jobs.run_due(now + timedelta(minutes=5))) == {"digests"}
    assert set(jobs.run_due(now + timedelta(minutes=15))) == {"digests", "stale-queue"}
    runs = {run.name: run.last_run_at for run in db.session.scalars(select(JobRun))}
    assert len(runs) == 3


def test_the_worker_erases_personal_data_daily(app: Flask) -> None:
    publication = make_publication()
    comment = make_comment(publication)
    comment.ip_address, comment.user_agent = "203.0.113.9", "Browser"
    db.session.commit()
    created = comment.created_at.replace(tzinfo=UTC)
    worker.run_once(lambda: created + timedelta(days=29))
    assert db.session.get(Comment, comment.id).ip_address == "203.0.113.9"
    worker.run_once(lambda: created + timedelta(days=31))
    db.session.expire_all()
    erased = db.session.get(Comment, comment.id)
    assert erased.ip_address is None and erased.user_agent is None


def test_mail_settings_are_one_s_own_or_an_admin_s_to_change(
    app: Flask, client: FlaskClient, moderator, other_moderator
) -> None:
    login(client, "mod")
    own = f"/moderation/accounts/{moderator.id}/mail"
    assert client.get(f"/moderation/accounts/{other_moderator.id}/mail").status_code == 403
    token = csrf_token(client, own)
    bad = client.post(
        own,
        data={
            "csrf_token": token,
            "email": "nope",
            "mail_preference": "digest",
            "digest_hours": "6",
        },
    )
    assert bad.status_code == 400 and 'value="nope"' in bad.get_data(as_text=True)
    done = client.post(
        own,
        data={
            "csrf_token": token,
            "email": "mod@example.org",
            "mail_preference": "digest",
            "digest_hours": "6",
        },
    )
    assert done.status_code == 303
    db.session.expire_all()
    saved = db.session.get(Moderator, moderator.id)
    assert (saved.email, saved.mail_preference, saved.digest_hours) == (
        "mod@example.org",
        MailPreference.DIGEST,
        6,
    )


def test_admins_create_accounts_with_an_email(app: Flask, client: FlaskClient, admin) -> None:
    login(client, "chief")
    token = csrf_token(client, "/moderation/accounts")
    response = client.post(
        "/moderation/accounts",
        data={
            "csrf_token": token,
            "username": "night",
            "password": PASSWORD,
            "role": "moderator",
            "email": "night@example.org",
        },
    )
    assert response.status_code == 303
    assert staff.find("night").email == "night@example.org"
    page = client.get("/moderation/accounts").get_data(as_text=True)
    assert "night@example.org: A mail for every held comment" in page
