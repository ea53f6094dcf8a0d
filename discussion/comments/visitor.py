"""What the site remembers of one visitor, in their signed session cookie."""

from __future__ import annotations

import secrets

from flask import current_app, request, session

from .posting import Origin
from .privacy import keyed_hash

_OWN = "own_comments"
_VISITOR = "visitor"
_KEEP = 20  # the most recent comment ids a visitor can see while pending


def remember_comment(comment_id: int) -> None:
    """Let this visitor see their own comment while it awaits moderation."""
    session[_OWN] = [*session.get(_OWN, [])[-(_KEEP - 1) :], comment_id]


def own_comment_ids() -> list[int]:
    """Ids of the comments this visitor posted recently."""
    ids = session.get(_OWN, [])
    return [i for i in ids if isinstance(i, int)] if isinstance(ids, list) else []


def visitor_id() -> str:
    """A random id for this visitor's session, made on first need (one report per reader)."""
    if not isinstance(session.get(_VISITOR), str):
        session[_VISITOR] = secrets.token_urlsafe(16)
    return session[_VISITOR]


def request_origin() -> Origin:
    """Where the comment in this request comes from, as the abuse rules may keep it."""
    address = request.remote_addr or ""
    return Origin(
        ip_hash=keyed_hash(address, current_app.config["SECRET_KEY"], "address"),
        ip_address=address or None,
        user_agent=request.user_agent.string or None,
    )
