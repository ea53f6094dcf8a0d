"""What every form shares: the control-character rule, input filters and choice lists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms import SelectChoice
from wtforms.validators import ValidationError

from .params import CONTROL_CHARACTERS


def no_control_characters(_form: Any, field: Any) -> None:
    """Refuse invisible control characters (tab and line breaks are fine)."""
    if field.data and CONTROL_CHARACTERS.search(field.data):
        raise ValidationError("Remove the invisible control characters from this field.")


def normalize_newlines(value: str | None) -> str | None:
    """Browsers send textarea line breaks as CRLF; count and keep them as one character."""
    return value.replace("\r\n", "\n") if value is not None else None


def strip(value: str | None) -> str | None:
    """Surrounding spaces removed."""
    return value.strip() if value is not None else None


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as a select field's choices."""
    return [SelectChoice(value, label) for value, label in pairs]
