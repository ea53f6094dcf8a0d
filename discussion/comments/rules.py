"""The moderation rules engine: decide a new comment's state and say why it is held.

Pure functions over plain values (stdlib and markupsafe only). The caller gathers the
facts into a :class:`Submission`, calls :func:`evaluate` and stores the resulting state
together with every :class:`Hold`, so moderators see why a comment is in the queue.
Rule names (the keys of :data:`RULES`) are stored in the database: never rename them.

Word matching folds case and accents (NFKD, combining marks dropped, casefold) and maps
every match back to the exact span of the original text, so it can be highlighted.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

__all__ = [
    "RULES",
    "Hold",
    "RuleSettings",
    "Submission",
    "Verdict",
    "comments_closed",
    "evaluate",
    "find_links",
    "find_words",
    "fold",
    "highlight",
    "link_host",
    "parse_list",
    "untrusted_links",
]

#: Rule name -> label for moderators, in display order (holds are reported in this order).
RULES: dict[str, str] = {
    "honeypot": "Hidden field filled (bot)",
    "blocked": "Blocked author",
    "banned_words": "Banned word",
    "premoderation": "Pre-moderation",
    "links": "Too many links",
    "suspect_words": "Suspect word",
    "duplicate": "Duplicate",
    "moderate_after": "Old publication",
    "author_premoderation": "Author always held",
    "topic": "Topic rule",
    "spam_score": "Spam score",
}


@dataclass(frozen=True)
class RuleSettings:
    """The site's moderation settings (admin-editable)."""

    premoderation: bool = True
    auto_approve_known_authors: bool = False
    # ...and then only when the address was confirmed by mail (anyone can type an email).
    known_authors_confirmed_only: bool = True
    max_links: int = 2
    trusted_domains: tuple[str, ...] = ()
    suspect_words: tuple[str, ...] = ()
    banned_words: tuple[str, ...] = ()
    moderate_after_days: int | None = None
    close_after_days: int | None = None


@dataclass(frozen=True)
class Submission:
    """The facts about one new comment that the rules look at."""

    body: str
    honeypot: bool
    published: datetime.date
    premoderation: bool | None
    author_has_approved: bool
    duplicate: bool
    today: datetime.date
    # Set by the caller from moderators' sanctions and other signals: the sentence that
    # explains each hold, or None.
    blocked: str | None = None  # a blocked author: refused (rejected), recorded
    author_held: str | None = None  # an author always pre-moderated
    spam: str | None = None  # the spam score is over the admin's "send to spam" threshold
    extra: tuple[Hold, ...] = ()  # holds from rules outside this module (topic, score)


