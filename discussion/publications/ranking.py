"""Related publications: a deterministic, explainable ranking (pure Python, stdlib only).

Lists are computed when content changes (the seed import, ``refresh-related``) and stored by
the app, never per page view.

Score of a candidate ``c`` for a publication ``p``::

    W_TOPIC * |topics(p) & topics(c)| + W_TYPE * |types(p) & types(c)| + W_TEXT * cos(p, c)

``cos`` is the cosine of TF-IDF vectors over the title (each title token counted twice) and the
text, with sublinear term frequency ``1 + ln(tf)`` and smoothed inverse document frequency
``ln((1 + N) / (1 + df)) + 1`` (``N`` documents, ``df`` documents containing the term). Scores are
rounded to 4 decimals before anything compares them, so results never depend on float noise,
and every iteration that feeds a float sum runs in a fixed (sorted) order.

``Corpus`` builds the model and inverted indexes once; ``rank`` reads only the postings of the
document's own terms, topics and types (common terms as packed big-integer columns), picks the
candidates within reach of the top, and scores those exactly, as a brute-force ranking would.
"""

from __future__ import annotations

import datetime
import functools
import heapq
import math
import re
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

# Weights. Topics are editors' deliberate tags: one shared topic is the unit (1.0). The text
# cosine is in [0, 1]; on the seed content two articles on the same story (Khamenei rejecting U.S.
# overtures) reach ~0.2, articles on the same region/theme 0.04-0.1, unrelated ones ~0.02. With
# W_TEXT = 5.0 a same-story article is worth about one shared topic, and a near-duplicate beats
# any tags but several topics. Types ("Analysis", "Article") are formats shared by large parts of
# the archive: a weak hint, W_TYPE = 0.25 (a same-theme text match), so a shared format can break
# near-ties but never lift an unrelated piece above a same-story one.
W_TOPIC = 1.0
W_TYPE = 0.25
W_TEXT = 5.0

SCORE_DIGITS = 4
# Pruning slack: two rounding steps, so a pruned candidate can never tie the last place.
_MARGIN = 2 * 10.0**-SCORE_DIGITS
# Terms in at least 1/DENSE_FRACTION of the documents (and DENSE_MIN_DF) are also kept as packed
# columns (see Corpus), up to DENSE_BUDGET bytes; FIXED_BITS is their fixed-point precision.
DENSE_FRACTION = 32
DENSE_MIN_DF = 32
DENSE_BUDGET = 32 * 2**20
FIXED_BITS = 24
_FIXED = 1 << FIXED_BITS
MAX_TERMS = 8
MAX_TERM_LENGTH = 64  # longer "words" (run-together URLs, codes) are not index terms
MIN_TOKEN_LEN = 3

