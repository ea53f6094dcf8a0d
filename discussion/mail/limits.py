"""The limit on confirmation requests one client may cause, kept by Flask-Limiter's
storage (memory per process, or Redis shared), like the site's other rate limits."""

from __future__ import annotations

from flask import current_app
from limits import parse_many

from ..extensions import limiter

SCOPE = "mail-confirmation"


def may_request_confirmation(client_address: str) -> bool:
    """Count one confirmation request from this client; False once over
    ``RATELIMIT_MAIL_CONFIRMATIONS`` (always True with rate limits switched off)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    allowed = True
    for item in parse_many(current_app.config["RATELIMIT_MAIL_CONFIRMATIONS"]):
        allowed = limiter.limiter.hit(item, SCOPE, client_address) and allowed
    return allowed