@dataclass(frozen=True)
class Hold:
    """One rule that fired: its name, a sentence for moderators and what it matched."""

    rule: str
    detail: str
    matches: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The state a new comment gets and every rule that fired, in :data:`RULES` order."""

    state: str
    holds: tuple[Hold, ...]


# --- Decision -----------------------------------------------------------------------------


def evaluate(submission: Submission, settings: RuleSettings) -> Verdict:
    """Apply every rule: honeypot -> spam, banned word -> rejected, any hold -> pending."""
    holds: dict[str, Hold] = {}
    body = submission.body
    if submission.honeypot:
        holds["honeypot"] = Hold("honeypot", "The hidden form field was filled in, as bots do.")
    banned = _word_hold("banned_words", body, settings.banned_words)
    if banned is not None:
        holds["banned_words"] = banned
    premoderation = _premoderation_hold(submission, settings)
    if premoderation is not None:
        holds["premoderation"] = premoderation
    links = untrusted_links(body, settings.trusted_domains)
    if len(links) > settings.max_links:
        count = len(links)
        what = "link to an untrusted site" if count == 1 else "links to untrusted sites"
        holds["links"] = Hold(
            "links",
            f"{count} {what} (more than {settings.max_links})",
            _unique(url for _, _, url in links),
        )
    suspect = _word_hold("suspect_words", body, settings.suspect_words)
    if suspect is not None:
        holds["suspect_words"] = suspect
    if submission.duplicate:
        holds["duplicate"] = Hold(
            "duplicate", "The same text came from the same email or address within a day."
        )
    limit = settings.moderate_after_days
    age = (submission.today - submission.published).days
    if limit is not None and age > limit:
        holds["moderate_after"] = Hold(
            "moderate_after",
            f"Published {age} {_days(age)} ago (comments held after {limit} {_days(limit)})",
        )

    if submission.blocked:
        holds["blocked"] = Hold("blocked", submission.blocked)
    if submission.author_held:
        holds["author_premoderation"] = Hold("author_premoderation", submission.author_held)
    if submission.spam:
        holds["spam_score"] = Hold("spam_score", submission.spam)
    for extra in submission.extra:
        holds.setdefault(extra.rule, extra)

    ordered = tuple(holds[name] for name in RULES if name in holds)
    if "honeypot" in holds or submission.spam:
        state = "spam"
    elif "banned_words" in holds or "blocked" in holds:
        state = "rejected"
    elif ordered:
        state = "pending"
    else:
        state = "approved"
    return Verdict(state, ordered)


def comments_closed(published: datetime.date, settings: RuleSettings, today: datetime.date) -> bool:
    """True once ``close_after_days`` have elapsed: ``(today - published).days >= N``."""
    limit = settings.close_after_days
    return limit is not None and (today - published).days >= limit


def _premoderation_hold(submission: Submission, settings: RuleSettings) -> Hold | None:
    if submission.premoderation is not None:
        enabled, source = submission.premoderation, "this publication"
    else:
        enabled, source = settings.premoderation, "the site"
    if not enabled or (settings.auto_approve_known_authors and submission.author_has_approved):
        return None
    return Hold("premoderation", f"Pre-moderation is on for {source}.")


def _word_hold(rule: str, text: str, words: Iterable[str]) -> Hold | None:
    matches = _unique(text[start:end] for start, end in find_words(text, words))
    if not matches:
        return None
    shown = ", ".join(" ".join(match.split()) for match in matches)
    return Hold(rule, f"Matched: {shown}", matches)


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _days(count: int) -> str:
    return "day" if abs(count) == 1 else "days"


# --- Words --------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """One character folded: NFKD, combining marks dropped, casefolded (may be "" or longer)."""
    folded = _strip_marks(char).casefold()
    return folded if folded.isascii() else _strip_marks(folded)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """Case- and accent-fold ``text`` ("Café" and "CAFE\u0301" both give "cafe")."""
    return "".join(_fold_char(char) for char in text)


def _is_word(char: str) -> bool:
    """A letter, digit, underscore (``\\w``) or a mark that belongs to a letter."""
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


@lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str] | None:
    """Every (overlapping) occurrence of a folded word; whitespace runs match any run."""
    tokens = fold(word).split()
    if not tokens:
        return None
    return re.compile(r"(?=(" + r"\s+".join(map(re.escape, tokens)) + "))")


def find_words(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    """Spans of ``text`` holding any of ``words`` as whole words, case and accents folded.

    A match may not touch a letter, digit, underscore or mark on either side (checked on
    the folded text) and may not split an original character (a word "1" does not match
    "½"). Combining marks right after a match belong to it. Overlapping and adjacent spans
    are merged; the result is sorted.
    """
    patterns = [p for p in dict.fromkeys(map(_word_pattern, words)) if p is not None]
    if not patterns or not text:
        return []
    pieces = [_fold_char(char) for char in text]
    folded = "".join(pieces)
    owner = [index for index, piece in enumerate(pieces) for _ in piece]
    size = len(folded)
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        for match in pattern.finditer(folded):
            start, end = match.span(1)
            if start > 0 and (_is_word(folded[start - 1]) or owner[start - 1] == owner[start]):
                continue
            if end < size and (_is_word(folded[end]) or owner[end] == owner[end - 1]):
                continue
            stop = owner[end - 1] + 1
            while stop < len(text) and not pieces[stop]:
                stop += 1
            spans.append((owner[start], stop))
    return _merge(spans)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# --- Links --------------------------------------------------------------------------------

_URL_CHARS = r"[^\s<>\"'`]"
_LINK_RE = re.compile(
    # A Markdown link or image: the target (one level of parentheses allowed), then
    # an optional title. The link text is not scanned, so "[http://a](http://b)" is one link.
    r"!?\[(?:[^\[\]\\]|\\.)*\]\(\s*<?(?P<md>(?:[^\s<>()]|\([^\s<>()]*\))+)>?"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
    rf"|(?P<url>\bhttps?://{_URL_CHARS}+)"
    rf"|(?<![\w.@/-])(?P<www>www\.\w{_URL_CHARS}*)",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?*_~'\""
_CLOSERS = {")": "(", "]": "["}
_SCHEME_RE = re.compile(r"[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


def _trim(url: str) -> str:
    """Drop punctuation that ends a sentence rather than the URL (and unbalanced brackets)."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])):
            url = url[:-1]
        else:
            break
    return url