# Compact English stopword list (plus newsroom filler such as "said"). Words shorter than
# MIN_TOKEN_LEN are dropped anyway; "am", "pm", "eg", "ie" are listed because dotted
# abbreviations ("a.m.", "e.g.") are exempt from the length rule. Contractions appear without
# their apostrophe ("don't" -> "dont").
_STOPWORD_TEXT = """
    about above according across after again against all along also although among and another
    any are around because been before being below between both but can cannot could did does
    despite doing done down during each either else even ever every few for from further get
    gets got had has have having her here hers herself him himself his how however including
    into its itself just later least less like many more most much must myself neither nor not
    now off once one only onto other others our ours ourselves out over own per rather said same
    say says shall she should since some still such than that the their theirs them themselves
    then there these they this those though through thus too toward towards under until upon
    very via was were what whatever when where whether which while who whom whose why will with
    within without would yet you your yours yourself yourselves
    dont doesnt didnt isnt arent wasnt werent hasnt havent hadnt wont wouldnt cant couldnt
    shouldnt youre theyre youve theyve weve lets thats whats theres
    am pm eg ie etc
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Words ending in "s" that are not plurals (mostly names) and must not lose it.
NO_STEM = frozenset(
    {"alias", "atlas", "arkansas", "canvas", "caracas", "christmas", "hamas", "honduras", "kansas"}
    | {"series", "species", "texas", "vegas"}
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"})
# A dotted abbreviation ("u.s.", "u.k.") or a word of letters/digits with inner apostrophes.
_TOKEN_RE = re.compile(r"(?<!\w)(?:[^\W\d_]\.){2,}|[^\W_]+(?:'[^\W_]+)*")


def _fold(text: str) -> str:
    """Casefold, strip accents (NFKD minus combining marks) and unify apostrophes."""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return text.casefold().translate(_APOSTROPHES)


def _stem(word: str) -> str:
    """Light plural stemming of words over 4 letters (not -ss, -us, -is, nor NO_STEM).

    -ies -> -y; -sses, -xes, -ches, -shes lose -es; any other final -s is dropped.
    """
    if len(word) <= 4 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word in NO_STEM:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    return word[:-1]


def tokenize(text: str) -> list[str]:
    """Index terms of a text, in order.

    Rules: casefold and strip accents ("Café" -> "cafe"); a word is a run of letters/digits;
    a possessive "'s" with a straight or curly (U+2019) apostrophe is dropped ("Iran's" ->
    "iran") and other inner apostrophes are removed ("don't" -> "dont"); dotted abbreviations
    are joined and kept however short ("U.S." -> "us", "U.K." -> "uk"), while plain words shorter
    than 3 characters (including the pronoun "us") are dropped; stopwords are dropped; plurals
    of words over 4 letters are lightly stemmed ("tweets" -> "tweet", "policies" -> "policy").
    """
    return [term for term in map(_term, _TOKEN_RE.findall(_fold(text))) if term]


@functools.lru_cache(maxsize=1 << 16)
def _term(raw: str) -> str:
    """The index term of one folded raw token, or "" when it is dropped."""
    if raw.endswith("."):  # dotted abbreviation
        word = raw.replace(".", "")
        return "" if word in STOPWORDS else word
    word = raw[:-2] if raw.endswith("'s") else raw
    word = word.replace("'", "")
    if len(word) < MIN_TOKEN_LEN or word in STOPWORDS:
        return ""
    word = _stem(word)
    return "" if word in STOPWORDS else word


@dataclass(frozen=True)
class Doc:
    """One publication as the ranking sees it."""

    id: int
    title: str
    text: str  # dek + summary + body paragraphs joined, as the app gives it
    types: frozenset[str]
    topics: frozenset[str]
    published: datetime.date
    pins: tuple[int, ...] = ()  # editorially chosen related ids, in order
    listable: bool = True  # may appear in other documents' lists (drafts may not)
    excluded: frozenset[int] = frozenset()  # ids an editor never wants listed for this one
    counts: Mapping[str, int] | None = None  # term_counts(title, text), when already known


@dataclass(frozen=True)
class Match:
    """One related publication and why it is related."""

    related_id: int
    score: float  # rounded to SCORE_DIGITS
    pinned: bool
    shared_topics: tuple[str, ...]  # sorted
    shared_types: tuple[str, ...]  # sorted
    terms: tuple[str, ...]  # top shared terms by contribution to the cosine, ties alphabetical


def term_counts(title: str, text: str) -> Counter[str]:
    """A document's index terms and how often each occurs (title terms count double)."""
    tf = Counter(tokenize(title))
    tf += tf
    tf.update(tokenize(text))
    return Counter({t: c for t, c in tf.items() if len(t) <= MAX_TERM_LENGTH})


def idf(df: int, n: int) -> float:
    """Smoothed inverse document frequency of a term in ``df`` of ``n`` documents."""
    return math.log((1 + n) / (1 + df)) + 1.0


