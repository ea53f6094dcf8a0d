"""Factories and request helpers shared by the tests."""

from __future__ import annotations

import re
import socket
from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from flask.testing import FlaskClient

from discussion.accounts import staff
from discussion.comments import sanitizer
from discussion.extensions import db
from discussion.models import Comment, CommentState, Moderator, Publication, Role
from discussion.publications import content, related

PASSWORD = "correct horse battery"
USIP = "khamenei-rejects-us-talks-on-twitter"
WIRE = "iran-rejects-us-bid-to-coordinate-against-isis"

_numbers = count(1)


def make_publication(**fields: Any) -> Publication:
    """A stored publication with sensible defaults; every related list is recomputed."""
    n = next(_numbers)
    record = {
        "slug": f"publication-{n}",
        "title": f"Publication {n}",
        "dek": f"The dek of publication {n}.",
        "summary": f"The summary of publication {n}.",
        "body": [f"The body of publication {n}."],
        "published": date(2024, 1, 1).isoformat(),
        "types": ["Analysis"],
        "topics": [],
        "authors": [],
    }
    record.update(fields)
    publication, _ = content.upsert(record)
    db.session.flush()
    related.refresh_all()
    db.session.commit()
    return publication


def make_comment(
    publication: Publication,
    *,
    state: CommentState = CommentState.APPROVED,
    parent: Comment | None = None,
    body: str = "A thoughtful comment.",
    name: str = "Reader",
    email: str | None = None,
    minutes: int = 0,
) -> Comment:
    """A stored comment in any state, created ``minutes`` after a fixed time."""
    comment = Comment(
        publication_id=publication.id,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        name=name,
        email=email,
        body_text=body,
        body_html=sanitizer.render(body),
        sanitizer_version=sanitizer.SANITIZER_VERSION,
        state=state,
        created_at=datetime(2024, 2, 1, 12, 0, tzinfo=UTC) + timedelta(minutes=minutes),
    )
    db.session.add(comment)
    db.session.commit()
    return comment


def site_admin() -> Moderator:
    """An admin, for services that take the acting person (created on first use)."""
    admin = staff.find("site-admin")
    if admin is None:
        admin = staff.create_moderator("site-admin", PASSWORD, Role.ADMIN)
        db.session.commit()
    return admin


def csrf_token(client: FlaskClient, url: str) -> str:
    """The CSRF token from the form on a page, as a browser would send it."""
    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def post_comment(client: FlaskClient, slug: str, **fields: str) -> Any:
    """Post the comment form of an article with a valid CSRF token."""
    data = {"name": "Ada", "email": "", "body": "Hello.", "website": "", "parent_id": ""}
    data.update(fields)
    data["csrf_token"] = csrf_token(client, f"/publications/{slug}")
    return client.post(f"/publications/{slug}/comments", data=data)


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form."""
    token = csrf_token(client, "/auth/login")
    return client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )


def queue_token(client: FlaskClient) -> str:
    """A CSRF token from the moderation queue."""
    return csrf_token(client, "/moderation/")


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


needs_redis = pytest.mark.skipif(
    not _redis_up(), reason="Redis is not running on 127.0.0.1:6379 (.ci/run starts it)"
)
