"""Staff forms: signing in, creating an account."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..models import Role
from ..web.fields import choices, no_control_characters
from .staff import MIN_PASSWORD_LENGTH, PASSWORD_LENGTH, USERNAME_LENGTH


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