def find_links(text: str) -> list[tuple[int, int, str]]:
    """Links in raw comment text as ``(start, end, url)``, one per occurrence, in order.

    Finds http(s):// URLs, bare ``www.`` hosts and Markdown ``[text](target)`` targets;
    for a Markdown link the span is its target. Sentence punctuation after a bare URL is
    not part of it.
    """
    links: list[tuple[int, int, str]] = []
    for match in _LINK_RE.finditer(text):
        group = next(name for name in ("md", "url", "www") if match.group(name) is not None)
        start = match.start(group)
        url = match.group(group) if group == "md" else _trim(match.group(group))
        if group == "md" or link_host(url):
            links.append((start, start + len(url), url))
    return links


def link_host(url: str) -> str:
    """The lowercase host of ``url`` without port, user or "www."; "" when it has none.

    Accepts absolute (``https://host/...``), protocol-relative (``//host``) and bare
    ``www.host`` URLs; anything else (relative paths, ``mailto:``) has no host.
    """
    url = url.strip()
    scheme = _SCHEME_RE.match(url)
    if scheme:
        rest = url[scheme.end() :]
    elif url.startswith("//"):
        rest = url[2:]
    elif url[:4].lower() == "www.":
        rest = url
    else:
        return ""
    authority = re.split(r"[/?#\\]", rest, maxsplit=1)[0].rpartition("@")[2]
    if authority.startswith("["):
        host = authority[1:].partition("]")[0]
    else:
        host = authority.partition(":")[0]
    host = host.lower().rstrip(".")
    return host.removeprefix("www.")


def _domain(entry: str) -> str:
    """A trusted-domain entry as a bare host: "https://www.Example.org/" -> "example.org"."""
    entry = entry.strip().lstrip("*").lstrip(".")
    return link_host(entry if _SCHEME_RE.match(entry) else f"//{entry}")


def untrusted_links(text: str, trusted: Iterable[str]) -> list[tuple[int, int, str]]:
    """The links of :func:`find_links` whose host is neither a trusted domain nor under one.

    Links without a host (relative paths, ``mailto:``) never count as untrusted.
    """
    domains = {domain for domain in map(_domain, trusted) if domain}
    result = []
    for link in find_links(text):
        host = link_host(link[2])
        if host and not any(host == d or host.endswith(f".{d}") for d in domains):
            result.append(link)
    return result


# --- Presentation -------------------------------------------------------------------------


def highlight(text: str, spans: Iterable[tuple[int, int]]) -> Markup:
    """``text`` HTML-escaped with each span wrapped in ``<mark>``.

    Spans may be unsorted, overlap or run past the text; empty spans are ignored. Each
    piece is escaped separately, so a span edge never splits an entity.
    """
    size = len(text)
    clipped = ((max(0, start), min(size, end)) for start, end in spans)
    parts: list[str] = []
    position = 0
    for start, end in _merge((start, end) for start, end in clipped if start < end):
        parts += [escape(text[position:start]), "<mark>", escape(text[start:end]), "</mark>"]
        position = end
    parts.append(escape(text[position:]))
    return Markup("".join(parts))


def parse_list(text: str) -> tuple[str, ...]:
    """An admin's textarea as entries: one per line or comma-separated, stripped, without
    blanks or (case-insensitive) duplicates, in the order given."""
    entries: dict[str, str] = {}
    for raw in re.split(r"[,\n\r]", text):
        entry = raw.strip()
        if entry:
            entries.setdefault(entry.casefold(), entry)
    return tuple(entries.values())
