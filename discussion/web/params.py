"""Reading request input: ids and page numbers, query-string text, redirect targets;
and the page of a counted listing."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import abort, request
from werkzeug.routing import IntegerConverter

_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only ("²".isdigit() is True)
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: larger ones name nothing


def parse_id(text: str | None) -> int | None:
    """A database id or page number from user input, or None when it cannot be one."""
    if text is None or not _ID.fullmatch(text) or int(text) > MAX_ID:
        return None
    return int(text)


def page_arg(name: str = "page") -> int:
    """The page number from the query string; 404 when it is not a positive whole number."""
    page = parse_id(request.args.get(name, "1"))
    if page is None or page < 1 or page > 10**9:
        abort(404)
    return page


class IdConverter(IntegerConverter):
    """``<id:name>`` in routes: a positive integer that fits a database id (else 404)."""

    def __init__(self, url_map: Any) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


# C0 controls but tab, newline and carriage return; DEL; C1 controls.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_control_characters(text: str) -> str:
    """Text from a query string with control characters (NUL included) removed."""
    return CONTROL_CHARACTERS.sub("", text)


def safe_next(target: str | None, default: str) -> str:
    """A local path to go to next (after signing in, after an action), never another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


@dataclass
class Page:
    """One page of a counted listing, with what pagination links need."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1
