"""The thread readers see: a page of visible comments with their replies in the order the
reader chose, the editors' picks, counts of what readers can see, where one comment sits
in the thread, and the visitor's own comments still awaiting moderation.

A comment is visible when it is approved, not hidden by reports, not deleted by its
poster, and every comment above it is visible too (a reply under a rejected comment is
not on the page, so it is not counted). A comment its poster deleted stays as a stub
("deleted by its author") only while a visible reply hangs under it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    exists,
    func,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Comment, CommentState, Publication

SORTS = {"oldest": "Oldest first", "newest": "Newest first", "recommended": "Most recommended"}
PICKS_SHOWN = 50  # editors' picks listed on the Picks tab


@dataclass
class Node:
    """A comment in a rendered thread, with its visible replies."""

    comment: Comment
    depth: int
    replies: list[Node] = field(default_factory=list)
    in_reply_to: str | None = None  # the parent's name, when nesting was capped


@dataclass
class Thread:
    """One page of a publication's visible comments, in one order."""

    nodes: list[Node]
    pages: Pagination
    visible_count: int
    sort: str
    picks_count: int


def _shown(model: type[Comment] = Comment) -> ColumnElement[bool]:
    """Approved and not hidden by reports (a deleted comment's stub included)."""
    return (model.state == CommentState.APPROVED) & ~model.hidden


def _standing(model: type[Comment] = Comment) -> ColumnElement[bool]:
    """Shown, and not deleted by its poster: what counts, can be picked and recommended."""
    return _shown(model) & model.deleted_at.is_(None)


# A reply, as an alias made once: each new alias adapts every column again on first use
# (about a tenth of building a thread's queries).
_CHILD = aliased(Comment)


def _shown_root() -> ColumnElement[bool]:
    """A top-level comment on the page: standing, or a stub with a visible reply."""
    has_reply = exists().where(_CHILD.parent_id == Comment.id, _shown(_CHILD))
    return Comment.parent_id.is_(None) & _shown() & (Comment.deleted_at.is_(None) | has_reply)


def _order(sort: str) -> tuple[ColumnElement, ...]:
    """The thread's order; ties fall back to (time, id), so pages never overlap."""
    if sort == "newest":
        return (Comment.created_at.desc(), Comment.id.desc())
    if sort == "recommended":
        return (Comment.recommendations.desc(), Comment.created_at, Comment.id)
    return (Comment.created_at, Comment.id)


def _visible_counts(replies_among_ids: bool) -> Select[tuple[int, int]]:
    """What readers see of the publications ``ids``: the shown top-level comments, then
    the shown replies under them, down each thread, counted by publication; the replies
    looked for among the publications' comments only, or followed by their parent."""
    top = (
        select(Comment.id, Comment.publication_id, Comment.deleted_at)
        .where(
            Comment.publication_id.in_(bindparam("ids", expanding=True)),
            Comment.parent_id.is_(None),
            _shown(),
        )
        .cte("visible", recursive=True)
    )
    replies = (
        select(_CHILD.id, _CHILD.publication_id, _CHILD.deleted_at)
        .join(top, _CHILD.parent_id == top.c.id)
        .where(_shown(_CHILD))
    )
    if replies_among_ids:
        replies = replies.where(_CHILD.publication_id.in_(bindparam("ids", expanding=True)))
    visible = top.union_all(replies)
    return (
        select(visible.c.publication_id, func.count())
        .where(visible.c.deleted_at.is_(None))
        .group_by(visible.c.publication_id)
    )


# Built once with the ids bound: building it cost more than running it (0.8 ms of an
# 11 ms listing on PostgreSQL). Each database's planner wants the replies asked for its
# own way: PostgreSQL's, not told their publications, read every approved comment of the
# site to join them (3.3-5.4 ms at 10,000 comments, growing with the site, against
# 0.6 ms); SQLite's, told them, scanned a publication's comments for each comment
# instead of following its parent (0.3 ms against 12.4).
_VISIBLE_COUNTS = {True: _visible_counts(True), False: _visible_counts(False)}


def visible_counts(publication_ids: Iterable[int]) -> dict[int, int]:
    """How many comments readers can see on each publication, in one query."""
    ids = list(publication_ids)
    if not ids:
        return {}
    statement = _VISIBLE_COUNTS[db.engine.dialect.name != "sqlite"]  # among the ids?
    rows = db.session.execute(statement, {"ids": ids})
    return {publication_id: n for publication_id, n in rows}


_PICKS_COUNT = select(func.count()).where(
    Comment.publication_id == bindparam("publication_id"),
    Comment.featured_at.is_not(None),
    _standing(),
)


def picks_count(publication_id: int) -> int:
    """How many of a publication's comments are editors' picks."""
    return db.session.scalar(_PICKS_COUNT, {"publication_id": publication_id}) or 0


# A page of a thread, or one top-level comment's (:func:`one`): statements built once,
# the publication, the page's bounds and the top-level comments bound. Building them
# cost more than running them (a tenth of building the article after each approval,
# a quarter of filling a reader's own thread into the kept page).
_ROOTS = select(Comment).where(Comment.publication_id == bindparam("publication_id"), _shown_root())
_ROOTS_PAGE = {
    sort: _ROOTS.order_by(*_order(sort))
    .limit(bindparam("limit", type_=Integer))
    # Pages run to 10**9 (web/params.page_arg): offsets past PostgreSQL's INTEGER.
    .offset(bindparam("offset", type_=BigInteger))
    for sort in SORTS
}
_ROOTS_COUNT = select(func.count()).select_from(_ROOTS.subquery())
# The shown replies in the threads ``root_ids``.
_REPLIES_IN = select(Comment).where(
    # The publication as well: SQLite's planner, counting every top-level comment's
    # NULL root as one value, otherwise walked all approved comments of the site
    # (6.8 ms at 17,000, linear beyond).
    Comment.publication_id == bindparam("publication_id"),
    Comment.root_id.in_(bindparam("root_ids", expanding=True)),
    _shown(),
)
_REPLIES = _REPLIES_IN.order_by(*_order("oldest"))  # oldest first under each