class Corpus:
    """TF-IDF model and inverted indexes over a fixed set of documents, built once.

    By default the documents are the whole collection. A part of it (the candidates for
    one list) gives the same scores as the whole when ``df`` and ``size`` give the
    collection's document frequencies and size.
    """

    def __init__(
        self,
        docs: Iterable[Doc],
        *,
        df: Mapping[str, int] | None = None,
        size: int | None = None,
    ) -> None:
        self._docs: list[Doc] = sorted(docs, key=lambda d: d.id)
        self._pos: dict[int, int] = {d.id: i for i, d in enumerate(self._docs)}
        if len(self._pos) != len(self._docs):
            raise ValueError("duplicate document ids")
        counts: list[Counter[str]] = []
        local_df: Counter[str] = Counter()
        for doc in self._docs:
            if isinstance(doc.counts, Counter):
                tf = doc.counts  # kept, not copied: the model never changes it
            elif doc.counts is not None:
                tf = Counter(doc.counts)
            else:
                tf = term_counts(doc.title, doc.text)
            counts.append(tf)
            local_df.update(tf.keys())
        self._counts = counts
        n = len(self._docs) if size is None else size
        known = local_df if df is None else df
        idfs = {term: idf(max(known.get(term, 0), d), n) for term, d in local_df.items()}
        # Vectors are dicts built in sorted term order, so every sum over them is reproducible.
        self._vectors: list[dict[str, float]] = []
        self._post_ids: dict[str, list[int]] = {}
        self._post_weights: dict[str, list[float]] = {}
        for i, tf in enumerate(counts):
            raw = {t: (1.0 + math.log(tf[t])) * idfs[t] for t in sorted(tf)}
            norm = math.sqrt(sum(w * w for w in raw.values()))
            vector = {t: w / norm for t, w in raw.items()} if norm else {}
            self._vectors.append(vector)
            for term, weight in vector.items():
                self._post_ids.setdefault(term, []).append(i)
                self._post_weights.setdefault(term, []).append(weight)
        self._columns = self._pack_columns(local_df)
        self._unlisted = frozenset(i for i, d in enumerate(self._docs) if not d.listable)
        self._topic_posts = self._label_postings(lambda d: d.topics)
        self._type_posts = self._label_postings(lambda d: d.types)

    def _pack_columns(self, df: Counter[str]) -> dict[str, int]:
        """Packed columns of the most common terms, whose long postings rank() would walk slowly.

        The column of a term is one integer holding, in 64-bit field ``j``, the term's weight in
        document ``j`` in fixed point (``FIXED_BITS``). ``sum(q_t * column_t)`` over a query's
        terms then holds every document's dot product with the query, approximately, computed
        by CPython's big-integer arithmetic in C (fields cannot overflow: the products add up
        to at most ~2**(2 * FIXED_BITS + 1)).
        """
        n = len(self._docs)
        threshold = max(DENSE_MIN_DF, n // DENSE_FRACTION)
        room = DENSE_BUDGET // (8 * n) if n else 0
        common = sorted((t for t, d in df.items() if d >= threshold), key=lambda t: (-df[t], t))
        columns: dict[str, int] = {}
        for term in common[:room]:
            fields = array("Q", bytes(8 * n))
            for j, weight in zip(self._post_ids[term], self._post_weights[term], strict=True):
                fields[j] = round(weight * _FIXED)
            if sys.byteorder == "big":
                fields.byteswap()
            columns[term] = int.from_bytes(fields.tobytes(), "little")
            del self._post_weights[term]  # rank() reads the column instead
        return columns

    def _label_postings(self, labels_of: Callable[[Doc], frozenset[str]]) -> dict[str, list[int]]:
        posts: dict[str, list[int]] = {}
        for i, doc in enumerate(self._docs):
            for label in labels_of(doc):
                posts.setdefault(label, []).append(i)
        return posts

    def _index(self, doc_id: int) -> int:
        try:
            return self._pos[doc_id]
        except KeyError:
            raise KeyError(f"unknown document id {doc_id}") from None

    def _cosine(self, i: int, j: int) -> float:
        """Cosine of two documents, summed over shared terms in sorted order (symmetric)."""
        a, b = self._vectors[i], self._vectors[j]
        if len(b) < len(a):
            a, b = b, a
        total = 0.0
        for term, weight in a.items():
            other = b.get(term)
            if other is not None:
                total += weight * other
        return total

    def _score(self, i: int, j: int, cosine: float) -> float:
        a, b = self._docs[i], self._docs[j]
        raw = W_TOPIC * len(a.topics & b.topics) + W_TYPE * len(a.types & b.types) + W_TEXT * cosine
        return round(raw, SCORE_DIGITS)

    def _match(self, i: int, j: int, score: float, pinned: bool) -> Match:
        a, b = self._docs[i], self._docs[j]
        va, vb = self._vectors[i], self._vectors[j]
        products = [(round(w * vb[t], 12), t) for t, w in va.items() if t in vb]
        top = sorted(products, key=lambda p: (-p[0], p[1]))[:MAX_TERMS]
        return Match(
            related_id=b.id,
            score=score,
            pinned=pinned,
            shared_topics=tuple(sorted(a.topics & b.topics)),
            shared_types=tuple(sorted(a.types & b.types)),
            terms=tuple(t for _, t in top),
        )

    def rank(self, doc_id: int, limit: int = 4, among: Iterable[int] | None = None) -> list[Match]:
        """Up to ``limit`` related publications: valid pins in pin order, then the best scores.

        Unpinned candidates are ordered by score (desc), then newer ``published``, then lower id;
        a score of 0 is never listed. Only the postings of this document's own terms, topics and
        types are read (those of common terms as packed columns); with ``among``, only those
        documents are candidates, each scored exactly, and no postings are read.
        """
        i = self._index(doc_id)
        if limit <= 0:
            return []
        pins: list[int] = []
        for pin in self._docs[i].pins:
            j = self._pos.get(pin)
            if j is not None and j != i and j not in pins:
                pins.append(j)
        pins = pins[:limit]
        result = [self._match(i, j, self._score(i, j, self._cosine(i, j)), True) for j in pins]
        room = limit - len(result)
        if room <= 0:
            return result

        if among is None:
            best = self._best(i, room, exclude=set(pins))
        else:
            left_out = self._left_out(i, set(pins))
            chosen = {self._pos[c] for c in among if c in self._pos}
            best = self._top(
                i, room, (j for j in chosen if j not in left_out and j not in self._unlisted)
            )
        result.extend(self._match(i, j, score, False) for score, j in best)
        return result

    def _best(self, i: int, room: int, exclude: set[int]) -> list[tuple[float, int]]:
        """The ``room`` best (score, index) candidates for document ``i``, best first.

        Dot products come from the short postings lists and the packed columns of common terms
        (approximate to ~1e-7 per term); they only select the candidates within reach of the
        last place, which then get the canonical score (``_score`` of ``_cosine``), so the result
        equals a brute-force ranking.
        """
        doc = self._docs[i]
        dots: dict[int, float] = {}
        packed, packed_terms = 0, 0
        for term, weight in self._vectors[i].items():
            column = self._columns.get(term)
            if column is not None:
                packed += column * round(weight * _FIXED)
                packed_terms += 1
                continue
            for j, other in zip(self._post_ids[term], self._post_weights[term], strict=True):
                dots[j] = dots.get(j, 0.0) + weight * other
        if packed:
            fields = array("Q")
            fields.frombytes(packed.to_bytes(8 * len(self._docs), "little"))
            if sys.byteorder == "big":
                fields.byteswap()
            scale = 1.0 / (_FIXED * _FIXED)
            for j, value in enumerate(fields):
                if value:
                    dots[j] = dots.get(j, 0.0) + value * scale

        approx = {j: W_TEXT * dot for j, dot in dots.items()}
        # Topic and type part (sorted: even these float sums run in a fixed order).
        for label in sorted(doc.topics):
            for j in self._topic_posts[label]:
                approx[j] = approx.get(j, 0.0) + W_TOPIC
        for label in sorted(doc.types):
            for j in self._type_posts[label]:
                approx[j] = approx.get(j, 0.0) + W_TYPE
        for j in (*self._left_out(i, exclude), *self._unlisted):
            approx.pop(j, None)
        if len(approx) < room:
            floor = -math.inf
        else:
            # Each packed term may be off by 2**-FIXED_BITS on either side of the comparison.
            slack = _MARGIN + 2 * W_TEXT * packed_terms / _FIXED
            floor = heapq.nlargest(room, approx.values())[-1] - slack
        return self._top(i, room, (j for j, value in approx.items() if value >= floor))

    def _left_out(self, i: int, exclude: set[int]) -> set[int]:
        """Indexes never listed for document ``i`` besides the unlisted ones: itself,
        ``exclude`` (its pins) and those an editor excluded."""
        excluded = {self._pos[e] for e in self._docs[i].excluded if e in self._pos}
        return {*exclude, i, *excluded}

    def _top(self, i: int, room: int, candidates: Iterable[int]) -> list[tuple[float, int]]:
        """The ``room`` best candidates by exact score (desc), newer, lower id."""
        scored: list[tuple[float, int, int, int]] = []
        for j in candidates:
            score = self._score(i, j, self._cosine(i, j))
            if score > 0:
                other = self._docs[j]
                scored.append((-score, -other.published.toordinal(), other.id, j))
        return [(-neg, j) for neg, _, _, j in heapq.nsmallest(room, scored)]

    def doc(self, doc_id: int) -> Doc:
        """One document as given."""
        return self._docs[self._index(doc_id)]

    def ids(self) -> list[int]:
        """The documents' ids, in order."""
        return [d.id for d in self._docs]

    def counts(self, doc_id: int) -> Counter[str]:
        """A document's index terms and their counts."""
        return self._counts[self._index(doc_id)]

    def pair(self, doc_id: int, other_id: int) -> Match:
        """How ``other_id`` scores as related to ``doc_id`` (unpinned), and why."""
        i, j = self._index(doc_id), self._index(other_id)
        return self._match(i, j, self._score(i, j, self._cosine(i, j)), False)

    def vector(self, doc_id: int) -> Mapping[str, float]:
        """A document's normalised TF-IDF weights, by term (the model's own, not a copy:
        a refresh reads every document's)."""
        return self._vectors[self._index(doc_id)]

    def rank_all(self, limit: int = 4) -> dict[int, list[Match]]:
        """The related list of every document, keyed by id (in id order)."""
        return {doc.id: self.rank(doc.id, limit) for doc in self._docs}
