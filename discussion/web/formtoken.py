"""The comment form's CSRF token: the same for every reader, so article pages can be shared.

Flask-WTF's usual token is bound to the reader's session, which makes every first-time
reader's article page unique (a new session, a signed token, a cookie) and so neither
cacheable by a shared cache nor cheap to serve. The comment form is anonymous, so a
session-bound token proves no more than that the poster loaded a page, which anyone can.
Its token is instead signed with the secret key and dated to the hour, the same for all
readers, and valid for ``COMMENT_FORM_TOKEN_MAX_AGE`` seconds: it shows the post comes
from a page this site served recently. What stops another site from making a reader's
browser post is the Origin / Fetch Metadata check every unsafe request passes
(:func:`discussion.web.security.refuse_cross_origin`).

Forms of signed-in moderators and the report form keep Flask-WTF's session-bound tokens.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner
from wtforms.csrf.core import CSRF
from wtforms.validators import ValidationError

ROTATE_SECONDS = 3600  # a new token every hour; pages carrying it stay shareable meanwhile


def window() -> int:
    """The start of the hour the current token is dated (for cache keys and ETags)."""
    now = int(time.time())
    return now - now % ROTATE_SECONDS


class _HourlySigner(TimestampSigner):
    """Signs with the start of the current hour, so a token is the same all hour long."""

    def get_timestamp(self) -> int:
        return window()


def _signer() -> _HourlySigner:
    return _HourlySigner(current_app.config["SECRET_KEY"], salt="comment-form")


def current() -> str:
    """This hour's token."""
    return _signer().sign(b"comment").decode()


def check(token: str | None) -> None:
    """Raise ``ValidationError`` unless ``token`` is one this site issued recently."""
    if not token:
        raise ValidationError("The CSRF token is missing.")
    try:
        value = _signer().unsign(token, max_age=current_app.config["COMMENT_FORM_TOKEN_MAX_AGE"])
    except SignatureExpired as error:
        raise ValidationError("The CSRF token has expired.") from error
    except BadSignature as error:
        raise ValidationError("The CSRF token is invalid.") from error
    if value != b"comment":
        raise ValidationError("The CSRF token is invalid.")


class PageCSRF(CSRF):
    """WTForms CSRF with the shared token (``class Meta: csrf_class = PageCSRF``)."""

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        return current()

    def validate_csrf_token(self, form: Any, field: Any) -> None:
        check(field.data)
