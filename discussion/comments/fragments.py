"""Rendered comment threads, kept in each process under what they show.

Building the 200-comment article costs about 40 ms, half of it the comment macro, and
each approval makes every process build it again although all threads but one render
exactly as before. So each top-level comment's HTML, replies included, is kept under a
digest of everything the macro (``templates/_macros/comment.html``) reads: every column
of each comment in the thread and its place in it (depth, the name it answers, how many
replies), and what the page gives the macro (:func:`_page`). Any change to those
is another key, so nothing ever has to be forgotten; the least recently used threads go
once the kept HTML passes ``COMMENT_FRAGMENT_BYTES`` (0: nothing is kept).

A reader's own comments awaiting moderation (the article's reader part) are kept the
same way, under the rows read for them (:func:`kept`): they stay as they are for the
minutes a comment waits, through every reload.
"""

from __future__ import annotations

import hashlib
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Container
from typing import Any, NamedTuple

from flask import Flask, current_app, request
from jinja2 import pass_context
from jinja2.runtime import Context, Undefined
from markupsafe import Markup
from sqlalchemy import inspect

from ..models import Comment, Publication
from .thread import Node

_COLUMNS = operator.attrgetter(*(a.key for a in inspect(Comment).column_attrs))


class Fragments:
    """UTF-8 HTML by key, least recently used first, within a size in bytes."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self.size = 0
        self.entries: OrderedDict[bytes, bytes] = OrderedDict()
        self.lock = threading.Lock()  # threaded servers (the quickstart's)

    def get(self, key: bytes) -> bytes | None:
        with self.lock:
            found = self.entries.get(key)
            if found is not None:
                self.entries.move_to_end(key)
            return found

    def put(self, key: bytes, html: bytes) -> None:
        if len(html) > self.max_size:
            return
        with self.lock:
            old = self.entries.pop(key, None)
            self.size += len(html) - (len(old) if old is not None else 0)
            self.entries[key] = html
            while self.size > self.max_size:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)


def _thread_parts(node: Node, ids: list[int], parts: list[Any]) -> None:
    """Each comment of the thread, depth first: its columns and its place."""
    parts.append((_COLUMNS(node.comment), node.depth, node.in_reply_to, len(node.replies)))
    ids.append(node.comment.id)
    for reply in node.replies:
        _thread_parts(reply, ids, parts)


class _Page(NamedTuple):
    """What the comment macro takes from the page around a thread (read once a render)."""

    shared: tuple[Any, ...]  # the same for every comment on the page
    editable: dict[int, Any]  # the reader's comments they may still change, until when
    own_ids: Container[int]  # the reader's own comments
    keep: bool  # False: render, keep nothing (see _page)


def _page(context: Context) -> _Page:
    found = getattr(context, "_kept_thread_page", None)
    if found is None:
        thread, user = context.resolve("thread"), context.resolve("current_user")
        moderating = bool(user.is_authenticated and user.can_moderate)
        shared = (
            request.script_root,  # url_for's prefix
            thread.pages.page,
            thread.sort,
            context.resolve("page_token")(),
            moderating,
            context.resolve("csrf_token")() if moderating else None,
        )
        # A page built for one member of staff carries their session's form token,
        # signed anew each second: its threads would be kept under keys never asked
        # for again. The body kept for staff (staff_nav set) carries marks instead.
        keep = not moderating or not isinstance(context.resolve("staff_nav"), Undefined)
        found = _Page(shared, context.resolve("editable"), context.resolve("own_ids"), keep)
        context._kept_thread_page = found  # type: ignore[attr-defined]
    return found


@pass_context
def kept_thread(
    context: Context,
    node: Node,
    publication: Publication,
    can_reply: bool,
    caller: Callable[[], str],
) -> Markup:
    """``{% call kept_thread(node, publication, can_reply) %}{{ comment(...) }}{% endcall %}``:
    the thread's HTML as rendered before for the same content, else rendered now."""
    if "comment_fragments" not in current_app.extensions:  # (before the parts are read)
        return Markup(caller())
    page = _page(context)
    if not page.keep:
        return Markup(caller())
    ids: list[int] = []
    parts: list[Any] = [publication.slug, can_reply, page.shared]
    _thread_parts(node, ids, parts)
    parts.append([(i, page.editable[i]) for i in ids if i in page.editable])
    parts.append([i for i in ids if i in page.own_ids])
    return kept(parts, caller)


def kept(parts: Any, render: Callable[[], str]) -> Markup:
    """The HTML ``render`` gives, as rendered before in this process for the same
    ``parts`` (everything it reads, whose ``repr`` is the key), else rendered now and
    kept; templates that reload when edited (debug) are always rendered."""
    fragments: Fragments | None = current_app.extensions.get("comment_fragments")
    if fragments is None or current_app.jinja_env.auto_reload:
        return Markup(render())
    key = hashlib.blake2b(repr(parts).encode(), digest_size=16).digest()
    found = fragments.get(key)
    if found is not None:
        return Markup(found.decode())
    html = render()
    fragments.put(key, html.encode())
    return Markup(html)


def init_app(app: Flask) -> None:
    """Keep rendered threads in this process (unless ``COMMENT_FRAGMENT_BYTES`` is 0)."""
    size = app.config["COMMENT_FRAGMENT_BYTES"]
    if size > 0:
        app.extensions["comment_fragments"] = Fragments(size)
    app.jinja_env.globals["kept_thread"] = kept_thread
