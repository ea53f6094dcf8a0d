"""WordPress eXtended RSS (WXR 1.0-1.2): published posts (and pages, when asked) become
publications, their comments comments; everything else is counted as skipped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import IO
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

from ..models import CommentState
from .convert import markdown_from_html, plain_text
from .importing import MAX_COMMENT_LENGTH as MAX_LENGTH
from .importing import Importer, IncomingComment, old_path
from .xmlstream import NotTheFormat, XmlStream, child, child_text, local, namespace

FORMAT = "a WordPress export (WXR)"
WP_NAMESPACE = "http://wordpress.org/export/"
STATES = {
    "1": CommentState.APPROVED,
    "0": CommentState.PENDING,
    "spam": CommentState.SPAM,
    "trash": CommentState.REJECTED,
}
_ZERO = "0000-00-00 00:00:00"


def run(
    importer: Importer,
    source: IO[bytes],
    *,
    pages: bool = False,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Import a WXR file (streamed: one ``<item>`` in memory at a time)."""
    stream = XmlStream(source, root="rss", format_name=FORMAT)
    authors: dict[str, str] = {}
    site = ""
    count = 0
    wanted = {"author", "item", "base_site_url", "link"}
    for element in stream.elements(wanted):
        name = local(element.tag)
        if name == "author" and _is_wp(element):
            login = child_text(element, "author_login")
            authors[login] = plain_text(child_text(element, "author_display_name")) or login
        elif name == "base_site_url" and _is_wp(element):
            site = (element.text or "").strip() or site
        elif name == "link" and not site:
            site = (element.text or "").strip()
        elif name == "item":
            count += 1
            if not any(_is_wp(c) for c in element):
                if count == 1:
                    raise NotTheFormat(
                        f"This is not {FORMAT}: its first <item> has no WordPress (wp:) "
                        "fields; it looks like a plain RSS feed."
                    )
                importer.warn(f"item {count}: no WordPress fields; skipped")
                importer.skip_publication("malformed")
                continue
            _item(importer, element, site[:200], authors, pages, count)
        if progress:
            progress(stream.position)
    if count == 0:
        raise NotTheFormat(f"This is not {FORMAT}, or it holds no items.")
    if stream.replaced:
        importer.warn(
            f"{stream.replaced} byte sequences that are not UTF-8 were replaced with "
            "\N{REPLACEMENT CHARACTER}"
        )


def _is_wp(element: Element) -> bool:
    return namespace(element.tag).startswith(WP_NAMESPACE) and not namespace(element.tag).endswith(
        "/excerpt/"
    )


def _item(
    importer: Importer,
    item: Element,
    site: str,
    authors: dict[str, str],
    pages: bool,
    number: int,
) -> None:
    post_id = child_text(item, "post_id")
    title = plain_text(child_text(item, "title"))
    where = f"item {number} (post {post_id or '?'}, {title[:40]!r})"
    comments = [c for c in item if local(c.tag) == "comment" and _is_wp(c)]
    kind = child_text(item, "post_type") or "post"
    status = child_text(item, "status") or "publish"
    reason = None
    if not post_id.isdigit():
        importer.warn(f"{where}: no wp:post_id; skipped with its comments")
        reason = "malformed"
    elif kind == "attachment":
        reason = "attachments"
    elif kind == "page" and not pages:
        reason = "pages (import them with --pages)"
    elif kind not in ("post", "page"):
        reason = f"{kind} items"
    elif status != "publish":
        reason = f"not published ({status})"
    published_at = None if reason else _post_time(item)
    if published_at is None and reason is None:
        importer.warn(f"{where}: no readable publication date; skipped")
        reason = "malformed"
    if reason:
        importer.skip_publication(reason)
        importer.skip_comment("their post was skipped", len(comments))
        return
    assert published_at is not None
    post_key = f"{site} post {post_id}".strip()
    link = child_text(item, "link")
    base = urlsplit(site).path.rstrip("/")
    old_paths = [p for p in (old_path(link), f"{base}/?p={post_id}") if p]
    body = markdown_from_html(_content(item), article=True)
    publication_id = importer.publication(
        post_key,
        old_paths=old_paths,
        old_slug=unquote(child_text(item, "post_name")),
        title=title or f"Untitled ({post_id})",
        slug=unquote(child_text(item, "post_name")) or title,
        body=body,
        published_at=published_at,
        dek=plain_text(_excerpt(item)) or None,
        authors=[authors.get(c, c) for c in _creators(item)],
        types=["Page"] if kind == "page" else [],
        topics=[
            plain_text(c.text or "")
            for c in item
            if local(c.tag) == "category"
            and c.get("domain") in ("category", "post_tag")
            and c.get("nicename") != "uncategorized"
        ],
        comments_open=child_text(item, "comment_status") != "closed",
    )
    for element in comments:
        _comment(importer, element, post_key, publication_id, where, published_at)


