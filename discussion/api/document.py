"""The OpenAPI 3.1 document of ``/api/v1``: what every operation takes and answers. The
request bodies are checked against its schemas (:mod:`.bodies`), the reference page is
rendered from it, and the property-based test sends what it describes."""

from __future__ import annotations

from typing import Any

from ..models import CommentState, TokenScope
from ..moderation.actions import NOTE_LENGTH, REJECT_REASONS, Action
from ..moderation.queue import QUEUES
from ..web.params import MAX_ID
from .problems import KINDS, MEDIA_TYPE

VERSION = "1.0.0"
MAX_PAGE_SIZE = 100  # publications or queue items in one answer
MAX_COUNTED = 100  # slugs and addresses in one counts request
STATUSES = ("pending", "published", "under-review", "not-published")
# Text without control characters (tab and line breaks allowed): nothing a database or a
# terminal mistakes for something else.
PLAIN_TEXT = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **more: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], **more}


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


TIME = {"type": "string", "format": "date-time"}
LABEL = _object({"slug": {"type": "string"}, "name": {"type": "string"}})


def components() -> dict[str, Any]:
    """The schemas, by name."""
    card = {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "title": {"type": "string"},
        "dek": _nullable("string"),
        "summary": {"type": "string"},
        "published_at": TIME,
        "updated_at": TIME,
        "url": {"type": "string", "description": "The article page on this site."},
        "types": {"type": "array", "items": _ref("Label")},
        "topics": {"type": "array", "items": _ref("Label")},
        "authors": {"type": "array", "items": _ref("Label")},
        "comments_open": {"type": "boolean"},
        "comment_count": {"type": "integer", "description": "Approved comments shown."},
        "links": _object({"self": {"type": "string"}, "comments": {"type": "string"}}),
    }
    comment = {
        "id": {"type": "integer"},
        "parent_id": _nullable("integer"),
        "name": {"type": "string", "description": "The author's name as they typed it."},
        "created_at": TIME,
        "body_html": {"type": "string", "description": "Sanitised HTML, safe to insert."},
    }
    return {
        "Problem": {
            "type": "object",
            "description": "RFC 9457 problem details.",
            "properties": {
                "type": {"type": "string", "enum": [k.type for k in KINDS.values()]},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "instance": {"type": "string"},
                "errors": {"type": "array", "items": _ref("FieldError")},
            },
            "required": ["type", "title", "status", "detail"],
        },
        "FieldError": _object(
            {
                "field": {"type": "string", "description": "The field; empty for the body."},
                "detail": {"type": "string"},
            }
        ),
        "Label": LABEL,
        "PublicationCard": _object(card),
        "Publication": _object(
            {
                **card,
                "body_html": {"type": "string"},
                "corrected_at": _nullable("string", format="date-time"),
                "correction": _nullable("string"),
            }
        ),
        "PublicationPage": _object(
            {
                "items": {"type": "array", "items": _ref("PublicationCard")},
                "next_cursor": _nullable(
                    "string", description="Pass as `cursor` for the next page; null at the end."
                ),
            }
        ),
        "Comment": _object(
            {
                **comment,
                "depth": {"type": "integer", "minimum": 0},
                "in_reply_to": _nullable(
                    "string", description="The parent's name, when nesting was capped."
                ),
                "replies": {"type": "array", "items": _ref("Comment")},
            }
        ),
        "Thread": _object(
            {
                "publication": {"type": "string", "description": "The publication's slug."},
                "approved_count": {"type": "integer"},
                "page": {"type": "integer"},
                "pages": {"type": "integer"},
                "per_page": {"type": "integer"},
                "comments_open": {"type": "boolean"},
                "items": {"type": "array", "items": _ref("Comment")},
            }
        ),
        "Counts": _object(
            {
                "slugs": {
                    "type": "object",
                    "additionalProperties": _nullable("integer"),
                    "description": "Approved comments per slug; null: no such publication.",
                },
                "urls": {
                    "type": "object",
                    "additionalProperties": _nullable("integer"),
                    "description": "Approved comments per address as sent; null: no "
                    "publication has that page.",
                },
            }
        ),
        "NewComment": {
            **_object(
                {
                    "name": {"type": "string"},
                    "email": _nullable("string", description="Optional, never shown."),
                    "body": {"type": "string", "description": "Plain text; links are made links."},
                    "parent_id": _nullable("integer", description="The comment this answers."),
                    "notify_outcome": {"type": "boolean", "default": False},
                    "notify_replies": {"type": "boolean", "default": False},
                },
                required=["name", "body"],
            ),
            "examples": [
                {"name": "Ada", "email": "ada@example.org", "body": "Well argued."},
                {"name": "Bo", "body": "I disagree, and here is why.", "parent_id": 1},
            ],
        },
        "PostedComment": _object(comment),
        "Posted": _object(
            {
                "id": {"type": "integer"},
                "state": {
                    "type": "string",
                    "enum": ["pending", "approved"],
                    "description": "approved: published now; pending: awaits moderation.",
                },
                "status_token": {
                    "type": "string",
                    "description": "Private: shows and withdraws this comment. Keep it.",
                },
                "links": _object({"status": {"type": "string"}, "status_page": {"type": "string"}}),
                "comment": _ref("PostedComment"),
            }
        ),
        "CommentStatus": _object(
            {
                "id": {"type": "integer"},
                "publication": _ref("Label"),
                "status": {"type": "string", "enum": list(STATUSES)},
                "reason": _nullable("string", description="Why it was not published."),
                "name": {"type": "string"},
                "created_at": TIME,
                "body_html": {"type": "string"},
            }
        ),
        "Hold": _object({"rule": {"type": "string"}, "detail": {"type": "string"}}),
        "QueueItem": _object(
            {
                **comment,
                "state": {"type": "string", "enum": [s.value for s in CommentState]},
                "email": _nullable("string"),
                "publication": _ref("Label"),
                "holds": {"type": "array", "items": _ref("Hold")},
                "open_reports": {"type": "integer"},
                "hidden": {"type": "boolean"},
                "actions": {
                    "type": "array",
                    "items": {"type": "string", "enum": [a.value for a in Action]},
                },
            }
        ),
        "QueuePage": _object(
            {
                "items": {"type": "array", "items": _ref("QueueItem")},
                "next_after": _nullable(
                    "integer", description="Pass as `after` for the next page; null at the end."
                ),
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            }
        ),
        "DecisionRequest": {
            **_object(
                {
                    "action": {"type": "string", "enum": [a.value for a in Action]},
                    "reason": _nullable("string", enum=[*REJECT_REASONS, None]),
                    "note": _nullable("string", maxLength=NOTE_LENGTH, pattern=PLAIN_TEXT),
                    "seen_state": _nullable(
                        "string",
                        enum=[*(s.value for s in CommentState), None],
                        description="The state you saw: 409 if it has changed since.",
                    ),
                },
                required=["action"],
            ),
            "examples": [
                {"action": "approve", "seen_state": "pending"},
                {"action": "reject", "reason": "off-topic", "note": "Not about the article."},
            ],
        },
        "Decision": _object(
            {
                "id": {"type": "integer"},
                "comment_id": {"type": "integer"},
                "from_state": {"type": "string", "enum": [s.value for s in CommentState]},
                "to_state": {"type": "string", "enum": [s.value for s in CommentState]},
                "reason": _nullable("string"),
                "note": _nullable("string"),
                "moderator": {"type": "string"},
                "created_at": TIME,
            }
        ),
    }


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _problems(*statuses: int) -> dict[str, Any]:
    names = {s: ", ".join(f"`{k.name}`" for k in KINDS.values() if k.status == s) for s in statuses}
    return {
        str(s): {
            "description": f"Problem: {names[s]}.",
            "content": {MEDIA_TYPE: {"schema": _ref("Problem")}},
        }
        for s in statuses
    }


