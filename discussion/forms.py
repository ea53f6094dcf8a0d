"""Forms: CSRF, required fields, lengths and field errors (Flask-WTF)."""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from . import comments

# C0 controls but tab, newline and carriage return; DEL; C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_control_characters(_form: Any, field: Any) -> None:
    if field.data and _CONTROL.search(field.data):
        raise ValidationError("Remove the invisible control characters from this field.")


def _normalize_newlines(value: str | None) -> str | None:
    """Browsers send textarea line breaks as CRLF; count and keep them as one character."""
    return value.replace("\r\n", "\n") if value is not None else None


def _strip(value: str | None) -> str | None:
    return value.strip() if value is not None else None


class CommentForm(FlaskForm):
    """A reader's comment or reply. ``publication_id`` scopes the reply check."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Please enter your name."),
            Length(max=80, message="Please keep your name to %(max)d characters."),
            _no_control_characters,
        ],
    )
    email = EmailField(
        "Email (optional, never shown)",
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254, message="An email address is at most %(max)d characters."),
            Email("Please enter a valid email address, or leave it empty."),
        ],
    )
    body = TextAreaField(
        "Comment",
        filters=[_normalize_newlines],
        validators=[
            DataRequired("Please write a comment."),
            Length(max=5000, message="Please keep your comment to %(max)d characters."),
            _no_control_characters,
        ],
    )
    parent_id = HiddenField()
    website = StringField("Leave this field empty")

    def __init__(self, *args: Any, publication_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publication_id = publication_id

    def validate_parent_id(self, field: HiddenField) -> None:
        """A reply must answer an approved comment of the same publication."""
        if not field.data:
            return
        if not field.data.isdigit() or not comments.replyable(int(field.data), self.publication_id):
            raise ValidationError("The comment you are replying to is not available.")

    @property
    def parent(self) -> int | None:
        """The validated parent comment id, if this is a reply."""
        return int(self.parent_id.data) if self.parent_id.data else None
