"""Readers' forms: a comment or reply, and a report."""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..models import Comment
from ..moderation.reports import REPORT_REASONS
from ..web import formtoken
from ..web.fields import choices, no_control_characters, normalize_newlines, strip
from ..web.params import parse_id
from . import posting

NAME_LENGTH = Comment.__table__.c.name.type.length
EMAIL_LENGTH = Comment.__table__.c.email.type.length


class CommentText(FlaskForm):
    """A comment's text, as typed: for a new comment and for its poster's edit."""

    body = TextAreaField(
        "Comment",
        filters=[normalize_newlines],
        validators=[DataRequired("Please write a comment."), no_control_characters],
    )

    def validate_body(self, field: TextAreaField) -> None:
        """At most ``COMMENT_MAX_LENGTH`` characters (a line break counts as one)."""
        limit = current_app.config["COMMENT_MAX_LENGTH"]
        if field.data and len(field.data) > limit:
            raise ValidationError(f"Please keep your comment to {limit} characters.")

    @property
    def previewing(self) -> bool:
        """The reader pressed Preview (the button named ``preview``), not Submit."""
        return "preview" in request.form


class CommentForm(CommentText):
    """A reader's comment or reply. ``publication_id`` scopes the reply check.

    Its CSRF token is the shared page token (:mod:`discussion.web.formtoken`), so the
    article page is the same for every first-time reader.
    """

    class Meta:
        csrf_class = formtoken.PageCSRF

    name = StringField(
        "Name",
        validators=[
            DataRequired("Please enter your name."),
            Length(max=NAME_LENGTH, message="Please keep your name to %(max)d characters."),
            no_control_characters,
        ],
    )
    email = EmailField(
        "Email (optional, never shown)",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=EMAIL_LENGTH, message="An email address is at most %(max)d characters."),
            Email("Please enter a valid email address, or leave it empty."),
        ],
    )
    parent_id = HiddenField()
    website = StringField("Leave this field empty")
    # Mail (discussion/mail): shown once an email is typed; value "y".
    notify_outcome = BooleanField("Email me when my comment is published")
    notify_replies = BooleanField("Email me when someone replies")

    def __init__(self, *args: Any, publication_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.publication_id = publication_id
        self.root_id: int | None = None  # the thread a valid reply joins

    def validate(self, extra_validators: Any = None) -> bool:
        """Every field's rules, then: a box ticked for mail needs an address."""
        valid = super().validate(extra_validators)
        if not self.email.data and (self.notify_outcome.data or self.notify_replies.data):
            self.email.errors.append("Please enter your email address to be told by email.")
            return False
        return valid

    def validate_parent_id(self, field: HiddenField) -> None:
        """A reply must answer an approved comment of the same publication."""
        self.root_id = None
        if not field.data:
            return
        parent = parse_id(field.data)
        self.root_id = posting.reply_root(parent, self.publication_id) if parent else None
        if self.root_id is None:
            raise ValidationError(
                "The comment you are replying to is no longer available. Send again to post "
                "yours as a new comment."
            )

    @property
    def parent(self) -> int | None:
        """The validated parent comment id, if this is a reply."""
        return parse_id(self.parent_id.data)


class ReportForm(FlaskForm):
    """A reader reporting a comment."""

    reason = RadioField(
        "Why are you reporting this comment?",
        choices=choices(REPORT_REASONS.items()),
        validators=[DataRequired("Please choose a reason.")],
    )


class EditForm(CommentText):
    """A poster's edit of their comment; ``token`` is the private status link's, when the
    edit comes through it rather than from the browser that posted."""

    token = HiddenField()


class OwnForm(FlaskForm):
    """Deleting one's own comment: CSRF, and the status link's token when it is used."""

    token = HiddenField()


class RecommendForm(FlaskForm):
    """A reader's recommendation, from the shared article page: its token is the page's
    (:mod:`discussion.web.formtoken`); ``page`` and ``sort`` say where to return."""

    class Meta:
        csrf_class = formtoken.PageCSRF

    page = HiddenField()
    sort = HiddenField()
