"""Writing the site as a WordPress export (WXR 1.2), so its comments can go back to
WordPress: each publication an item, its comments (every state, with parents) inside."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Comment, CommentState, Publication, PublicationState

APPROVAL = {
    CommentState.APPROVED: "1",
    CommentState.PENDING: "0",
    CommentState.SPAM: "spam",
    CommentState.REJECTED: "trash",
}
STATUS = {
    PublicationState.PUBLISHED: "publish",
    PublicationState.DRAFT: "draft",
    PublicationState.UNPUBLISHED: "private",
}
_INVALID = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])  # not allowed in XML 1.0


def cdata(value: str | None) -> str:
    """Text as CDATA (a ``]]>`` inside split across two sections)."""
    value = (value or "").translate(_INVALID)
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _time(value: datetime | None) -> str:
    return (value or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _text(value: str | None) -> str:
    return escape((value or "").translate(_INVALID))


def lines(site_url: str, site_name: str) -> Iterator[str]:
    """The export, a piece at a time (one publication and its comments in memory)."""
    site = site_url.rstrip("/")
    yield f"""<?xml version="1.0" encoding="UTF-8" ?>
<!-- generator="discussion" created="{datetime.now(UTC):%Y-%m-%d %H:%M}" -->
<rss version="2.0"
\txmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
\txmlns:content="http://purl.org/rss/1.0/modules/content/"
\txmlns:wfw="http://wellformedweb.org/CommentAPI/"
\txmlns:dc="http://purl.org/dc/elements/1.1/"
\txmlns:wp="http://wordpress.org/export/1.2/">
<channel>
\t<title>{_text(site_name)}</title>
\t<link>{_text(site)}</link>
\t<description></description>
\t<language>en</language>
\t<wp:wxr_version>1.2</wp:wxr_version>
\t<wp:base_site_url>{_text(site)}</wp:base_site_url>
\t<wp:base_blog_url>{_text(site)}</wp:base_blog_url>
"""
    last_id = 0
    while True:
        batch = list(
            db.session.scalars(
                select(Publication)
                .options(selectinload(Publication.bylines), selectinload(Publication.topics))
                .where(Publication.id > last_id)
                .order_by(Publication.id)
                .limit(100)
            )
        )
        if not batch:
            break
        for publication in batch:
            yield from _item(publication, site)
        last_id = batch[-1].id
        db.session.expunge_all()
    yield "</channel>\n</rss>\n"


def _item(publication: Publication, site: str) -> Iterator[str]:
    link = f"{site}/publications/{publication.slug}"
    categories = "".join(
        f'\t\t<category domain="category" nicename={quoteattr(t.slug)}>{cdata(t.name)}</category>\n'
        for t in publication.topics
    )
    comment_status = "open" if publication.comments_open else "closed"
    creator = publication.authors[0].name if publication.authors else ""
    published = publication.published_at
    yield (
        f"""\t<item>
\t\t<title>{_text(publication.title)}</title>
\t\t<link>{_text(link)}</link>
\t\t<pubDate>{format_datetime(published.astimezone(UTC)) if published else ""}</pubDate>
\t\t<dc:creator>{cdata(creator)}</dc:creator>
\t\t<guid isPermaLink="true">{_text(link)}</guid>
\t\t<description></description>
\t\t<content:encoded>{cdata(publication.body_html)}</content:encoded>
\t\t<excerpt:encoded>{cdata(publication.dek)}</excerpt:encoded>
\t\t<wp:post_id>{publication.id}</wp:post_id>
\t\t<wp:post_date>{cdata(_time(published))}</wp:post_date>
\t\t<wp:post_date_gmt>{cdata(_time(published))}</wp:post_date_gmt>
\t\t<wp:comment_status>{cdata(comment_status)}</wp:comment_status>
\t\t<wp:ping_status>{cdata("closed")}</wp:ping_status>
\t\t<wp:post_name>{cdata(publication.slug)}</wp:post_name>
\t\t<wp:status>{cdata(STATUS[publication.state])}</wp:status>
\t\t<wp:post_parent>0</wp:post_parent>
\t\t<wp:menu_order>0</wp:menu_order>
\t\t<wp:post_type>{cdata("post")}</wp:post_type>
\t\t<wp:post_password>{cdata("")}</wp:post_password>
\t\t<wp:is_sticky>0</wp:is_sticky>
{categories}"""
    )
    rows = db.session.scalars(
        select(Comment)
        .where(Comment.publication_id == publication.id)
        .order_by(Comment.id)
        .execution_options(yield_per=500)
    )
    for c in rows:
        yield (
            f"""\t\t<wp:comment>
\t\t\t<wp:comment_id>{c.id}</wp:comment_id>
\t\t\t<wp:comment_author>{cdata(c.name)}</wp:comment_author>
\t\t\t<wp:comment_author_email>{cdata(c.email)}</wp:comment_author_email>
\t\t\t<wp:comment_author_url>{cdata(c.website)}</wp:comment_author_url>
\t\t\t<wp:comment_author_IP>{cdata(c.ip_address)}</wp:comment_author_IP>
\t\t\t<wp:comment_date>{cdata(_time(c.created_at))}</wp:comment_date>
\t\t\t<wp:comment_date_gmt>{cdata(_time(c.created_at))}</wp:comment_date_gmt>
\t\t\t<wp:comment_content>{cdata(c.body_html)}</wp:comment_content>
\t\t\t<wp:comment_approved>{cdata(APPROVAL[c.state])}</wp:comment_approved>
\t\t\t<wp:comment_type>{cdata("comment")}</wp:comment_type>
\t\t\t<wp:comment_parent>{c.parent_id or 0}</wp:comment_parent>
\t\t\t<wp:comment_user_id>0</wp:comment_user_id>
\t\t</wp:comment>
"""
        )
    yield "\t</item>\n"


def write(
    path: Path, site_url: str, site_name: str, progress: Callable[[], None] | None = None
) -> None:
    with path.open("w", encoding="utf-8") as out:
        for piece in lines(site_url, site_name):
            out.write(piece)
            if progress:
                progress()
