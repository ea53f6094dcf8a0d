"""Small helpers shared by the views."""

from __future__ import annotations

from flask import abort, request


def page_arg(name: str = "page") -> int:
    """The page number from the query string; 404 when it is not a positive whole number."""
    raw = request.args.get(name, "1")
    if not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        abort(404)
    return int(raw)
