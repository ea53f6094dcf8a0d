"""Staff forms: signing in, creating an account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from ..models import MailPreference, Role, TokenScope
from ..web.fields import choices, no_control_characters, strip
from .staff import (
    DIGEST_HOURS,
    EMAIL_LENGTH,
    MIN_PASSWORD_LENGTH,
    PASSWORD_LENGTH,
    USERNAME_LENGTH,
)


def _email_field(label: str) -> EmailField:
    return EmailField(
        label,
        filters=[strip],
        validators=[
            Optional(),
            Length(max=EMAIL_LENGTH, message="An email address is at most %(max)d characters."),
            Email("Please enter a valid email address, or leave it empty."),
        ],
    )


class LoginForm(FlaskForm):
    """A member of staff signing in."""

    username = StringField(
        "Username",
        validators=[
            DataRequired("Please enter your username."),
            Length(max=USERNAME_LENGTH),
            no_control_characters,
        ],
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Please enter your password."), Length(max=PASSWORD_LENGTH)],
    )
    next = HiddenField()


class AccountForm(FlaskForm):
    """An admin creating a staff account."""

    username = StringField(
        "Username",
        validators=[
            DataRequired("Please enter a username."),
            Length(max=USERNAME_LENGTH),
            no_control_characters,
        ],
    )
    password = PasswordField(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[
            DataRequired("Please enter a password."),
            Length(min=MIN_PASSWORD_LENGTH, max=PASSWORD_LENGTH),
        ],
    )
    role = SelectField("Role", choices=choices((r.value, r.title) for r in Role))
    email = _email_field("Email for moderation alerts (optional)")


class MailSettingsForm(FlaskForm):
    """Where a member of staff's alerts go, and which they get."""

    email = _email_field("Email for moderation alerts (empty: no mail)")
    mail_preference = RadioField(
        "Which mails",
        choices=choices((p.value, p.title) for p in MailPreference),
        validators=[DataRequired("Please choose which mails you want.")],
    )
    digest_hours = IntegerField(
        "Hours between digests",
        validators=[InputRequired("Enter a number of hours."), NumberRange(*DIGEST_HOURS)],
    )


class TokenForm(FlaskForm):
    """A new API token: what it is for and what it may do."""

    name = StringField(
        "What will use it",
        filters=[strip],
        validators=[
            DataRequired("Please name the token after what will use it."),
            Length(max=80, message="Please keep the name to %(max)d characters."),
            no_control_characters,
        ],
    )
    scope = RadioField(
        "It may",
        choices=choices((s.value, s.title) for s in TokenScope),
        default=TokenScope.READ.value,
        validators=[DataRequired("Please choose what the token may do.")],
    )
