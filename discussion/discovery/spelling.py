"""Spelling suggestions for a search that finds nothing: each word no publication uses,
replaced by the closest word that the newest publications' titles, authors and topics
use ("negotiatons" → "negotiations").

The words are read once per process and kept ``VOCABULARY_SECONDS``: a new
publication's words are suggested within that time. Closeness is difflib's ratio
among words of the same first letter and about the same length, which keeps a lookup
to a few hundred comparisons whatever the size of the archive.
"""

from __future__ import annotations

import difflib
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Author, Byline, Publication, Topic, publication_topics
from ..publications import catalog
from ..web import clock

VOCABULARY_PUBLICATIONS = 5000  # the newest public publications whose words are read
VOCABULARY_SECONDS = 600
CLOSENESS = 0.8  # difflib's ratio a suggestion needs (1.0: the same word)
_WORD = re.compile(r"[^\W\d_]{3,}")  # words of three letters or more


@dataclass(frozen=True)
class Vocabulary:
    """Words by first letter, most used first."""

    by_initial: dict[str, list[str]]
    read_at: float

    def __contains__(self, word: str) -> bool:
        return word in self.by_initial.get(word[:1], ())

    def closest(self, word: str) -> str | None:
        """The known word closest to ``word`` (``word`` itself when it is known)."""
        candidates = [w for w in self.by_initial.get(word[:1], ()) if abs(len(w) - len(word)) <= 2]
        found = difflib.get_close_matches(word, candidates, n=1, cutoff=CLOSENESS)
        return found[0] if found else None


def vocabulary() -> Vocabulary:
    """The current app's vocabulary, read again when it is older than VOCABULARY_SECONDS."""
    kept: Vocabulary | None = current_app.extensions.get("spelling")
    if kept is None or time.monotonic() - kept.read_at > VOCABULARY_SECONDS:
        kept = current_app.extensions["spelling"] = _read()
    return kept


def _read() -> Vocabulary:
    newest = (
        select(Publication.id)
        .where(catalog.public(clock.now()))
        .order_by(Publication.id.desc())
        .limit(VOCABULARY_PUBLICATIONS)
        .subquery()
    )
    titles = db.session.scalars(
        select(Publication.title).where(Publication.id.in_(select(newest.c.id)))
    ).all()
    names = (
        db.session.scalars(
            select(Author.name).join(Byline).where(Byline.publication_id.in_(select(newest.c.id)))
        ).all()
        + db.session.scalars(select(Topic.name).join(publication_topics).distinct()).all()
    )
    counts = Counter(word.lower() for text in [*titles, *names] for word in _WORD.findall(text))
    by_initial: dict[str, list[str]] = defaultdict(list)
    for word, _ in counts.most_common():
        by_initial[word[0]].append(word)
    return Vocabulary(dict(by_initial), time.monotonic())
