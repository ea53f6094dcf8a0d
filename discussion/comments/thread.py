"""The thread readers see: a page of approved comments with their replies, counts, and
the visitor's own comments still awaiting moderation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, select

from ..extensions import db
from ..models import Comment, CommentState, Publication


@dataclass
class Node:
    """A comment in a rendered thread, with its visible replies."""

    comment: Comment
    depth: int
    replies: list[Node] = field(default_factory=list)
    in_reply_to: str | None = None  # the parent's name, when nesting was capped


@dataclass
class Thread:
    """One page of a publication's approved comments."""

    nodes: list[Node]
    pages: Pagination
    approved_count: int


def approved_counts(publication_ids: Iterable[int]) -> dict[int, int]:
    """Approved comment counts for several publications, in one query."""
    ids = list(publication_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Comment.publication_id, func.count())
        .where(
            Comment.publication_id.in_(ids),
            Comment.state == CommentState.APPROVED,
            ~Comment.hidden,
        )
        .group_by(Comment.publication_id)
    )
    return {publication_id: n for publication_id, n in rows}


def page(publication: Publication, *, page: int, per_page: int, max_depth: int) -> Thread:
    """A page of top-level approved comments (oldest first) with their approved replies.

    Replies nest up to ``max_depth`` levels; deeper replies sit at the last level.
    The number of queries does not depend on the number of comments.
    """
    approved = (Comment.state == CommentState.APPROVED) & ~Comment.hidden
    roots_query = (
        select(Comment)
        .where(Comment.publication_id == publication.id, Comment.parent_id.is_(None), approved)
        .order_by(Comment.created_at, Comment.id)
    )
    pages = db.paginate(roots_query, page=page, per_page=per_page, max_per_page=per_page)
    roots = list(pages.items)
    replies: list[Comment] = []
    if roots:
        replies = list(
            db.session.scalars(
                select(Comment)
                .where(Comment.root_id.in_([c.id for c in roots]), approved)
                .order_by(Comment.created_at, Comment.id)
            )
        )
    approved_count = approved_counts([publication.id]).get(publication.id, 0)
    return Thread(_nest(roots, replies, max_depth), pages, approved_count)


def own_pending(publication: Publication, own_ids: Sequence[int]) -> list[Comment]:
    """The reader's own comments on this publication that still await moderation."""
    if not own_ids:
        return []
    return list(
        db.session.scalars(
            select(Comment)
            .where(
                Comment.publication_id == publication.id,
                Comment.id.in_(list(own_ids)),
                Comment.state == CommentState.PENDING,
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def _nest(roots: list[Comment], replies: list[Comment], max_depth: int) -> list[Node]:
    """Arrange replies under their parents; a reply whose parent is hidden is dropped."""
    nodes: dict[int, Node] = {c.id: Node(c, 0) for c in roots}
    for comment in replies:  # oldest first, so a parent is placed before its replies
        parent = nodes.get(comment.parent_id or 0)
        if parent is None:
            continue
        direct = parent
        while parent.depth >= max_depth - 1 and parent.depth > 0:
            parent = nodes[parent.comment.parent_id or 0]
        node = Node(comment, parent.depth + 1)
        if parent is not direct:
            node.in_reply_to = direct.comment.name
        nodes[comment.id] = node
        parent.replies.append(node)
    return [nodes[c.id] for c in roots]
