"""Who may open which screen: decorators for views, by role."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from ..models import Moderator

View = Callable[..., Any]


def requires(allowed: Callable[[Moderator], bool]) -> Callable[[View], View]:
    """A view only for signed-in staff ``allowed`` lets in: the anonymous get the sign-in
    page, everyone else 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not allowed(current_user):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorate


admin_required = requires(lambda person: person.is_admin)
editor_required = requires(lambda person: person.can_edit)
