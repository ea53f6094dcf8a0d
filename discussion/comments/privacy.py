"""Personal data: keyed hashes for abuse rules, and erasing raw data after a while."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from sqlalchemy import update

from ..extensions import db
from ..models import Comment, utcnow


def keyed_hash(value: str, key: str, purpose: str) -> str:
    """HMAC-SHA256 of a value (an address, a visitor id), separate per purpose."""
    return hmac.new(f"{purpose}:{key}".encode(), value.encode(), hashlib.sha256).hexdigest()


def erase_raw_data(days: int, now: datetime | None = None) -> int:
    """Erase raw addresses and user agents older than ``days``; returns comments changed."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    result = db.session.execute(
        update(Comment)
        .where(Comment.created_at < cutoff)
        .where(Comment.ip_address.is_not(None) | Comment.user_agent.is_not(None))
        .values(ip_address=None, user_agent=None)
    )
    return result.rowcount or 0
