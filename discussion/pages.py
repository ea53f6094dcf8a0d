"""Small helpers shared by the views."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import abort, request


def page_arg(name: str = "page") -> int:
    """The page number from the query string; 404 when it is not a positive whole number."""
    raw = request.args.get(name, "1")
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        abort(404)
    return int(raw)


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
