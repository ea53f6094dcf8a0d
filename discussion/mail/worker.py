"""The worker: delivers due mails and runs the periodic jobs, once or until stopped.

Production runs two things: gunicorn and ``flask --app discussion worker`` (see
``deploy/``). Several workers may run at once, on one host or several.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from ..extensions import db
from ..models import utcnow
from . import delivery, jobs

log = logging.getLogger(__name__)


def run_once(now: Callable[[], datetime] = utcnow) -> int:
    """Run the jobs that are due, then deliver until nothing is due, or until the mail
    server cannot be reached (the rest waits for the next round: a backlog is not churned
    through while the server is down); mails handled."""
    jobs.run_due(now())
    handled = 0
    while True:
        report = delivery.deliver_due(now())
        handled += report.claimed
        if report.unreachable or report.claimed < current_app.config["MAIL_BATCH_SIZE"]:
            return handled


def run_forever(stop: threading.Event, now: Callable[[], datetime] = utcnow) -> None:
    """:func:`run_once` every ``MAIL_WORKER_POLL_SECONDS`` until ``stop`` is set; a
    failing round (the database restarting, say) is logged and the next one tries again."""
    poll = current_app.config["MAIL_WORKER_POLL_SECONDS"]
    while not stop.is_set():
        try:
            run_once(now)
        except Exception:
            db.session.rollback()
            log.exception("worker round failed; trying again in %s s", poll)
        finally:
            db.session.remove()
        stop.wait(poll)
