"""Moderators' forms: a decision button, the rules, a publication's switches."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..comments import rules
from ..web.fields import choices
from .actions import NOTE_LENGTH, REJECT_REASONS

LIST_SETTINGS = ("trusted_domains", "suspect_words", "banned_words")  # one entry per line
LIST_TEXT_LENGTH = 20000


class ActionForm(FlaskForm):
    """A moderation button: CSRF, plus an optional reason and note when rejecting."""

    reason = SelectField(
        "Reason",
        choices=choices([("", "No reason given"), *REJECT_REASONS.items()]),
        default="",
    )
    note = TextAreaField("Note for the record", validators=[Optional(), Length(max=NOTE_LENGTH)])
    next = HiddenField()

    def problem(self) -> str:
        """Every field error in one sentence, for a notice."""
        return " ".join(e for errors in self.errors.values() for e in errors)


class RulesForm(FlaskForm):
    """An admin's moderation rules."""

    premoderation = BooleanField("Hold every comment for moderation (pre-moderation)")
    auto_approve_known_authors = BooleanField(
        "Publish at once when the email already has an approved comment"
    )
    known_authors_confirmed_only = BooleanField(
        "...only when the author confirmed that address by mail (anyone can type an email)"
    )
    max_links = IntegerField(
        "Hold comments with more than this many links",
        validators=[InputRequired("Enter a number."), NumberRange(0, 100)],
    )
    trusted_domains = TextAreaField(
        "Trusted domains (one per line; links to them are not counted)",
        validators=[Length(max=LIST_TEXT_LENGTH)],
    )
    suspect_words = TextAreaField(
        "Suspect words (hold for review; one per line)",
        validators=[Length(max=LIST_TEXT_LENGTH)],
    )
    banned_words = TextAreaField(
        "Banned words (reject at once; one per line)", validators=[Length(max=LIST_TEXT_LENGTH)]
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
    spam_hold_at = IntegerField(
        "Hold comments whose spam score is at least this percent (empty: never)",
        validators=[Optional(), NumberRange(1, 100)],
    )
    spam_send_at = IntegerField(
        "Send comments to spam from this spam score, in percent (empty: never)",
        validators=[Optional(), NumberRange(1, 100)],
    )

    @classmethod
    def showing(cls, values: dict[str, Any]) -> RulesForm:
        """The form filled with the current settings (lists one entry per line)."""
        return cls(data={**values, **{k: "\n".join(values[k]) for k in LIST_SETTINGS}})

    def values(self) -> dict[str, Any]:
        """The settings as typed, lists parsed."""
        values = {name: self[name].data for name in self.settings_fields()}
        values.update({k: list(rules.parse_list(self[k].data or "")) for k in LIST_SETTINGS})
        return values

    def settings_fields(self) -> list[str]:
        return [f.name for f in self if f.name != "csrf_token"]


class PublicationRulesForm(FlaskForm):
    """One publication's switches."""

    PREMODERATION: ClassVar[dict[str, bool | None]] = {"": None, "on": True, "off": False}

    comments_open = BooleanField("Comments open")
    premoderation = SelectField(
        "Pre-moderation",
        choices=choices(
            [("", "Site setting"), ("on", "Hold every comment"), ("off", "Rules only")]
        ),
    )

    @classmethod
    def showing(cls, comments_open: bool, premoderation: bool | None) -> PublicationRulesForm:
        """The form for one publication's current switches."""
        value = next(k for k, v in cls.PREMODERATION.items() if v is premoderation)
        return cls(formdata=None, comments_open=comments_open, premoderation=value)

    @property
    def premoderation_value(self) -> bool | None:
        """None: the site-wide rule applies."""
        return self.PREMODERATION.get(self.premoderation.data or "")


class SanctionForm(FlaskForm):
    """Block or always hold the author of a comment, by email or address, for a while."""

    kind = SelectField(
        "By", choices=choices([("email", "Their email"), ("address", "Their address")])
    )
    duration = SelectField(
        "For",
        choices=choices([("day", "A day"), ("week", "A week"), ("good", "Good")]),
        default="day",
    )
    action = SelectField(
        "What",
        choices=choices(
            [("block", "Block (refuse their comments)"), ("premoderate", "Always hold")]
        ),
    )
    next = HiddenField()


class NoteForm(FlaskForm):
    """A moderator's note on an author."""

    text = TextAreaField(
        "Note on this author",
        validators=[InputRequired("Write the note first."), Length(max=NOTE_LENGTH)],
    )
    next = HiddenField()


class TopicRuleForm(FlaskForm):
    """A topic's stricter rules."""

    hold_all = BooleanField("Hold every comment on this topic's publications")
    suspect_words = TextAreaField(
        "Suspect words of this topic (hold for review; one per line)",
        validators=[Length(max=LIST_TEXT_LENGTH)],
    )

    @property
    def words(self) -> list[str]:
        return list(rules.parse_list(self.suspect_words.data or ""))
