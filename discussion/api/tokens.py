"""Staff API tokens: made for one account with a scope, shown once, stored as a hash,
listed with their last use, revoked; and finding the account a presented token is for."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import ApiToken, Moderator, TokenScope, utcnow

PREFIX = "dsc_"  # marks the text as one of these tokens (secret scanners, logs)
SHOWN_PREFIX = 12  # characters kept in clear to tell tokens apart
NAME_LENGTH = ApiToken.__table__.c.name.type.length
LAST_USE_STEP = timedelta(minutes=1)  # last use is written at most this often


class TokenError(Exception):
    """The acting person may not do that to this token."""


@dataclass(frozen=True)
class Made:
    """A new token: the stored row and the secret, which is shown only now."""

    token: ApiToken
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _may_manage(owner: Moderator, actor: Moderator) -> None:
    if not (actor.is_admin or actor.id == owner.id):
        raise TokenError("Only admins manage other people's tokens.")


def create(owner: Moderator, actor: Moderator, *, name: str, scope: TokenScope) -> Made:
    """A token for ``owner``'s account (made by themselves or an admin)."""
    _may_manage(owner, actor)
    name = " ".join(name.split())[:NAME_LENGTH]
    if not name:
        raise TokenError("Please name the token after what will use it.")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        moderator_id=owner.id,
        name=name,
        scope=scope,
        token_hash=_digest(secret),
        prefix=secret[:SHOWN_PREFIX],
    )
    db.session.add(token)
    db.session.flush()
    return Made(token, secret)


def listed(owner: Moderator) -> list[ApiToken]:
    """The account's tokens, newest first, revoked ones included (marked)."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.moderator_id == owner.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke(token: ApiToken, actor: Moderator) -> bool:
    """Revoke a token for good; False when it already was."""
    _may_manage(token.moderator, actor)
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True


def holder(secret: str, now: datetime | None = None) -> tuple[Moderator, ApiToken] | None:
    """The active account and live token this secret is, recording its use (at most once
    a minute, so reading tools do not write on every request); None otherwise."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(secret), ApiToken.revoked_at.is_(None)
        )
    )
    if token is None or not token.moderator.active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USE_STEP:
        try:
            with db.session.begin_nested():
                db.session.execute(
                    update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
                )
        except OperationalError:  # SQLite busy with another writer: the next use records it
            pass
    return token.moderator, token


def allows(token: ApiToken, scope: TokenScope) -> bool:
    """Whether the token's scope covers ``scope`` (decide includes read)."""
    return token.scope is TokenScope.DECIDE or scope is TokenScope.READ
