"""Periodic jobs the worker runs: moderators' digests, the stale-queue alert and the
erasure of personal data. Each run is claimed by moving its ``job_runs`` row forward
in one guarded UPDATE, in the same transaction as the job's work, so several workers
run each job once per period, and a failed run is tried again by the next worker."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..comments import privacy
from ..extensions import db
from ..models import (
    Comment,
    CommentState,
    JobRun,
    MailPreference,
    MailStatus,
    Moderator,
    OutboxMail,
)
from . import outbox
from .messages import DIGEST_LISTED
from .outbox import Kind, aware

log = logging.getLogger(__name__)


def digests(now: datetime, state: dict) -> str:
    """A digest to each moderator who chose one and whose period has passed, listing the
    pending comments (oldest first) with why they are held; none when nothing waits."""
    pending = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.state == CommentState.PENDING)
    )
    if not pending:
        return "nothing pending"
    ids = list(
        db.session.scalars(
            select(Comment.id)
            .where(Comment.state == CommentState.PENDING)
            .order_by(Comment.id)
            .limit(DIGEST_LISTED)
        )
    )
    sent = 0
    for moderator in db.session.scalars(
        select(Moderator).where(
            Moderator.active,
            Moderator.email.is_not(None),
            Moderator.mail_preference == MailPreference.DIGEST,
        )
    ):
        last = moderator.digest_sent_at
        if last is not None and aware(last) > now - timedelta(hours=moderator.digest_hours):
            continue
        outbox.enqueue(
            Kind.DIGEST,
            moderator.email or "",
            {"moderator_id": moderator.id, "comment_ids": ids, "total": pending},
            now=now,
        )
        moderator.digest_sent_at = now
        sent += 1
    return f"{sent} digests"


def stale_queue(now: datetime, state: dict) -> str:
    """Alert every moderator who gets mail when the oldest pending comment has waited
    longer than ``MAIL_STALE_QUEUE_HOURS``; again after as long, while it still waits."""
    hours = current_app.config["MAIL_STALE_QUEUE_HOURS"]
    oldest = db.session.execute(
        select(Comment.id, Comment.created_at)
        .where(Comment.state == CommentState.PENDING)
        .order_by(Comment.created_at, Comment.id)
        .limit(1)
    ).first()
    if oldest is None or aware(oldest.created_at) > now - timedelta(hours=hours):
        return "queue fresh"
    alerted = state.get("alerted_at")
    if (
        state.get("comment_id") == oldest.id
        and alerted
        and datetime.fromisoformat(alerted) > now - timedelta(hours=hours)
    ):
        return "already alerted"
    total = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.state == CommentState.PENDING)
    )
    alerted_count = 0
    for moderator_id, email in db.session.execute(
        select(Moderator.id, Moderator.email).where(
            Moderator.active,
            Moderator.email.is_not(None),
            Moderator.mail_preference != MailPreference.NONE,
        )
    ):
        outbox.enqueue(
            Kind.STALE,
            email,
            {"moderator_id": moderator_id, "comment_id": oldest.id, "hours": hours, "total": total},
            now=now,
        )
        alerted_count += 1
    state.update(comment_id=oldest.id, alerted_at=now.isoformat())
    return f"{alerted_count} alerts"


def erase_personal_data(now: datetime, state: dict) -> str:
    """Raw addresses and user agents older than ``PERSONAL_DATA_DAYS``, and the outbox
    rows (recipients' addresses) that were sent, dropped or failed before then."""
    days = current_app.config["PERSONAL_DATA_DAYS"]
    erased = privacy.erase_raw_data(days, now)
    removed = db.session.execute(
        delete(OutboxMail).where(
            OutboxMail.status != MailStatus.QUEUED,
            OutboxMail.created_at < now - timedelta(days=days),
        )
    ).rowcount
    return f"{erased} comments erased, {removed or 0} old mails removed"


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[datetime, dict], str]


JOBS = (
    Job("digests", timedelta(minutes=5), digests),
    Job("stale-queue", timedelta(minutes=15), stale_queue),
    Job("erase-personal-data", timedelta(days=1), erase_personal_data),
)


def _claim(job: Job, now: datetime) -> JobRun | None:
    """This worker's run of ``job`` when its period has passed, else None."""
    result = db.session.execute(
        update(JobRun)
        .where(
            JobRun.name == job.name,
            or_(JobRun.last_run_at.is_(None), JobRun.last_run_at <= now - job.every),
        )
        .values(last_run_at=now)
    )
    if result.rowcount == 1:
        return db.session.get(JobRun, job.name, populate_existing=True)
    if db.session.get(JobRun, job.name) is not None:
        return None
    try:
        with db.session.begin_nested():
            run = JobRun(name=job.name, last_run_at=now, state={})
            db.session.add(run)
    except IntegrityError:  # another worker made the row first: its run
        return None
    return run


def run_due(now: datetime) -> dict[str, str]:
    """Run every job whose period has passed; each commits on its own."""
    done: dict[str, str] = {}
    for job in JOBS:
        try:
            run = _claim(job, now)
            if run is None:
                db.session.commit()
                continue
            state = dict(run.state or {})
            done[job.name] = job.run(now, state)
            run.state = state
            db.session.commit()
        except Exception:
            db.session.rollback()
            # Its run is not recorded: the next round tries again. Delivery goes on.
            log.exception("periodic job %s failed; the next worker round tries again", job.name)
    return done
