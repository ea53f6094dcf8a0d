"""A Disqus export (XML): threads matched to publications by address, posts become
comments (deleted ones rejected, spam as spam), replies keep their parents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO
from xml.etree.ElementTree import Element

from ..models import CommentState
from .importing import MAX_COMMENT_LENGTH, Importer, IncomingComment
from .threads import ThreadMatcher
from .xmlstream import NotTheFormat, XmlStream, child, child_text, local

FORMAT = "a Disqus export"
INTERNALS = "{http://disqus.com/disqus-internals}id"
DELETED_TEXT = "(deleted on Disqus)"


def run(
    importer: Importer,
    source: IO[bytes],
    matcher: ThreadMatcher,
    *,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Import a Disqus export (streamed: one thread or post in memory at a time)."""
    stream = XmlStream(source, root="disqus", format_name=FORMAT)
    threads: dict[str, int | None] = {}  # Disqus thread id → publication (None: unmatched)
    seen = 0
    for element in stream.elements({"thread", "post", "category"}):
        seen += 1
        name = local(element.tag)
        if name == "thread":
            _thread(importer, matcher, element, threads)
        elif name == "post":
            _post(importer, element, threads)
        if progress:
            progress(stream.position)
    if not seen:
        raise NotTheFormat(f"This is not {FORMAT}, or it holds no threads or posts.")
    if stream.replaced:
        importer.warn(
            f"{stream.replaced} byte sequences that are not UTF-8 were replaced with "
            "\N{REPLACEMENT CHARACTER}"
        )


def _time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _thread(
    importer: Importer, matcher: ThreadMatcher, element: Element, threads: dict[str, int | None]
) -> None:
    key = element.get(INTERNALS) or ""
    link = child_text(element, "link")
    if not key:
        importer.warn("a thread without a dsq:id; its posts cannot name it")
        return
    if not link:
        importer.warn(f"thread {key}: no address; its posts are skipped")
        threads[key] = None
        return
    threads[key] = matcher.match(
        key, link, child_text(element, "title"), _time(child_text(element, "createdAt"))
    )


def _post(importer: Importer, element: Element, threads: dict[str, int | None]) -> None:
    key = element.get(INTERNALS) or ""
    where = f"post {key or '?'}"
    if not key:
        importer.warn(f"{where}: no dsq:id; skipped")
        importer.skip_comment("malformed")
        return
    thread_element = child(element, "thread")
    thread = thread_element.get(INTERNALS, "") if thread_element is not None else ""
    if thread not in threads:
        importer.warn(f"{where}: its thread {thread or '?'} is not in the file; skipped")
        importer.skip_comment("thread not in the file")
        return
    publication_id = threads[thread]
    if publication_id is None:
        importer.skip_comment("thread matched no publication")
        return
    deleted = child_text(element, "isDeleted") == "true"
    if deleted:
        state = CommentState.REJECTED
    elif child_text(element, "isSpam") == "true":
        state = CommentState.SPAM
    elif child_text(element, "isApproved") == "false":
        state = CommentState.PENDING
    else:
        state = CommentState.APPROVED
    message = child(element, "message")
    content = (message.text or "") if message is not None else ""
    if len(content) > MAX_COMMENT_LENGTH:
        importer.warn(f"{where}: {len(content):,} characters, longer than any comment; skipped")
        importer.skip_comment("too long")
        return
    kind = "html"
    if deleted and not content.strip():
        content, kind = DELETED_TEXT, "markdown"  # kept, so its replies keep their place
    if not content.strip():
        importer.skip_comment("empty")
        return
    created = _time(child_text(element, "createdAt"))
    if created is None:
        importer.warn(f"{where}: no readable date; skipped")
        importer.skip_comment("malformed")
        return
    if "\N{REPLACEMENT CHARACTER}" in content:
        importer.warn(f"{where}: bytes that are not UTF-8 replaced")
    author = child(element, "author")
    parent = child(element, "parent")
    parent_key = parent.get(INTERNALS) if parent is not None else None
    importer.comment(
        IncomingComment(
            source_id=f"post {key}",
            publication_id=publication_id,
            content=content,
            kind=kind,
            created_at=created,
            state=state,
            name=child_text(author, "name") if author is not None else "",
            email=child_text(author, "email") if author is not None else None,
            address=child_text(element, "ipAddress"),
            parent_source_id=f"post {parent_key}" if parent_key else None,
            where=where,
        )
    )
