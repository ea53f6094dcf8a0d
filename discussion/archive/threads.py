"""Matching a comment system's threads (Disqus, Isso) to publications by address."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from ..extensions import db
from ..models import LegacyAddress, Publication, SlugRedirect
from ..publications import catalog
from .convert import plain_text
from .importing import Importer, normal_path, old_path

_ARTICLE = re.compile(r"/publications/([^/?#]+)/?$")


def parse_maps(pairs: tuple[str, ...]) -> list[tuple[str, str]]:
    """``OLD_PREFIX=NEW_PREFIX`` options, longest old prefix first."""
    maps = []
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old:
            raise ValueError(f"--map {pair!r}: write it as OLD_PREFIX=NEW_PREFIX")
        maps.append((old, new))
    return sorted(maps, key=lambda m: -len(m[0]))


class ThreadMatcher:
    """Finds the publication a thread's address names, or creates a minimal one."""

    def __init__(
        self, importer: Importer, maps: list[tuple[str, str]], *, create_missing: bool
    ) -> None:
        self.importer = importer
        self.maps = maps
        self.create_missing = create_missing

    def mapped(self, url: str) -> str:
        for old, new in self.maps:
            if url.startswith(old):
                return new + url[len(old) :]
        return url

    def find(self, url: str) -> int | None:
        """The publication at this address (after ``--map``): an article address of this
        site (or one it had), or an old address an import brought."""
        url = self.mapped(url.strip())
        try:
            path = unquote(urlsplit(url).path)
        except ValueError:
            return None
        article = _ARTICLE.search(path)
        if article and catalog.is_slug(article.group(1)):
            slug = article.group(1)
            found = db.session.scalar(select(Publication.id).where(Publication.slug == slug))
            if found is None:
                found = db.session.scalar(
                    select(SlugRedirect.publication_id).where(SlugRedirect.slug == slug)
                )
            if found is not None:
                return found
        old = old_path(url)
        if old is None:
            return None
        return db.session.scalar(
            select(LegacyAddress.publication_id).where(LegacyAddress.path == normal_path(old))
        )

    def match(
        self, thread_key: str, url: str, title: str, created_at: datetime | None
    ) -> int | None:
        """The thread's publication; None (the thread listed as unmatched) when there
        is none and ``--create-missing`` was not given."""
        found = self.find(url) if url else None
        if found is not None:
            return found
        existing = self.importer.existing_publication(f"thread {thread_key}")
        if existing is not None:
            return existing
        if not self.create_missing or not url or created_at is None:
            self.importer.summary.unmatched.append(f"{url or '(no address)'} {title!r}".strip())
            return None
        path = old_path(url) or ""
        last = [p for p in path.split("?")[0].split("/") if p]
        return self.importer.publication(
            f"thread {thread_key}",
            old_paths=[path] if path else [],
            title=plain_text(title) or url,
            slug=unquote(last[-1]) if last else plain_text(title),
            body="",
            published_at=created_at,
        )
