"""The "a person's data" forms: finding, exporting and erasing by email address."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from ..web.fields import choices, no_control_characters, strip
from .persons import EMAIL_LENGTH, MODE_TITLES, Mode


def _email_validators() -> list:
    return [
        DataRequired("Enter the email address to look for."),
        Length(max=EMAIL_LENGTH),
        Email("Enter a whole email address, such as reader@example.org."),
        no_control_characters,
    ]


class FindForm(FlaskForm):
    """Every comment written with an address."""

    email = EmailField("Email address", filters=[strip], validators=_email_validators())


class ExportForm(FlaskForm):
    """The person's data as a JSON file."""

    email = HiddenField(filters=[strip], validators=_email_validators())


class EraseForm(FlaskForm):
    """Erasing the person's comments, the admin's choice of how."""

    email = HiddenField(filters=[strip], validators=_email_validators())
    mode = RadioField(
        "What happens to the text",
        choices=choices((m.value, MODE_TITLES[m]) for m in Mode),
        default=Mode.REDACT.value,
        validators=[InputRequired("Choose what happens to the text.")],
    )
    note = TextAreaField(
        "Note for the record (e.g. the request's reference)",
        validators=[Optional(), Length(max=500), no_control_characters],
    )
    confirm = BooleanField(
        "I checked the request: erase these comments (this cannot be undone)",
        validators=[DataRequired("Tick the box to confirm the erasure.")],
    )

    def problem(self) -> str:
        return " ".join(e for errors in self.errors.values() for e in errors)
