"""The desk's forms: a publication, and the desk's list filters."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    Field,
    FileField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import Publication
from ..publications.catalog import is_slug
from ..web.fields import choices, no_control_characters, normalize_newlines, strip
from .editing import COMMENT_POLICIES, Draft

TITLE_LENGTH = Publication.__table__.c.title.type.length
SLUG_LENGTH = Publication.__table__.c.slug.type.length
PARTNER_LENGTH = Publication.__table__.c.partner.type.length
ALT_LENGTH = Publication.__table__.c.image_alt.type.length
BODY_LENGTH = 200_000  # characters of Markdown
TEXT_LENGTH = 5_000  # dek, summary, notes, captions


class NamesField(Field):
    """Names one per line, from any number of inputs of the same name (checkboxes of the
    existing ones and a box for new ones): blank lines dropped, order and case kept."""

    widget = TextAreaField.widget

    def process_formdata(self, valuelist: list[str]) -> None:
        names: list[str] = []
        for value in valuelist:
            for line in value.replace("\r\n", "\n").split("\n"):
                name = " ".join(line.split())
                if name and name.casefold() not in {n.casefold() for n in names}:
                    names.append(name)
        self.data = names

    def _value(self) -> str:
        return "\n".join(self.data or [])


def _names_fit(_form: Any, field: NamesField) -> None:
    for name in field.data or []:
        if len(name) > 120:
            raise ValidationError(f"“{name[:40]}…” is too long: 120 characters at most.")


class PublicationForm(FlaskForm):
    """Everything an editor sets on a publication. Nothing typed is lost on an error."""

    title = StringField(
        "Title",
        filters=[strip],
        validators=[
            DataRequired("Please give the publication a title."),
            Length(max=TITLE_LENGTH),
            no_control_characters,
        ],
    )
    slug = StringField(
        "Address (slug)",
        filters=[lambda v: v.strip().lower() if v else v],
        validators=[Optional(), Length(max=SLUG_LENGTH)],
    )
    dek = TextAreaField(
        "Dek (the lead under the title)",
        validators=[Length(max=TEXT_LENGTH), no_control_characters],
    )
    summary = TextAreaField(
        "Summary (on cards; the dek when empty)", validators=[Length(max=TEXT_LENGTH)]
    )
    body = TextAreaField(
        "Body (Markdown)",
        filters=[normalize_newlines],
        validators=[Length(max=BODY_LENGTH), no_control_characters],
    )
    authors = NamesField("Authors (one per line)", validators=[_names_fit])
    types = NamesField("Types", validators=[_names_fit])
    topics = NamesField("Topics", validators=[_names_fit])
    published_at = DateTimeLocalField(
        "Publication date and time",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
    )
    partner = StringField("Partner", filters=[strip], validators=[Length(max=PARTNER_LENGTH)])
    source_note = TextAreaField("Partner or source note", validators=[Length(max=TEXT_LENGTH)])
    figure = FileField("Figure: an image (JPEG, PNG or WebP, up to 10 MB)")
    figure_remove = BooleanField("Remove the figure")
    figure_alt = StringField(
        "Figure: alternative text", filters=[strip], validators=[Length(max=ALT_LENGTH)]
    )
    figure_caption = TextAreaField("Figure: caption", validators=[Length(max=TEXT_LENGTH)])
    comment_policy = SelectField(
        "Comments",
        choices=choices(COMMENT_POLICIES.items()),
        default="open",
    )
    correction = TextAreaField(
        "Correction note (shown on the article)", validators=[Length(max=TEXT_LENGTH)]
    )
    revision = HiddenField()  # the revision the editor started from

    def validate_slug(self, field: StringField) -> None:
        if field.data and not is_slug(field.data):
            raise ValidationError(
                "Use lowercase letters, digits and single hyphens (e.g. talks-resume-in-oman)."
            )

    def needs_alt(self, has_figure: bool) -> bool:
        """A figure needs its alternative text: say so beside the field."""
        if has_figure and not self.figure_remove.data and not self.figure_alt.data:
            self.figure_alt.errors = [
                *self.figure_alt.errors,
                "Describe the image for readers who cannot see it.",
            ]
            return True
        return False

    @classmethod
    def showing(cls, draft: Draft, revision: int) -> PublicationForm:
        """The form filled from a publication's current fields (times in UTC: the view
        shows them in the site's time zone)."""
        return cls(formdata=None, data={**asdict(draft), "revision": str(revision)})

    def draft(self, published_at: datetime | None, figure_id: int | None) -> Draft:
        """What the editor typed, as the service takes it (``published_at`` in UTC)."""
        return Draft(
            title=self.title.data or "",
            slug=self.slug.data or "",
            dek=self.dek.data or "",
            summary=self.summary.data or "",
            body=self.body.data or "",
            authors=tuple(self.authors.data or ()),
            types=tuple(self.types.data or ()),
            topics=tuple(self.topics.data or ()),
            published_at=published_at,
            partner=self.partner.data or "",
            source_note=self.source_note.data or "",
            figure_id=None if self.figure_remove.data else figure_id,
            figure_alt=self.figure_alt.data or "",
            figure_caption=self.figure_caption.data or "",
            comment_policy=self.comment_policy.data or "open",
            correction=self.correction.data or "",
        )
