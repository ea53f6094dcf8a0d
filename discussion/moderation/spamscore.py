"""The spam score: a naive Bayes classifier learned from this site's own decisions.

Moderators' decisions teach it as they are made: approving is "not spam"; marking as spam
or rejecting with the reason "spam" is spam. Each comment counts once, with its latest
label (an undo or a change of mind unlearns the old one). The model is word counts in one
table (``spam_tokens``); a comment's score is the probability that it is spam given the
words (and link hosts) it contains, with the words that weighed most toward that score as
the reason. No outside service and no dependency: scoring a comment is a tokenization,
one indexed query and a sum.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from ..comments.rules import find_links, fold, link_host
from ..extensions import db
from ..models import CommentState, Decision, SpamLabel, SpamScore, SpamToken

DOCS = " documents"  # the row counting the comments learned (no token has a space)
MAX_TOKENS = 300  # distinct tokens of one comment that count (a wall of text is no slower)
REASON_WORDS = 3
_WORD = re.compile(r"[a-z0-9][a-z0-9']{1,29}")


def tokens(text: str) -> list[str]:
    """A comment's distinct features: folded words of 2-30 characters, each link's host
    ("host:example.com") and "has:link" when there is any."""
    found: dict[str, None] = {}
    hosts = [link_host(url) for _, _, url in find_links(text)]
    for host in hosts:
        if host:
            found[f"host:{host}"[:64]] = None
    if hosts:
        found["has:link"] = None
    for word in _WORD.findall(fold(text)):
        found[word.strip("'")] = None
        if len(found) >= MAX_TOKENS:
            break
    found.pop("", None)
    return list(found)


@dataclass(frozen=True)
class Score:
    """The probability that a comment is spam, and the words that weighed most."""

    probability: float
    words: tuple[str, ...]

    @property
    def percent(self) -> int:
        return round(self.probability * 100)


def score_from(
    features: Iterable[str], counts: Mapping[str, tuple[int, int]], spam_docs: int, ham_docs: int
) -> Score:
    """Naive Bayes over the features present (Laplace smoothing); pure, for tests and
    benchmarks. ``counts``: feature -> (comments with it marked spam, approved)."""
    total = spam_docs + ham_docs
    log_odds = math.log((spam_docs + 1) / (ham_docs + 1))
    weights: list[tuple[float, str]] = []
    for feature in features:
        spam, ham = counts.get(feature, (0, 0))
        if spam == 0 and ham == 0:
            continue  # never seen: says nothing
        weight = math.log((spam + 1) / (spam_docs + 2)) - math.log((ham + 1) / (ham_docs + 2))
        log_odds += weight
        weights.append((weight, feature))
    log_odds = max(-50.0, min(50.0, log_odds))
    probability = 1 / (1 + math.exp(-log_odds)) if total else 0.0
    toward = [(w, f) for w, f in weights if (w > 0) == (probability >= 0.5) and w != 0]
    toward.sort(key=lambda item: -abs(item[0]))
    words = tuple(f.removeprefix("host:") for _, f in toward[:REASON_WORDS])
    return Score(probability, words)


_COUNTS = select(SpamToken.token, SpamToken.spam, SpamToken.ham).where(
    SpamToken.token.in_(bindparam("tokens", expanding=True))
)


def _counts(connection: Connection, features: list[str]) -> dict[str, tuple[int, int]]:
    rows = connection.execute(_COUNTS, {"tokens": [*features, DOCS]})
    return {token: (spam, ham) for token, spam, ham in rows}


def score(connection: Connection, text: str) -> tuple[Score, int]:
    """A comment's score and how many decisions the model has learned (one query)."""
    features = tokens(text)
    counts = _counts(connection, features)
    spam_docs, ham_docs = counts.pop(DOCS, (0, 0))
    return score_from(features, counts, spam_docs, ham_docs), spam_docs + ham_docs


def decisions_learned() -> int:
    spam, ham = db.session.execute(
        select(SpamToken.spam, SpamToken.ham).where(SpamToken.token == DOCS)
    ).first() or (0, 0)
    return spam + ham


def record(comment_id: int, result: Score) -> None:
    """Keep the score a comment got when it was posted (the Rules page's figures)."""
    db.session.add(
        SpamScore(comment_id=comment_id, probability=result.probability, words=list(result.words))
    )


def stored(comment_ids: Iterable[int]) -> dict[int, SpamScore]:
    ids = list(comment_ids)
    if not ids:
        return {}
    return {
        s.comment_id: s
        for s in db.session.scalars(select(SpamScore).where(SpamScore.comment_id.in_(ids)))
    }


@dataclass(frozen=True)
class SpamSettings:
    """The admin's spam score thresholds (percent; None: never), and how many decisions
    the score must have learned before it acts."""

    hold_at: int | None = None
    send_at: int | None = None
    min_decisions: int = 200


# --- learning --------------------------------------------------------------------------


def label_for(state: CommentState, reason: str | None) -> bool | None:
    """What a moderator's decision teaches: True spam, False not spam, None nothing."""
    if state is CommentState.SPAM or (state is CommentState.REJECTED and reason == "spam"):
        return True
    if state is CommentState.APPROVED:
        return False
    return None


def learn_decision(comment_id: int, text: str, label: bool | None) -> None:
    """Bring the model in line with a comment's latest label (learn, unlearn, relabel)."""
    row = db.session.get(SpamLabel, comment_id)
    old = row.spam if row is not None else None
    if old == label:
        return
    features = tokens(text)
    if old is not None:
        _add(features, spam=old, delta=-1)
    if label is None:
        db.session.delete(row)
    else:
        _add(features, spam=label, delta=1)
        if row is None:
            db.session.add(SpamLabel(comment_id=comment_id, spam=label))
        else:
            row.spam = label


def _add(features: list[str], *, spam: bool, delta: int) -> None:
    column = "spam" if spam else "ham"
    rows = [
        {"token": token, "spam": delta if spam else 0, "ham": 0 if spam else delta}
        for token in sorted({*features, DOCS})  # a fixed order: no lock cycles
    ]
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SpamToken)
    stmt = stmt.on_conflict_do_update(
        index_elements=[SpamToken.token],
        set_={column: getattr(SpamToken, column) + getattr(stmt.excluded, column)},
    )
    db.session.execute(stmt, rows)


# --- how well it does --------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """The score's precision and recall on the comments moderators decided lately."""

    decided: int  # comments scored at posting and labelled by a moderator since
    true_positive: int
    false_positive: int
    false_negative: int
    threshold: int  # percent counted as "spam" (the hold threshold, else 50)

    @property
    def precision(self) -> float | None:
        flagged = self.true_positive + self.false_positive
        return self.true_positive / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        spam = self.true_positive + self.false_negative
        return self.true_positive / spam if spam else None


def figures(since: datetime, threshold: int) -> Figures:
    """Scores given at posting against moderators' labels, for comments decided by a
    moderator since ``since`` (one query)."""
    decided_since = (
        select(Decision.comment_id)
        .where(Decision.created_at >= since, Decision.moderator_id.is_not(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(SpamScore.probability, SpamLabel.spam)
        .join(SpamLabel, SpamLabel.comment_id == SpamScore.comment_id)
        .where(SpamScore.comment_id.in_(decided_since))
    ).all()
    tp = fp = fn = 0
    for probability, spam in rows:
        flagged = round(probability * 100) >= threshold
        tp += flagged and spam
        fp += flagged and not spam
        fn += spam and not flagged
    return Figures(len(rows), tp, fp, fn, threshold)
