"""What every importer shares: finding what was imported before (each publication and
comment keeps its source and source id), creating publications through the content
service, storing comments in batches as typed comments are stored (sanitized text,
keyed address hashes), threading replies whose parents come later, a dry run, and the
summary of what moved."""

from __future__ import annotations

import ipaddress
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import insert, select, update

from ..comments import sanitizer
from ..comments.privacy import keyed_hash
from ..extensions import db
from ..models import (
    Comment,
    CommentState,
    Decision,
    LegacyAddress,
    Publication,
    SlugRedirect,
)
from ..moderation import queue
from ..publications import catalog, content, related
from .convert import plain_text, render_batch

BATCH = 1000  # comments per transaction
CHUNK = 250  # comments per piece of work handed to a worker process
PUBLICATIONS_PER_COMMIT = 100
MAX_WARNINGS = 500  # listed in the summary; the rest are counted
# WordPress keeps at most 65,525 bytes of a comment; anything longer is not a comment.
MAX_COMMENT_LENGTH = 65_536
NAME_LENGTH = Comment.__table__.c.name.type.length
EMAIL_LENGTH = Comment.__table__.c.email.type.length
WEBSITE_LENGTH = Comment.__table__.c.website.type.length
AGENT_LENGTH = Comment.__table__.c.user_agent.type.length
PATH_LENGTH = LegacyAddress.__table__.c.path.type.length
SOURCE_TITLES = {"wordpress": "WordPress", "disqus": "Disqus", "isso": "Isso"}


@dataclass
class Tally:
    """What happened to one kind of item."""

    imported: int = 0
    updated: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def line(self, kind: str) -> str:
        reasons = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        return (
            f"{kind}: {self.imported} imported, {self.updated} updated, "
            f"{sum(self.skipped.values())} skipped" + (f" ({reasons})" if reasons else "")
        )


@dataclass
class Summary:
    """The account of an import: per kind, and the warnings naming where each was."""

    publications: Tally = field(default_factory=Tally)
    comments: Tally = field(default_factory=Tally)
    warnings: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # threads with no publication
    dry_run: bool = False
    more_warnings: int = 0

    def lines(self) -> list[str]:
        out = [f"warning: {w}" for w in self.warnings]
        if self.more_warnings:
            out.append(f"warning: … and {self.more_warnings} more")
        if self.unmatched:
            out.append(f"{len(self.unmatched)} threads matched no publication:")
            out += [f"  {u}" for u in self.unmatched]
        out.append(self.publications.line("publications"))
        out.append(self.comments.line("comments"))
        skipped = sum(self.publications.skipped.values()) + sum(self.comments.skipped.values())
        prefix = "dry run, nothing written: would have " if self.dry_run else ""
        out.append(
            f"{prefix}imported {self.publications.imported} publications, "
            f"{self.comments.imported} comments; skipped {skipped}"
        )
        return out


@dataclass(frozen=True)
class IncomingComment:
    """A comment as an export gives it; its text is converted and rendered in batches."""

    source_id: str
    publication_id: int
    content: str  # as the export has it: HTML (WordPress, Disqus) or Markdown (Isso)
    created_at: datetime
    state: CommentState
    name: str = ""
    email: str | None = None
    website: str | None = None
    address: str | None = None
    user_agent: str | None = None
    parent_source_id: str | None = None
    where: str = ""  # how a warning names it: "post 12, comment 40"
    kind: str = "html"


