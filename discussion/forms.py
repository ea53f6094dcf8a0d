"""Forms: CSRF, required fields, lengths and field errors (Flask-WTF)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from . import comments, pagetoken
from .moderation import REJECT_REASONS, REPORT_REASONS
from .pages import parse_id

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
    """A reader's comment or reply. ``publication_id`` scopes the reply check.

    Its CSRF token is the shared page token (:mod:`discussion.pagetoken`), so the
    article page is the same for every first-time reader.
    """

    class Meta:
        csrf_class = pagetoken.PageCSRF

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
        self.root_id: int | None = None  # the thread a valid reply joins

    def validate_parent_id(self, field: HiddenField) -> None:
        """A reply must answer an approved comment of the same publication."""
        self.root_id = None
        if not field.data:
            return
        parent = parse_id(field.data)
        self.root_id = comments.reply_root(parent, self.publication_id) if parent else None
        if self.root_id is None:
            raise ValidationError(
                "The comment you are replying to is no longer available. Send again to post "
                "yours as a new comment."
            )

    @property
    def parent(self) -> int | None:
        """The validated parent comment id, if this is a reply."""
        return parse_id(self.parent_id.data)


def _choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    """A moderator signing in."""

    username = StringField(
        "Username",
        validators=[
            DataRequired("Please enter your username."),
            Length(max=80),
            _no_control_characters,
        ],
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Please enter your password."), Length(max=200)]
    )
    next = HiddenField()


class ActionForm(FlaskForm):
    """A moderation button: CSRF, plus an optional reason and note when rejecting."""

    reason = SelectField(
        "Reason",
        choices=_choices([("", "No reason given"), *REJECT_REASONS.items()]),
        default="",
    )
    note = TextAreaField("Note for the record", validators=[Optional(), Length(max=2000)])
    next = HiddenField()


class ReportForm(FlaskForm):
    """A reader reporting a comment."""

    reason = RadioField(
        "Why are you reporting this comment?",
        choices=_choices(REPORT_REASONS.items()),
        validators=[DataRequired("Please choose a reason.")],
    )


class RulesForm(FlaskForm):
    """An admin's moderation rules."""

    premoderation = BooleanField("Hold every comment for moderation (pre-moderation)")
    auto_approve_known_authors = BooleanField(
        "Publish at once when the email already has an approved comment"
    )
    max_links = IntegerField(
        "Hold comments with more than this many links",
        validators=[InputRequired("Enter a number."), NumberRange(0, 100)],
    )
    trusted_domains = TextAreaField(
        "Trusted domains (one per line; links to them are not counted)",
        validators=[Length(max=20000)],
    )
    suspect_words = TextAreaField(
        "Suspect words (hold for review; one per line)", validators=[Length(max=20000)]
    )
    banned_words = TextAreaField(
        "Banned words (reject at once; one per line)", validators=[Length(max=20000)]
    )
    close_after_days = IntegerField(
        "Close comments this many days after publication (empty: never)",
        validators=[Optional(), NumberRange(1, 36500)],
    )
    moderate_after_days = IntegerField(
        "Hold comments on publications older than this many days (empty: never)",
        validators=[Optional(), NumberRange(1, 36500)],
    )
    reports_to_hide = IntegerField(
        "Hide a comment after this many reader reports",
        validators=[InputRequired("Enter a number."), NumberRange(1, 1000)],
    )


class PublicationRulesForm(FlaskForm):
    """One publication's switches."""

    comments_open = BooleanField("Comments open")
    premoderation = SelectField(
        "Pre-moderation",
        choices=_choices(
            [("", "Site setting"), ("on", "Hold every comment"), ("off", "Rules only")]
        ),
    )


class AccountForm(FlaskForm):
    """An admin creating a moderator account."""

    username = StringField(
        "Username", validators=[DataRequired("Please enter a username."), Length(max=80)]
    )
    password = PasswordField(
        "Password (at least 10 characters)",
        validators=[DataRequired("Please enter a password."), Length(min=10, max=200)],
    )
    role = SelectField("Role", choices=_choices([("moderator", "Moderator"), ("admin", "Admin")]))
