"""The poster's private status token: a signed comment id, in the status link and the
API's answer to a post. Whoever holds it may follow, and withdraw, that one comment."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "comment-status"


def token_for(comment_id: int, secret_key: str) -> str:
    """The token naming this comment."""
    return URLSafeSerializer(secret_key, salt=SALT).dumps(comment_id)


def comment_id_of(token: str, secret_key: str) -> int | None:
    """The comment a token names, or None when it was not made here."""
    try:
        comment_id = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature:
        return None
    return comment_id if isinstance(comment_id, int) and not isinstance(comment_id, bool) else None