def _query(name: str, schema: dict[str, Any], description: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description, **more}


SLUG = {
    "name": "slug",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The publication's slug (as in /publications/<slug>).",
}
CACHED = {
    "ETag": {"schema": {"type": "string"}},
    "Cache-Control": {"schema": {"type": "string"}},
}
TOKEN_AUTH = [{"token": []}]
MOVED = {
    "description": "The publication's slug changed: `Location` is its current address.",
    "headers": {"Location": {"schema": {"type": "string"}}},
}


def paths() -> dict[str, Any]:
    """The operations, by path."""
    return {
        "/publications": {
            "get": {
                "operationId": "listPublications",
                "summary": "Public publications, newest first",
                "description": "Filters as on the index; keyset pages (`cursor`).",
                "parameters": [
                    _query("type", {"type": "string"}, "A type's slug."),
                    _query("topic", {"type": "string"}, "A topic's slug."),
                    _query("author", {"type": "string"}, "An author's slug."),
                    _query("cursor", {"type": "string"}, "`next_cursor` of the page before."),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 20},
                        "Publications on this page.",
                    ),
                ],
                "responses": {
                    "200": {**_json("PublicationPage", "A page."), "headers": CACHED},
                    "304": {"description": "Not modified (If-None-Match)."},
                    **_problems(400),
                },
            }
        },
        "/publications/{slug}": {
            "get": {
                "operationId": "getPublication",
                "summary": "One public publication",
                "parameters": [SLUG],
                "responses": {
                    "200": {**_json("Publication", "The publication."), "headers": CACHED},
                    "301": MOVED,
                    "304": {"description": "Not modified (If-None-Match)."},
                    **_problems(404),
                },
            }
        },
        "/publications/{slug}/comments": {
            "get": {
                "operationId": "getThread",
                "summary": "A page of the approved thread",
                "description": "Top-level comments oldest first, each with its approved "
                "replies nested (deeper replies sit at the last level).",
                "parameters": [
                    SLUG,
                    _query(
                        "page",
                        {"type": "integer", "minimum": 1, "default": 1},
                        "The page of top-level comments.",
                    ),
                ],
                "responses": {
                    "200": {**_json("Thread", "The page."), "headers": CACHED},
                    "301": MOVED,
                    "304": {"description": "Not modified (If-None-Match)."},
                    **_problems(400, 404),
                },
            },
            "post": {
                "operationId": "postComment",
                "summary": "Post a comment or reply",
                "description": "The same validation, rules, rate limits and moderation as "
                "the form on the article page. From a browser, only pages of "
                "`EMBED_ORIGINS` may post.",
                "parameters": [SLUG],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("NewComment")}},
                },
                "responses": {
                    "201": {
                        **_json("Posted", "Stored."),
                        "headers": {"Location": {"schema": {"type": "string"}}},
                    },
                    **_problems(400, 403, 404, 413, 415, 422, 429),
                },
            },
        },
        "/counts": {
            "get": {
                "operationId": "countComments",
                "summary": "Approved comment counts for many publications or pages",
                "parameters": [
                    _query(
                        "slug",
                        {"type": "array", "items": {"type": "string"}, "maxItems": MAX_COUNTED},
                        "Publication slugs (repeat the parameter).",
                        style="form",
                        explode=True,
                    ),
                    _query(
                        "url",
                        {"type": "array", "items": {"type": "string"}, "maxItems": MAX_COUNTED},
                        "Canonical addresses of pages (this site's or embedding ones).",
                        style="form",
                        explode=True,
                    ),
                ],
                "responses": {
                    "200": {**_json("Counts", "The counts."), "headers": CACHED},
                    "304": {"description": "Not modified (If-None-Match)."},
                    **_problems(400),
                },
            }
        },
        "/comments/status/{token}": {
            "parameters": [
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string"},
                    "description": "The `status_token` given when the comment was posted.",
                }
            ],
            "get": {
                "operationId": "getCommentStatus",
                "summary": "The poster's view of their comment",
                "responses": {"200": _json("CommentStatus", "Its status."), **_problems(404)},
            },
            "delete": {
                "operationId": "withdrawComment",
                "summary": "Withdraw a comment still awaiting moderation",
                "responses": {
                    "204": {"description": "Withdrawn and deleted."},
                    **_problems(403, 404, 409),
                },
            },
        },
        "/moderation/queue": {
            "get": {
                "operationId": "getQueue",
                "summary": "The moderation queue, with why each comment is held",
                "description": "Token scope `read` or `decide`; moderators and admins.",
                "security": TOKEN_AUTH,
                "parameters": [
                    _query(
                        "status",
                        {"type": "string", "enum": list(QUEUES), "default": "pending"},
                        "The tab.",
                    ),
                    _query(
                        "publication",
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "A publication id.",
                    ),
                    _query("q", {"type": "string"}, "Search in text, name and email."),
                    _query(
                        "order",
                        {"type": "string", "enum": ["newest", "oldest"], "default": "newest"},
                        "Order of the comments.",
                    ),
                    _query(
                        "after",
                        {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        "`next_after` before.",
                    ),
                    _query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 25},
                        "Comments on this page.",
                    ),
                ],
                "responses": {
                    "200": _json("QueuePage", "A page of the queue."),
                    **_problems(400, 401, 403),
                },
            }
        },
        "/moderation/comments/{comment_id}/decisions": {
            "post": {
                "operationId": "decide",
                "summary": "Approve, reject (with a reason), mark as spam, restore or keep",
                "description": "Token scope `decide`; moderators and admins. Guarded as on "
                "the queue screen: 409 when the comment is no longer in a state the action "
                "starts from, or not in `seen_state`.",
                "security": TOKEN_AUTH,
                "parameters": [
                    {
                        "name": "comment_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("DecisionRequest")}},
                },
                "responses": {
                    "200": _json("Decision", "Decided and recorded."),
                    **_problems(400, 401, 403, 404, 409, 413, 415, 422),
                },
            }
        },
    }


def query_parameters(path: str, method: str) -> frozenset[str] | None:
    """The query parameters an operation takes; None for an operation not described."""
    item = _PATHS.get(path) or {}
    operation = item.get(method.lower())
    if operation is None:
        return None
    found = [*item.get("parameters", []), *operation.get("parameters", [])]
    return frozenset(p["name"] for p in found if p["in"] == "query")


def build() -> dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Discussion API",
            "version": VERSION,
            "description": "Publications, approved threads and counts (public, cacheable); "
            "posting comments as the article form does; moderation for newsroom tools "
            "with per-account tokens. Errors are application/problem+json (RFC 9457).",
        },
        "servers": [{"url": "/api/v1"}],
        "externalDocs": {"description": "Reference", "url": "/api/v1/reference"},
        "paths": paths(),
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token made on your mail and token settings page, "
                    f"scope {' or '.join(s.value for s in TokenScope)}.",
                }
            },
        },
    }


_PATHS = paths()