class _RootPages(Pagination):
    """The pages of a publication's shown top-level comments in one order.

    Flask-SQLAlchemy's own paginations (``SelectPagination``) fill in these two methods
    the same way; pyproject.toml holds it to the 3.1 series they were read in."""

    def _query_items(self) -> list[Comment]:
        bounds = {"limit": self.per_page, "offset": self._query_offset}
        return list(
            db.session.scalars(
                self._query_args["select"],
                {"publication_id": self._query_args["publication_id"], **bounds},
            )
        )

    def _query_count(self) -> int:
        ids = {"publication_id": self._query_args["publication_id"]}
        return db.session.scalar(_ROOTS_COUNT, ids) or 0


def page(
    publication: Publication,
    *,
    page: int,
    per_page: int,
    max_depth: int,
    sort: str = "oldest",
) -> Thread:
    """A page of top-level comments in the ``sort`` order with their visible replies
    (oldest first under each), nested up to ``max_depth`` levels; deeper replies sit at
    the last level. The number of queries does not depend on the number of comments."""
    pages = _RootPages(
        page=page,
        per_page=per_page,
        max_per_page=per_page,
        publication_id=publication.id,
        select=_ROOTS_PAGE.get(sort, _ROOTS_PAGE["oldest"]),  # unknown: oldest, as _order
    )
    roots = list(pages.items)
    replies: list[Comment] = []
    if roots:
        ids = {"publication_id": publication.id, "root_ids": [c.id for c in roots]}
        replies = list(db.session.scalars(_REPLIES, ids))
    count = visible_counts([publication.id]).get(publication.id, 0)
    return Thread(_nest(roots, replies, max_depth), pages, count, sort, picks_count(publication.id))


# One top-level comment's thread in one statement (one round trip instead of two): the
# comment, when it is on the thread's pages, and its replies, each as on a page.
_ONE_ROOT_AND_REPLIES = union_all(_ROOTS.where(Comment.id == bindparam("root_id")), _REPLIES_IN)
_ONE_THREAD = select(Comment).from_statement(
    _ONE_ROOT_AND_REPLIES.order_by(
        _ONE_ROOT_AND_REPLIES.selected_columns.created_at,
        _ONE_ROOT_AND_REPLIES.selected_columns.id,
    )
)


def one(publication_id: int, root_id: int, *, max_depth: int) -> Node | None:
    """One top-level comment's thread, nested as :func:`page` nests it; None when that
    comment is not on the thread's pages (any more)."""
    ids = {"publication_id": publication_id, "root_id": root_id, "root_ids": [root_id]}
    found = db.session.scalars(_ONE_THREAD, ids)
    root, replies = None, []
    for comment in found:
        if comment.id == root_id:
            root = comment
        else:
            replies.append(comment)
    return None if root is None else _nest([root], replies, max_depth)[0]


def picks(publication: Publication, limit: int = PICKS_SHOWN) -> list[Comment]:
    """The editors' picks of a publication, the latest picked first."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(
                Comment.publication_id == publication.id,
                Comment.featured_at.is_not(None),
                _standing(),
            )
            .order_by(Comment.featured_at.desc(), Comment.id.desc())
            .limit(limit)
        )
    )


def is_visible(comment: Comment) -> bool:
    """Whether readers see this comment on the page (it and every comment above it)."""
    if comment.state is not CommentState.APPROVED or comment.hidden or comment.deleted_at:
        return False
    parent = comment.parent
    while parent is not None:
        if parent.state is not CommentState.APPROVED or parent.hidden:
            return False
        parent = parent.parent
    return True


def page_of(comment: Comment, *, sort: str, per_page: int) -> int:
    """The page of the thread, in the ``sort`` order, that shows this visible comment."""
    root_id = comment.root_id or comment.id
    ranked = (
        select(Comment.id, func.row_number().over(order_by=_order(sort)).label("position"))
        .where(Comment.publication_id == comment.publication_id, _shown_root())
        .subquery()
    )
    position = db.session.scalar(select(ranked.c.position).where(ranked.c.id == root_id)) or 1
    return (position - 1) // per_page + 1


def _nest(roots: list[Comment], replies: list[Comment], max_depth: int) -> list[Node]:
    """Arrange replies under their parents; a reply whose parent is hidden is dropped,
    and so is a deleted reply's stub that no visible reply hangs under."""
    nodes: dict[int, Node] = {c.id: Node(c, 0) for c in roots}
    placed: list[Node] = []
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
        placed.append(node)
    stubs = {n.comment.id for n in placed if n.comment.deleted_at is not None}
    if stubs:
        answered = {n.comment.parent_id for n in placed if n.comment.deleted_at is None}
        for node in nodes.values():
            node.replies = [
                r for r in node.replies if r.comment.id not in stubs or r.comment.id in answered
            ]
    return [nodes[c.id] for c in roots]
