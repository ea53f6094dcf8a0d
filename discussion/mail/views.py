"""Readers' mail pages (confirming an address, stopping mails, RFC 8058 one-click
unsubscribe) and the admins' view of mails that could not be delivered."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..accounts.access import admin_required
from ..extensions import csrf, db
from ..models import MailAddress, utcnow
from ..moderation.forms import ActionForm
from . import notices, outbox, subscriptions
from .forms import ConfirmForm, StopForm

bp = Blueprint("mail", __name__)

ONE_CLICK = "One-Click"  # RFC 8058: the body a mail client POSTs is List-Unsubscribe=One-Click


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _confirming(token: str) -> int:
    address_id = subscriptions.read_confirm_token(token, _secret())
    if address_id is None or db.session.get(MailAddress, address_id) is None:
        abort(404)
    return address_id


@bp.route("/mail/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Any:
    """GET shows a button; only its POST confirms (scanners that follow links change
    nothing)."""
    address_id = _confirming(token)
    form = ConfirmForm()
    if form.validate_on_submit():
        now = utcnow()
        due = subscriptions.confirm(address_id, now)
        notices.outcome_notices(due, None, now)
        db.session.commit()
        return render_template("mail/confirmed.html")
    status = 400 if request.method == "POST" else 200
    if status == 400:
        flash("Not confirmed: the page had expired. Please press the button again.", "error")
    return render_template("mail/confirm_page.html", form=form, token=token), status


def _stopping(token: str) -> tuple[int, int | None]:
    found = subscriptions.read_stop_token(token, _secret())
    if found is None or db.session.get(MailAddress, found[0]) is None:
        abort(404)
    return found


@bp.route("/mail/stop/<token>", methods=["GET", "POST"])
@csrf.exempt  # the one-click POST comes from a mail client; the page's form checks its token
def stop(token: str) -> Any:
    """The link in every notice: a page to stop one thread or everything, and the
    target of ``List-Unsubscribe`` (a one-click POST stops every mail to the address)."""
    address_id, root_id = _stopping(token)
    now = utcnow()
    if request.method == "POST" and request.form.get("List-Unsubscribe") == ONE_CLICK:
        subscriptions.stop_all(address_id, now)
        db.session.commit()
        return Response("Unsubscribed.\n", mimetype="text/plain")
    form = StopForm()
    if form.validate_on_submit():
        if form.scope.data == "thread" and root_id is not None:
            subscriptions.stop_thread(address_id, root_id, now)
            message = "You will get no more mails about this discussion."
        else:
            subscriptions.stop_all(address_id, now)
            message = f"You will get no more mails from {current_app.config['SITE_NAME']}."
        db.session.commit()
        return render_template("mail/stopped.html", message=message)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "mail/stop_page.html", token=token, thread=root_id is not None, form=form
    ), status


@bp.get("/moderation/mail")
@admin_required
def outbox_page() -> str:
    """How many mails stand in each state, and those that could not be delivered."""
    return render_template(
        "mail/outbox.html",
        counts=outbox.counts(),
        failed=outbox.failed(),
        form=ActionForm(),
    )


@bp.post("/moderation/mail/<id:mail_id>/retry")
@admin_required
def retry(mail_id: int) -> Response:
    form = ActionForm()
    if not form.validate_on_submit():
        flash("Not changed: " + form.problem(), "error")
    elif outbox.retry(mail_id, utcnow()):
        db.session.commit()
        flash("The mail is queued again.", "success")
    else:
        flash("That mail is no longer failed.", "info")
    return redirect(url_for("mail.outbox_page"), code=303)
