"""What the API says about publications, comments and decisions: plain dictionaries in
the shapes the OpenAPI document describes (:mod:`.document`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, url_for

from ..comments.thread import Node
from ..models import Comment, CommentState, Decision, Publication
from ..moderation.actions import REJECT_REASONS, Action
from ..web import links


def when(moment: datetime | None) -> str | None:
    """A time as RFC 3339 in UTC."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def page_url(endpoint: str, **values: Any) -> str:
    """A page of this site: absolute from SITE_URL when configured, else a path (never
    from the Host header)."""
    if current_app.config.get("SITE_URL"):
        return links.absolute(endpoint, **values)
    return url_for(endpoint, **values)


def label(item: Any) -> dict[str, str]:
    return {"slug": item.slug, "name": item.name}


def publication_card(p: Publication, count: int, *, comments_open: bool) -> dict[str, Any]:
    return {
        "id": p.id,
        "slug": p.slug,
        "title": p.title,
        "dek": p.dek,
        "summary": p.summary,
        "published_at": when(p.published_at),
        "updated_at": when(p.updated_at),
        "url": page_url("publications.article", slug=p.slug),
        "types": [label(t) for t in p.types],
        "topics": [label(t) for t in p.topics],
        "authors": [label(a) for a in p.authors],
        "comments_open": comments_open,
        "comment_count": count,
        "links": {
            "self": url_for("api.publication", slug=p.slug),
            "comments": url_for("api.thread", slug=p.slug),
        },
    }


def publication(p: Publication, count: int, *, comments_open: bool) -> dict[str, Any]:
    return {
        **publication_card(p, count, comments_open=comments_open),
        "body_html": p.body_html,
        "corrected_at": when(p.corrected_at),
        "correction": p.correction,
    }


def comment(c: Comment) -> dict[str, Any]:
    return {
        "id": c.id,
        "parent_id": c.parent_id,
        "name": c.name,
        "created_at": when(c.created_at),
        "body_html": c.body_html,
    }


def node(n: Node) -> dict[str, Any]:
    return {
        **comment(n.comment),
        "depth": n.depth,
        "in_reply_to": n.in_reply_to,
        "replies": [node(r) for r in n.replies],
    }


def status(c: Comment, reason: str | None) -> dict[str, Any]:
    """The poster's view, as on their status page: rejected and spam both read "not
    published"; approved but hidden by reports reads "under review"."""
    if c.state is CommentState.APPROVED:
        shown = "under-review" if c.hidden else "published"
    elif c.state is CommentState.PENDING:
        shown = "pending"
    else:
        shown = "not-published"
    return {
        "id": c.id,
        "publication": {"slug": c.publication.slug, "name": c.publication.title},
        "status": shown,
        "reason": REJECT_REASONS.get(reason or "") if shown == "not-published" else None,
        "name": c.name,
        "created_at": when(c.created_at),
        "body_html": c.body_html,
    }


def queue_item(c: Comment, actions: list[Action]) -> dict[str, Any]:
    return {
        **comment(c),
        "state": c.state.value,
        "email": c.email,
        "publication": {"slug": c.publication.slug, "name": c.publication.title},
        "holds": [{"rule": h.rule, "detail": h.detail} for h in c.holds],
        "open_reports": c.open_reports,
        "hidden": c.hidden,
        "actions": [a.value for a in actions],
    }


def decision(d: Decision) -> dict[str, Any]:
    return {
        "id": d.id,
        "comment_id": d.comment_id,
        "from_state": d.from_state.value,
        "to_state": d.to_state.value,
        "reason": d.reason,
        "note": d.note,
        "moderator": d.moderator.username if d.moderator else "",
        "created_at": when(d.created_at),
    }