def old_path(url: str) -> str | None:
    """A URL's path as old links reach it (with ``?p=…``/``?page_id=…`` kept)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    path = parts.path or "/"
    if parts.query and re.fullmatch(r"(p|page_id)=\d+", parts.query):
        path += "?" + parts.query
    return path[:PATH_LENGTH] if path != "/" else None


def normal_path(path: str) -> str:
    """Old addresses are compared without a trailing slash."""
    head, _, query = path.partition("?")
    head = head.rstrip("/") or "/"
    return f"{head}?{query}" if query else head


# --- storing ---------------------------------------------------------------------------


class _Stored(NamedTuple):
    """A comment already stored by this import (or this run): what its replies need."""

    id: int
    root_id: int | None
    publication_id: int


class Importer:
    """Stores what one import brings, in batches, or only counts it (``dry_run``)."""

    def __init__(
        self,
        source: str,
        *,
        secret_key: str,
        personal_data_days: int,
        now: datetime,
        dry_run: bool = False,
        batch: int = BATCH,
        workers: int = 1,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.source = source
        self.title = SOURCE_TITLES.get(source, source)
        self.secret_key = secret_key
        self.raw_after = now - timedelta(days=personal_data_days)
        self.dry_run = dry_run
        self.batch_size = batch
        self.summary = Summary(dry_run=dry_run)
        self._warn = warn
        self._pending: list[IncomingComment] = []
        self._forward: list[tuple[int, str, str]] = []  # (comment id, parent source id, where)
        self._fake_ids = iter(range(-1, -(10**12), -1))
        self._dry_seen: set[str] = set()
        self._touched: set[int] = set()
        self._rethread: set[int] = set()
        self.changed_publications = 0
        self.workers = workers
        self._pool: Any = None
        self._rendered: dict[int, tuple[str, str, str]] = {}

    # warnings and skips

    def warn(self, message: str) -> None:
        if len(self.summary.warnings) < MAX_WARNINGS:
            self.summary.warnings.append(message)
        else:
            self.summary.more_warnings += 1
        if self._warn:
            self._warn(message)

    def skip_publication(self, reason: str) -> None:
        self.summary.publications.skipped[reason] += 1

    def skip_comment(self, reason: str, count: int = 1) -> None:
        if count:
            self.summary.comments.skipped[reason] += count

    # publications

    def existing_publication(self, source_id: str) -> int | None:
        return db.session.scalar(
            select(Publication.id).where(
                Publication.source == self.source, Publication.source_id == source_id
            )
        )

    def publication(
        self, source_id: str, *, old_paths: Iterable[str] = (), old_slug: str = "", **fields
    ) -> int:
        """The publication imported from this source item: created, or found. One found
        is brought up to date when its source changed and nobody has saved it on the
        desk since (a desk save counts a revision); otherwise it is left as it is."""
        found = db.session.scalar(
            select(Publication).where(
                Publication.source == self.source, Publication.source_id == source_id
            )
        )
        if found is not None:
            if found.revision:
                self.skip_publication("already imported")
                return found.id
            _, changed = content.save_imported(
                self.source, source_id, publication=found, dry_run=self.dry_run, **fields
            )
            if not changed:
                self.skip_publication("already imported")
                return found.id
            self.summary.publications.updated += 1
            if not self.dry_run:
                catalog.touch([found.id])
                self.changed_publications += 1
            return found.id
        self.summary.publications.imported += 1
        if self.dry_run:
            return next(self._fake_ids)
        publication, _ = content.save_imported(self.source, source_id, **fields)
        assert publication is not None
        self.changed_publications += 1
        if self.changed_publications % PUBLICATIONS_PER_COMMIT == 0:
            self.flush()  # posts without comments commit too, not all at the end
        for path in old_paths:
            self.remember_address(path, publication.id)
        if old_slug and catalog.is_slug(old_slug) and old_slug != publication.slug:
            taken = db.session.scalar(select(Publication.id).where(Publication.slug == old_slug))
            if taken is None and db.session.get(SlugRedirect, old_slug) is None:
                db.session.add(SlugRedirect(slug=old_slug, publication_id=publication.id))
        return publication.id

    def remember_address(self, path: str, publication_id: int) -> None:
        """An old address that answers 301 to the publication (the first claim keeps it)."""
        path = normal_path(path)
        if self.dry_run or path == "/" or db.session.get(LegacyAddress, path) is not None:
            return
        db.session.add(LegacyAddress(path=path, publication_id=publication_id))
        db.session.flush()

    # comments

    def comment(self, incoming: IncomingComment) -> None:
        self._pending.append(incoming)
        if len(self._pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """Store the waiting comments and commit (a crash loses at most this batch)."""
        batch, self._pending = self._pending, []
        if batch:
            self._store(batch)
        if not self.dry_run:
            catalog.touch(self._touched)
            self._touched.clear()
            db.session.commit()

    def _store(self, batch: list[IncomingComment]) -> None:
        ids = list(dict.fromkeys(c.source_id for c in batch))
        existing = self._known(ids)
        known: dict[str, _Stored] = dict(existing)
        wanted_parents = {c.parent_source_id for c in batch if c.parent_source_id} - set(known)
        known.update(self._known(list(wanted_parents)))
        fresh: list[IncomingComment] = []
        seen: set[str] = set()
        for c in batch:
            if c.source_id in existing or c.source_id in self._dry_seen:
                self._already(c, existing.get(c.source_id), known)
            elif c.source_id in seen:
                self.warn(f"{c.where}: appears twice in the file; imported once")
                self.skip_comment("repeated in the file")
            else:
                seen.add(c.source_id)
                fresh.append(c)
        rendered = self._render(fresh)
        kept = []
        for c, result in zip(fresh, rendered, strict=True):
            if not result[0]:
                self.skip_comment("empty")
                continue
            self._rendered[id(c)] = result
            kept.append(c)
        fresh = kept
        # Parents before their replies: each wave stores the comments whose parent is
        # stored (or who have none); what is left waits for a parent later in the file.
        waiting = fresh
        while waiting:
            wave = [c for c in waiting if not c.parent_source_id or c.parent_source_id in known]
            if not wave:
                break
            stored = {id(c) for c in wave}
            waiting = [c for c in waiting if id(c) not in stored]
            self._insert(wave, known)
        for c in waiting:  # parent not seen yet: top-level until it comes
            orphan = _without_parent(c)
            self._rendered[id(orphan)] = self._rendered[id(c)]
            self._insert([orphan], known)
            comment_id = known[c.source_id][0]
            self._forward.append((comment_id, c.parent_source_id or "", c.where))
        self._rendered.clear()

    def _render(self, comments: list[IncomingComment]) -> list[tuple[str, str, str]]:
        """Convert and sanitize a batch; in worker processes when the import is large."""
        items = [(c.content, c.kind) for c in comments]
        if self.workers <= 1 or len(items) < 2 * CHUNK:
            return render_batch(items)
        if self._pool is None:
            self._pool = multiprocessing.get_context("spawn").Pool(self.workers)
        chunks = [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]
        return [r for part in self._pool.map(render_batch, chunks) for r in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def _already(
        self, c: IncomingComment, current: _Stored | None, known: dict[str, _Stored]
    ) -> None:
        """A comment imported before: left as it is, unless an earlier run stopped
        before its reply was attached to its parent (then attached now)."""
        if current is None or not c.parent_source_id or c.parent_source_id not in known:
            self.skip_comment("already imported")
            return
        comment_id = current[0]
        parent_now = db.session.scalar(select(Comment.parent_id).where(Comment.id == comment_id))
        if parent_now is not None:
            self.skip_comment("already imported")
            return
        parent_id, parent_root, parent_publication = known[c.parent_source_id]
        if parent_id == comment_id or parent_publication != c.publication_id:
            self.skip_comment("already imported")
            return
        db.session.execute(
            update(Comment)
            .where(Comment.id == comment_id)
            .values(parent_id=parent_id, root_id=parent_root or parent_id)
        )
        self._rethread.add(c.publication_id)
        self.summary.comments.updated += 1

    def _known(self, source_ids: list[str]) -> dict[str, _Stored]:
        found: dict[str, _Stored] = {}
        for start in range(0, len(source_ids), 500):
            chunk = source_ids[start : start + 500]
            rows = db.session.execute(
                select(
                    Comment.source_id, Comment.id, Comment.root_id, Comment.publication_id
                ).where(Comment.source == self.source, Comment.source_id.in_(chunk))
            )
            found.update(
                {row.source_id: _Stored(row.id, row.root_id, row.publication_id) for row in rows}
            )
        return found

    def _insert(self, wave: list[IncomingComment], known: dict[str, _Stored]) -> None:
        rows = [self._row(c, known) for c in wave]
        self.summary.comments.imported += len(rows)
        if self.dry_run:
            for c in wave:
                self._dry_seen.add(c.source_id)
                known[c.source_id] = _Stored(next(self._fake_ids), None, c.publication_id)
            return
        new_ids = db.session.execute(
            insert(Comment).returning(Comment.id, sort_by_parameter_order=True), rows
        ).scalars()
        decisions = []
        for c, row, comment_id in zip(wave, rows, new_ids, strict=True):
            known[c.source_id] = _Stored(comment_id, row["root_id"], c.publication_id)
            if c.state is CommentState.APPROVED:
                self._touched.add(c.publication_id)
            if c.state is not CommentState.PENDING:
                decisions.append(
                    {
                        "comment_id": comment_id,
                        "moderator_id": None,
                        "from_state": CommentState.PENDING,
                        "to_state": c.state,
                        "note": f"Imported from {self.title}, where it was {c.state.value}.",
                        "created_at": c.created_at,
                    }
                )
        if decisions:
            db.session.execute(insert(Decision), decisions)

    def _row(self, c: IncomingComment, known: dict[str, _Stored]) -> dict:
        text, body_html, body_hash = self._rendered[id(c)]
        parent_id = root_id = None
        if c.parent_source_id:
            parent = known[c.parent_source_id]
            if parent.publication_id == c.publication_id:
                parent_id, root_id = parent.id, parent.root_id or parent.id
            else:  # a thread shows on one page: its replies are that page's
                self.warn(f"{c.where}: its parent is on another page; shown as top-level")
        address = _address(c.address)
        recent = c.created_at >= self.raw_after
        return {
            "publication_id": c.publication_id,
            "parent_id": parent_id,
            "root_id": root_id,
            "name": (plain_text(c.name) or "Anonymous")[:NAME_LENGTH],
            "email": _email(c.email),
            "website": _website(c.website),
            "body_text": text,
            "body_html": body_html,
            "body_hash": body_hash,
            "sanitizer_version": sanitizer.SANITIZER_VERSION,
            "state": c.state,
            "created_at": c.created_at,
            "ip_hash": keyed_hash(address, self.secret_key, "address") if address else None,
            # The raw address and agent only while the retention window still runs.
            "ip_address": address if recent else None,
            "user_agent": (c.user_agent or "")[:AGENT_LENGTH] or None if recent else None,
            "source": self.source,
            "source_id": c.source_id,
        }

    def finish(self) -> Summary:
        """Store what waits, attach replies whose parent came later, mend threads, and
        recompute related lists once."""
        try:
            self.flush()
        finally:
            self.close()
        if self._forward:
            self._attach_forward()
        if not self.dry_run:
            if self._rethread:
                rethread(self._rethread, self.warn)
            if self.changed_publications:
                related.refresh_all()
            db.session.commit()
            queue.compact_tallies()
        return self.summary

    def _attach_forward(self) -> None:
        parents = self._known(list({p for _, p, _ in self._forward}))
        for comment_id, parent_source_id, where in self._forward:
            if self.dry_run and parent_source_id in self._dry_seen:
                continue  # would have been attached
            if parent_source_id not in parents:
                self.warn(f"{where}: its parent is not in the file; shown as a top-level comment")
                continue
            if self.dry_run:
                continue
            parent_id = parents[parent_source_id][0]
            publication_id = db.session.scalar(
                select(Comment.publication_id).where(Comment.id == comment_id)
            )
            parent_publication = db.session.scalar(
                select(Comment.publication_id).where(Comment.id == parent_id)
            )
            if parent_publication != publication_id:
                self.warn(f"{where}: its parent is on another page; shown as top-level")
                continue
            db.session.execute(
                update(Comment).where(Comment.id == comment_id).values(parent_id=parent_id)
            )
            self._rethread.add(publication_id)
        self._forward.clear()


def _without_parent(c: IncomingComment) -> IncomingComment:
    return replace(c, parent_source_id=None)


def rethread(publication_ids: Iterable[int], warn: Callable[[str], None]) -> None:
    """Set every comment's thread (its top-level ancestor) from the parents, for these
    publications; a circle of parents is broken at its oldest comment."""
    for publication_id in sorted(publication_ids):
        rows = db.session.execute(
            select(Comment.id, Comment.parent_id, Comment.root_id, Comment.source_id)
            .where(Comment.publication_id == publication_id)
            .order_by(Comment.id)
        ).all()
        parent = {r.id: r.parent_id for r in rows}
        for r in rows:
            chain, node = [r.id], r.parent_id
            while node is not None and node not in chain:
                chain.append(node)
                node = parent.get(node)
            if node is not None:  # a circle: the oldest in it becomes top-level
                circle = chain[chain.index(node) :]
                oldest = min(circle)
                parent[oldest] = None
                db.session.execute(
                    update(Comment).where(Comment.id == oldest).values(parent_id=None)
                )
                warn(
                    f"comments {', '.join(str(i) for i in sorted(circle))} answer each other "
                    f"in a circle; comment {oldest} is now top-level"
                )
        roots: dict[int, int | None] = {}
        for r in rows:
            node, top = r.id, None
            while parent.get(node) is not None:
                node = parent[node]
                top = node
            roots[r.id] = top
        changed = [
            {"comment_id": r.id, "root": roots[r.id]} for r in rows if r.root_id != roots[r.id]
        ]
        for change in changed:
            db.session.execute(
                update(Comment)
                .where(Comment.id == change["comment_id"])
                .values(root_id=change["root"])
            )


def _address(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _email(value: str | None) -> str | None:
    value = (value or "").strip()
    if "@" not in value or len(value) > EMAIL_LENGTH or any(ch.isspace() for ch in value):
        return None
    return value


def _website(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value or len(value) > WEBSITE_LENGTH or not sanitizer.is_allowed_url(value):
        return None
    return value if value.lower().startswith(("http://", "https://")) else None
