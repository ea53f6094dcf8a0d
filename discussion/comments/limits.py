"""How often one client address may post comments: one limit (``RATELIMIT_COMMENTS``)
shared by every way in (the form, the API, the embedded thread)."""

from __future__ import annotations

from flask import current_app, request
from werkzeug.wrappers import Response

from ..extensions import limiter


def answered(response: Response) -> bool:
    """A request the site could not take (5xx: its database was down) uses up nothing."""
    return response.status_code < 500


def _counts(response: Response) -> bool:
    """A preview (the form's ``preview`` button) is not a comment: it uses up nothing."""
    return "preview" not in request.form and answered(response)


posting = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_COMMENTS"],
    scope="comment-posts",
    methods=["POST"],
    deduct_when=_counts,
)
