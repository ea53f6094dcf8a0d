"""How often one client address may post comments: one limit (``RATELIMIT_COMMENTS``)
shared by every way in (the form, the API, the embedded thread)."""

from __future__ import annotations

from flask import current_app

from ..extensions import limiter

posting = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_COMMENTS"], scope="comment-posts"
)
