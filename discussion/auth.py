"""Signing moderators in and out; failed sign-ins are slowed, then refused."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

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
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from . import accounts
from .extensions import limiter
from .forms import LoginForm

bp = Blueprint("auth", __name__, url_prefix="/auth")

LOCKED = (
    "Too many failed sign-in attempts for this account or from this address. "
    "Please wait a few minutes before trying again."
)


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to after signing in, never another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def _failed(_response: Response) -> bool:
    return bool(g.get("login_failed"))


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:80]


@bp.route("/login", methods=["GET", "POST"])
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
        return redirect(safe_next(form.next.data, url_for("moderating.queue")))
    if form.validate_on_submit():
        moderator = accounts.authenticate(form.username.data or "", form.password.data or "")
        if moderator is not None:
            login_user(moderator)
            current_app.logger.info("sign-in: %s from %s", moderator.username, request.remote_addr)
            return redirect(safe_next(form.next.data, url_for("moderating.queue")), code=303)
        g.login_failed = True
        current_app.logger.warning(
            "failed sign-in for %r from %s", (form.username.data or "")[:80], request.remote_addr
        )
        form.password.errors.append("That username and password do not match an account.")
    status = 401 if g.get("login_failed") else 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.errorhandler(TooManyRequests)
def locked(_error: TooManyRequests) -> tuple[str, int]:
    current_app.logger.warning("sign-in refused (rate limit) from %s", request.remote_addr)
    form = LoginForm()
    return render_template("auth/login.html", form=form, locked=LOCKED), 429


@bp.post("/logout")
@login_required
def logout() -> Response:
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("reading.front"), code=303)


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only admins; a moderator gets 403, the anonymous the sign-in page."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped
