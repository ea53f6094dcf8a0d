"""The mail pages' forms: buttons that change something, so each carries a CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import AnyOf

STOP_SCOPES = ("thread", "all")


class ConfirmForm(FlaskForm):
    """A reader confirming their address: a POST, since mail scanners follow GET links."""


class StopForm(FlaskForm):
    """A reader stopping mails about one thread, or every mail."""

    scope = HiddenField(validators=[AnyOf(STOP_SCOPES, message="Choose what to stop.")])