def _content(item: Element) -> str:
    for c in item:
        if local(c.tag) == "encoded" and namespace(c.tag).startswith("http://purl.org/rss/"):
            return c.text or ""
    return ""


def _excerpt(item: Element) -> str:
    for c in item:
        if local(c.tag) == "encoded" and namespace(c.tag).endswith("/excerpt/"):
            return c.text or ""
    return ""


def _creators(item: Element) -> list[str]:
    return [(c.text or "").strip() for c in item if local(c.tag) == "creator" and c.text]


def _post_time(item: Element) -> datetime | None:
    gmt = _wp_time(child_text(item, "post_date_gmt"))
    if gmt is not None:
        return gmt
    rfc = child_text(item, "pubDate")
    if rfc:
        try:
            parsed = parsedate_to_datetime(rfc)
            if parsed.tzinfo is not None and parsed.year > 1:
                return parsed.astimezone(UTC)
        except (TypeError, ValueError, IndexError):
            pass
    return _wp_time(child_text(item, "post_date"))


def _wp_time(value: str) -> datetime | None:
    """A WordPress ``YYYY-MM-DD HH:MM:SS`` time, taken as UTC; None when zero or unreadable."""
    if not value or value.startswith(_ZERO[:10]):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _comment(
    importer: Importer,
    element: Element,
    post_key: str,
    publication_id: int,
    post_where: str,
    published_at: datetime,
) -> None:
    comment_id = child_text(element, "comment_id")
    where = f"{post_where}, comment {comment_id or '?'}"
    if not comment_id.isdigit():
        importer.warn(f"{where}: no wp:comment_id; skipped")
        importer.skip_comment("malformed")
        return
    kind = child_text(element, "comment_type")
    if kind in ("pingback", "trackback"):
        importer.skip_comment("pingbacks and trackbacks")
        return
    if kind not in ("", "comment"):
        importer.skip_comment(f"{kind} entries")
        return
    raw = child(element, "comment_content")
    content = (raw.text or "") if raw is not None else ""
    if len(content) > MAX_LENGTH:
        importer.warn(f"{where}: {len(content):,} characters, longer than any comment; skipped")
        importer.skip_comment("too long")
        return
    if not content.strip():
        importer.skip_comment("empty")
        return
    approved = child_text(element, "comment_approved")
    state = STATES.get(approved)
    if state is None:
        importer.warn(f"{where}: approval {approved!r} is not one WordPress uses; held")
        state = CommentState.PENDING
    created = _wp_time(child_text(element, "comment_date_gmt"))
    if created is None:
        created = _wp_time(child_text(element, "comment_date"))
        if created is None:
            importer.warn(f"{where}: no readable date; dated as its post")
            created = published_at
        else:
            importer.warn(f"{where}: no UTC date; its local date is taken as UTC")
    if "\N{REPLACEMENT CHARACTER}" in content:
        importer.warn(f"{where}: bytes that are not UTF-8 replaced")
    parent = child_text(element, "comment_parent")
    importer.comment(
        IncomingComment(
            source_id=f"{post_key} comment {comment_id}",
            publication_id=publication_id,
            content=content,
            created_at=created,
            state=state,
            name=child_text(element, "comment_author"),
            email=child_text(element, "comment_author_email"),
            website=child_text(element, "comment_author_url"),
            address=child_text(element, "comment_author_IP"),
            user_agent=child_text(element, "comment_agent"),
            parent_source_id=(
                f"{post_key} comment {parent}" if parent.isdigit() and parent != "0" else None
            ),
            where=where,
        )
    )
