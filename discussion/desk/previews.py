"""Signed preview links: anyone holding one sees a publication before it is public,
until the link expires."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "publication-preview"


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def token(publication_id: int, secret_key: str) -> str:
    """A token naming the publication, dated now."""
    return _serializer(secret_key).dumps(publication_id)


def publication_id(token: str, secret_key: str, max_age: int) -> int | None:
    """The publication a token names, or None when it is forged or older than ``max_age``."""
    try:
        value = _serializer(secret_key).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is a BadSignature
        return None
    return value if isinstance(value, int) else None
