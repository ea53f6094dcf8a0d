"""An article's metadata for search engines and link previews: its canonical address,
OpenGraph and Twitter card tags, and a schema.org NewsArticle (JSON-LD) with its
approved comments. Every address comes from ``SITE_URL``; without one, none is given."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ..comments.thread import Thread
from ..models import Publication
from ..web import links
from ..web.filters import iso_utc


def _comments(thread: Thread, canonical: str) -> list[dict[str, Any]]:
    found = []
    stack = list(thread.nodes)
    while stack:
        node = stack.pop(0)
        comment = node.comment
        stack[:0] = node.replies
        if comment.deleted_at is not None:  # a deleted comment's stub says nothing
            continue
        found.append(
            {
                "@type": "Comment",
                "url": f"{canonical}#comment-{comment.id}",
                "author": {"@type": "Person", "name": comment.name},
                "dateCreated": iso_utc(comment.created_at),
                "text": comment.body_text,
            }
        )
    return found


def article(publication: Publication, thread: Thread) -> dict[str, Any] | None:
    """The tags' values and the JSON-LD data of an article, or None without SITE_URL."""
    try:
        canonical = links.absolute("publications.article", slug=publication.slug)
        site = links.site_url()
    except links.NoSiteAddress:
        return None
    figure = publication.figure
    image = links.absolute("media.serve", name=figure.largest) if figure is not None else None
    description = publication.dek or publication.summary or ""
    site_name = current_app.config["SITE_NAME"]
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": canonical,
        "url": canonical,
        "headline": publication.title[:110],
        "description": description,
        "author": [{"@type": "Person", "name": a.name} for a in publication.authors],
        "publisher": {
            "@type": "Organization",
            "name": current_app.config["SITE_NAME"],
            "url": site,
        },
        "commentCount": thread.visible_count,
        "comment": _comments(thread, canonical),
    }
    if publication.published_at is not None:
        data["datePublished"] = iso_utc(publication.published_at)
        data["dateModified"] = iso_utc(publication.corrected_at or publication.published_at)
    if image:
        data["image"] = [image]
    return {
        "canonical": canonical,
        "title": publication.title,
        "description": description,
        "image": image,
        "image_alt": (publication.image_alt or (figure.alt if figure else "")) if image else "",
        "site_name": site_name,
        "json_ld": data,
    }
