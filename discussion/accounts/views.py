"""Staff sign-in and sign-out (failed sign-ins are slowed, then refused), and the admin's
accounts screen."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from ..api import tokens
from ..extensions import db, limiter
from ..models import ApiToken, MailPreference, Moderator, Role, TokenScope
from ..moderation.forms import ActionForm
from ..web.params import safe_next
from . import staff
from .access import admin_required
from .forms import AccountForm, LoginForm, MailSettingsForm, TokenForm

bp = Blueprint("accounts", __name__)

LOCKED = (
    "Too many failed sign-in attempts for this account or from this address. "
    "Please wait a few minutes before trying again."
)


def _failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:80]


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ADDRESS"],
    methods=["POST"],
    deduct_when=_failed,
    key_func=get_remote_address,
)
@limiter.limit(
    lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
    methods=["POST"],
    deduct_when=_failed,
    key_func=_account_key,
)
def login() -> Any:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data, _home(current_user)))
    if form.validate_on_submit():
        moderator = staff.authenticate(form.username.data or "", form.password.data or "")
        if moderator is not None:
            login_user(moderator)
            current_app.logger.info("sign-in: %s from %s", moderator.username, request.remote_addr)
            return redirect(safe_next(form.next.data, _home(moderator)), code=303)
        g.login_failed = True
        current_app.logger.warning(
            "failed sign-in for %r from %s", (form.username.data or "")[:80], request.remote_addr
        )
        form.password.errors.append("That username and password do not match an account.")
    status = 401 if g.get("login_failed") else 400 if request.method == "POST" else 200
    return render_template("accounts/login.html", form=form), status


def _home(person: Moderator) -> str:
    """Where a member of staff starts: the queue, or the desk for an editor."""
    return url_for("moderation.queue") if person.can_moderate else url_for("desk.index")


@bp.errorhandler(TooManyRequests)
def locked(_error: TooManyRequests) -> tuple[str, int]:
    current_app.logger.warning("sign-in refused (rate limit) from %s", request.remote_addr)
    form = LoginForm()
    return render_template("accounts/login.html", form=form, locked=LOCKED), 429


@bp.post("/auth/logout")
@login_required
def logout() -> Response:
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("publications.front"), code=303)


@bp.route("/moderation/accounts", methods=["GET", "POST"])
@admin_required
def accounts_page() -> Any:
    form = AccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            staff.create_moderator(
                form.username.data or "",
                form.password.data or "",
                Role(form.role.data),
                email=form.email.data,
            )
        except staff.AccountError as error:
            form.username.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            flash(f"Account {form.username.data} created.", "success")
            return redirect(url_for("accounts.accounts_page"), code=303)
    elif form.errors:
        status = 400
    people = db.session.scalars(select(Moderator).order_by(Moderator.username)).all()
    return render_template(
        "accounts/accounts.html", form=form, people=people, action_form=ActionForm()
    ), status


@bp.post("/moderation/accounts/<id:moderator_id>/<any(activate, deactivate):change>")
@admin_required
def account_switch(moderator_id: int, change: str) -> Response:
    form = ActionForm()
    person = db.get_or_404(Moderator, moderator_id)
    if not form.validate_on_submit():
        flash("Not changed: " + form.problem(), "error")
        return redirect(url_for("accounts.accounts_page"), code=303)
    try:
        staff.set_active(person, change == "activate", current_user)
    except staff.AccountError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"{person.username} is {'active' if person.active else 'deactivated'}.", "success")
    return redirect(url_for("accounts.accounts_page"), code=303)


@bp.route("/moderation/accounts/<id:moderator_id>/mail", methods=["GET", "POST"])
@login_required
def mail_settings(moderator_id: int) -> Any:
    """A person's alert address and preference: admins for anyone, a moderator their own."""
    person = _person_for_self_or_admin(moderator_id)
    if request.method == "GET":
        form = MailSettingsForm(
            formdata=None,
            email=person.email or "",
            mail_preference=person.mail_preference.value,
            digest_hours=person.digest_hours,
        )
    else:
        form = MailSettingsForm()
    status = 200
    if form.validate_on_submit():
        try:
            staff.set_mail(
                person,
                current_user,
                email=form.email.data,
                preference=MailPreference(form.mail_preference.data),
                digest_hours=form.digest_hours.data or 0,
            )
        except staff.AccountError as error:
            form.email.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            flash(f"Mail settings of {person.username} saved.", "success")
            return redirect(url_for("accounts.mail_settings", moderator_id=person.id), code=303)
    elif request.method == "POST":
        status = 400
    return render_template("accounts/mail.html", form=form, person=person), status


def _person_for_self_or_admin(moderator_id: int) -> Moderator:
    person = db.get_or_404(Moderator, moderator_id)
    if not (current_user.is_admin or current_user.id == person.id):
        abort(403)
    return person


@bp.route("/moderation/accounts/<id:moderator_id>/tokens", methods=["GET", "POST"])
@login_required
def api_tokens(moderator_id: int) -> Any:
    """A person's API tokens for newsroom tools: admins for anyone, staff their own. A new
    token is shown once, on the answer to the form; only its hash is kept."""
    person = _person_for_self_or_admin(moderator_id)
    form = TokenForm()
    made, status = None, 200
    if form.validate_on_submit():
        try:
            made = tokens.create(
                person, current_user, name=form.name.data or "", scope=TokenScope(form.scope.data)
            )
        except tokens.TokenError as error:
            form.name.errors.append(str(error))
            status = 400
        else:
            db.session.commit()
            form = TokenForm(formdata=None)
    elif request.method == "POST":
        status = 400
    response = current_app.make_response(
        (
            render_template(
                "accounts/tokens.html",
                person=person,
                form=form,
                made=made,
                listed=tokens.listed(person),
                action_form=ActionForm(),
            ),
            status,
        )
    )
    response.headers["Cache-Control"] = "no-store"  # a new token's secret is on this page
    return response


@bp.post("/moderation/accounts/<id:moderator_id>/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(moderator_id: int, token_id: int) -> Response:
    person = _person_for_self_or_admin(moderator_id)
    token = db.get_or_404(ApiToken, token_id)
    if token.moderator_id != person.id:
        abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("Not revoked: " + form.problem(), "error")
    elif tokens.revoke(token, current_user):
        db.session.commit()
        flash(f"Token {token.name} revoked: it no longer works.", "success")
    else:
        flash(f"Token {token.name} was already revoked.", "info")
    return redirect(url_for("accounts.api_tokens", moderator_id=person.id), code=303)
