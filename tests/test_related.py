"""Tests for discussion.publications.ranking: tokenizer, ranking, explanations, scale."""

from __future__ import annotations

import datetime
import math
import random
from collections import Counter
from pathlib import Path

import pytest

from discussion.publications.ranking import (
    MAX_TERMS,
    SCORE_DIGITS,
    W_TEXT,
    W_TOPIC,
    W_TYPE,
    Corpus,
    Doc,
    Match,
    tokenize,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
DAY = datetime.date(2020, 1, 1)


def doc(
    id: int,
    text: str = "",
    *,
    title: str = "",
    types: tuple[str, ...] = (),
    topics: tuple[str, ...] = (),
    published: datetime.date = DAY,
    pins: tuple[int, ...] = (),
) -> Doc:
    return Doc(id, title, text, frozenset(types), frozenset(topics), published, pins)


def ids(matches: list[Match]) -> list[int]:
    return [m.related_id for m in matches]


# --- tokenizer -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Iran's supreme leader", ["iran", "supreme", "leader"]),
        ("Khamenei\u2019s tweets", ["khamenei", "tweet"]),
        ("IRAN\u2019S Khamenei's", ["iran", "khamenei"]),
        ("Café DÉJÀ Señor naïve", ["cafe", "deja", "senor", "naive"]),
        ("The AND of it, is to be", []),
        ("I don\u2019t think we aren't", ["think"]),
        ("U.S.-Iran talks; the U.K. and us", ["us", "iran", "talk", "uk"]),
        ("ISIS Isis isis", ["isis", "isis", "isis"]),
        (
            "policies crisis status Hamas churches",
            ["policy", "crisis", "status", "hamas", "church"],
        ),
        ("Feb. 26 in 2024, 30 comments", ["feb", "2024", "comment"]),
        ("said Obama, according to the AP", ["obama"]),
    ],
)
def test_tokenize(text: str, expected: list[str]) -> None:
    assert tokenize(text) == expected


# --- pins ----------------------------------------------------------------------------------


def test_pins_come_first_in_pin_order_with_scores_and_explanations() -> None:
    corpus = Corpus(
        [
            doc(1, "khamenei twitter talks", topics=("Iran",), pins=(4, 2)),
            doc(2, "football final"),
            doc(3, "khamenei twitter talks", topics=("Iran",)),
            doc(4, "khamenei rejects talks", topics=("Iran",)),
        ]
    )
    ranked = corpus.rank(1)
    assert ids(ranked) == [4, 2, 3]
    assert [m.pinned for m in ranked] == [True, True, False]
    assert ranked[0].score > 0 and ranked[0].shared_topics == ("Iran",)
    assert ranked[0].terms == ("khamenei", "talk")
    assert ranked[1] == Match(2, 0.0, True, (), (), ())  # pinned though nothing is shared


def test_pins_to_self_unknown_and_repeated_ids_are_ignored() -> None:
    corpus = Corpus(
        [
            doc(1, "alpha bravo", pins=(1, 99, 3, 3, 2)),
            doc(2, "alpha"),
            doc(3, "charlie"),
        ]
    )
    ranked = corpus.rank(1)
    assert ids(ranked) == [3, 2]
    assert [m.pinned for m in ranked] == [True, True]


def test_pins_beyond_the_limit_are_cut() -> None:
    corpus = Corpus([doc(1, "alpha", pins=(5, 4, 3, 2)), *(doc(i, "alpha") for i in range(2, 6))])
    assert ids(corpus.rank(1, limit=2)) == [5, 4]


# --- scoring and order -----------------------------------------------------------------------


def test_shared_topic_outweighs_nothing_shared() -> None:
    corpus = Corpus(
        [
            doc(1, "reconciliation in colombia", topics=("Peace Processes",)),
            doc(2, "harvest of wheat", topics=("Peace Processes",)),
            doc(3, "recipe for soup"),
        ]
    )
    ranked = corpus.rank(1)
    assert ids(ranked) == [2]
    assert ranked[0].score == W_TOPIC
    assert ranked[0].shared_topics == ("Peace Processes",)


def test_text_similarity_ranks_the_same_person_first() -> None:
    corpus = Corpus(
        [
            doc(
                1,
                "Supreme Leader Ayatollah Ali Khamenei rejected direct talks with the United "
                "States in a series of tweets.",
                title="Khamenei rejects talks on Twitter",
                types=("Analysis",),
            ),
            doc(
                2,
                "Iran's supreme leader, Ayatollah Ali Khamenei, rejected a U.S. bid to "
                "coordinate against ISIS, criticizing Obama on Twitter.",
                title="Iran rejects U.S. bid",
                types=("Analysis",),
            ),
            doc(
                3,
                "The league leader rejected the referee's report after the cup final.",
                title="Cup final report",
                types=("Analysis",),
            ),
        ]
    )
    ranked = corpus.rank(1)
    assert ids(ranked) == [2, 3]
    assert ranked[0].score > ranked[1].score
    assert {"khamenei", "ayatollah", "supreme"} <= set(ranked[0].terms)


def test_ties_break_by_recency_then_lower_id() -> None:
    corpus = Corpus(
        [
            doc(1, "alpha bravo charlie"),
            doc(10, "alpha delta", published=datetime.date(2020, 1, 1)),
            doc(11, "alpha delta", published=datetime.date(2021, 1, 1)),
            doc(5, "alpha delta", published=datetime.date(2021, 1, 1)),
            doc(7, "alpha delta", published=datetime.date(2019, 1, 1)),
        ]
    )
    ranked = corpus.rank(1)
    assert len({m.score for m in ranked}) == 1
    assert ids(ranked) == [5, 11, 10, 7]


def test_zero_scores_are_never_listed() -> None:
    corpus = Corpus(
        [
            doc(1, "alpha", topics=("A",), types=("Analysis",)),
            doc(2, "bravo", topics=("B",), types=("Report",)),
            doc(3, "charlie"),
            doc(4, "alpha"),
        ]
    )
    assert ids(corpus.rank(1)) == [4]
    assert corpus.rank(2) == []
    assert corpus.rank(3) == []


def test_limit_is_respected() -> None:
    corpus = Corpus(doc(i, f"alpha w{i}x") for i in range(1, 9))
    assert len(corpus.rank(1)) == 4
    assert len(corpus.rank(1, limit=2)) == 2
    assert len(corpus.rank(1, limit=7)) == 7
    assert len(corpus.rank(1, limit=50)) == 7
    assert corpus.rank(1, limit=0) == []
    assert all(len(v) == 3 for v in corpus.rank_all(limit=3).values())


def test_explanation_fields_on_a_small_corpus() -> None:
    shared = "mango zebra apple kiwi kiwi kiwi"
    corpus = Corpus(
        [
            doc(
                1,
                f"{shared} quince",
                topics=("Iran", "Global Policy", "Youth"),
                types=("Analysis", "Question and Answer"),
            ),
            doc(
                2,
                f"{shared} walnut",
                topics=("Youth", "Iran", "Gender"),
                types=("Question and Answer", "Analysis"),
            ),
            doc(3, "quince walnut", topics=("Gender",), types=("Report",)),
        ]
    )
    best = corpus.rank(1)[0]
    assert best.related_id == 2
    assert best.shared_topics == ("Iran", "Youth")
    assert best.shared_types == ("Analysis", "Question and Answer")
    # kiwi has the highest tf on both sides; the others tie and come alphabetically.
    assert best.terms == ("kiwi", "apple", "mango", "zebra")
    assert "quince" not in best.terms and "walnut" not in best.terms
    assert 2 * W_TOPIC + 2 * W_TYPE < best.score < 2 * W_TOPIC + 2 * W_TYPE + W_TEXT
    other = corpus.rank(3)
    assert [(m.related_id, m.shared_topics, m.terms) for m in other] == [
        (2, ("Gender",), ("walnut",)),
        (1, (), ("quince",)),
    ]


def test_identical_documents_score_the_full_weights() -> None:
    text = "khamenei rejects talks on twitter"
    corpus = Corpus(
        [
            doc(1, text, topics=("A", "B"), types=("Analysis",)),
            doc(2, text, topics=("A", "B"), types=("Analysis",)),
        ]
    )
    assert corpus.rank(1)[0].score == round(2 * W_TOPIC + W_TYPE + W_TEXT, SCORE_DIGITS)


def test_terms_are_capped() -> None:
    words = " ".join(f"word{chr(97 + k)}" for k in range(12))
    corpus = Corpus([doc(1, words), doc(2, words), doc(3, "other")])
    terms = corpus.rank(1)[0].terms
    assert len(terms) == MAX_TERMS
    assert list(terms) == sorted(terms)


def test_unknown_and_duplicate_ids() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        Corpus([doc(1, "a"), doc(1, "b")])
    corpus = Corpus([doc(1, "alpha")])
    with pytest.raises(KeyError):
        corpus.rank(2)


# --- determinism ---------------------------------------------------------------------------


def random_corpus(rng: random.Random, n: int, vocabulary: list[str], words: int) -> list[Doc]:
    topics = [f"Topic {k}" for k in range(8)]
    types = ["Analysis", "Question and Answer", "Report", "Article"]
    docs = []
    for i in range(1, n + 1):
        docs.append(
            Doc(
                id=i,
                title=" ".join(rng.choices(vocabulary, k=5)),
                text=" ".join(rng.choices(vocabulary, k=words)),
                types=frozenset(rng.sample(types, rng.randint(0, 2))),
                topics=frozenset(rng.sample(topics, rng.randint(0, 3))),
                published=DAY + datetime.timedelta(days=rng.randint(0, 60)),
                pins=tuple(rng.sample(range(0, n + 3), rng.choice([0, 0, 0, 1, 2]))),
            )
        )
    return docs


def test_shuffled_input_gives_identical_output() -> None:
    rng = random.Random(11)
    vocabulary = [f"term{chr(97 + a)}{chr(97 + b)}" for a in range(5) for b in range(5)]
    docs = random_corpus(rng, 80, vocabulary, 20)
    expected = Corpus(docs).rank_all()
    for _ in range(3):
        rng.shuffle(docs)
        assert Corpus(docs).rank_all() == expected
    for matches in expected.values():
        for m in matches:
            assert m.score == round(m.score, SCORE_DIGITS)
            assert list(m.shared_topics) == sorted(m.shared_topics)
            assert list(m.shared_types) == sorted(m.shared_types)


# --- agreement with a brute-force reference at scale ---------------------------------------


class Reference:
    """Straightforward all-pairs implementation of the documented scoring."""

    def __init__(self, docs: list[Doc]) -> None:
        self.docs = {d.id: d for d in docs}
        counts = {}
        for d in docs:
            tf = Counter(tokenize(d.title) * 2 + tokenize(d.text))
            counts[d.id] = tf
        df = Counter(t for tf in counts.values() for t in tf)
        n = len(docs)
        self.vectors: dict[int, dict[str, float]] = {}
        for doc_id, tf in counts.items():
            raw = {
                t: (1 + math.log(c)) * (math.log((1 + n) / (1 + df[t])) + 1)
                for t, c in sorted(tf.items())
            }
            norm = math.sqrt(sum(w * w for w in raw.values()))
            self.vectors[doc_id] = {t: w / norm for t, w in raw.items()}

    def match(self, a: Doc, b: Doc, pinned: bool) -> Match:
        va, vb = self.vectors[a.id], self.vectors[b.id]
        shared = sorted(va.keys() & vb.keys())
        cosine = 0.0
        for t in shared:
            cosine += va[t] * vb[t]
        topics, types = a.topics & b.topics, a.types & b.types
        score = W_TOPIC * len(topics) + W_TYPE * len(types) + W_TEXT * cosine
        # Products equal but for float noise (12 digits) tie, and ties go alphabetically.
        terms = sorted(shared, key=lambda t: (-round(va[t] * vb[t], 12), t))[:MAX_TERMS]
        return Match(
            b.id,
            round(score, SCORE_DIGITS),
            pinned,
            tuple(sorted(topics)),
            tuple(sorted(types)),
            tuple(terms),
        )

    def rank(self, doc_id: int, limit: int) -> list[Match]:
        a = self.docs[doc_id]
        pins: list[int] = []
        for p in a.pins:
            if p in self.docs and p != doc_id and p not in pins:
                pins.append(p)
        pins = pins[:limit]
        result = [self.match(a, self.docs[p], True) for p in pins]
        others = [
            self.match(a, b, False)
            for b in self.docs.values()
            if b.id != doc_id and b.id not in pins
        ]
        others = [m for m in others if m.score > 0]
        others.sort(
            key=lambda m: (-m.score, -self.docs[m.related_id].published.toordinal(), m.related_id)
        )
        return (result + others)[:limit]


def test_rank_agrees_with_brute_force_on_2000_synthetic_docs() -> None:
    rng = random.Random(20240130)
    syllables = ["ka", "lo", "mi", "ra", "ten", "vo", "dul", "pri", "sam", "gor", "bel", "nix"]
    vocabulary = sorted(
        {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(3000)}
    )
    zipf = [1 / (rank + 1) for rank in range(len(vocabulary))]
    docs = []
    for i in range(1, 2001):
        docs.append(
            Doc(
                id=i,
                title=" ".join(rng.choices(vocabulary, zipf, k=6)),
                text=" ".join(rng.choices(vocabulary, zipf, k=150)),
                types=frozenset(rng.sample(["Analysis", "Report", "Article"], rng.randint(0, 2))),
                topics=frozenset(rng.sample([f"Topic {k}" for k in range(12)], rng.randint(0, 3))),
                published=DAY + datetime.timedelta(days=rng.randint(0, 3000)),
                pins=tuple(rng.sample(range(1, 2010), rng.choice([0, 0, 0, 1, 3]))),
            )
        )
    corpus = Corpus(docs)
    reference = Reference(docs)
    for doc_id in rng.sample(range(1, 2001), 30):
        assert corpus.rank(doc_id) == reference.rank(doc_id, 4), doc_id
    for doc_id in rng.sample(range(1, 2001), 5):
        assert corpus.rank(doc_id, limit=12) == reference.rank(doc_id, 12), doc_id


# --- the seed articles ---------------------------------------------------------------------

DECOYS = {
    3: (
        "Drought-resistant wheat lifts harvests",
        "Farmers across the plains planted drought-resistant wheat this season. Agronomists "
        "credit the new seed, careful irrigation and crop rotation for higher yields per acre "
        "despite a dry summer, and grain cooperatives expect record harvests.",
    ),
    4: (
        "Late header sends United into the cup final",
        "A header in the ninetieth minute sent United into the cup final on Saturday. The "
        "striker rose above two defenders to meet a corner kick, and the manager praised the "
        "squad's fitness before the final at the national stadium.",
    ),
    5: (
        "A weeknight recipe for lemon roast chicken",
        "Roast a whole chicken with lemon, garlic and thyme. Rub the skin with butter and salt, "
        "stuff the cavity with lemon halves and roast in a hot oven until the juices run clear. "
        "Serve with roasted potatoes and a green salad.",
    ),
}


def test_seed_articles_rank_each_other_first() -> None:
    files = [SEEDS / "000_071376e2d7e7b75c.txt", SEEDS / "003_c5a49b13bfc462a6.txt"]
    if not all(f.is_file() for f in files):
        pytest.skip("../shared/seeds not beside the repository")
    wire, primer = (f.read_text(encoding="utf-8") for f in files)

    def first_line(text: str) -> str:
        return next(line for line in text.splitlines() if line.strip())

    docs = [
        doc(
            1,
            wire,
            title=first_line(wire),
            types=("Article",),
            published=datetime.date(2014, 9, 15),
        ),
        doc(
            2,
            primer,
            title=first_line(primer),
            types=("Analysis",),
            published=datetime.date(2013, 2, 7),
        ),
        # Decoys share a type with a seed, so text has to beat the shared format.
        *(
            doc(i, body, title=title, types=("Article" if i == 4 else "Analysis",))
            for i, (title, body) in DECOYS.items()
        ),
    ]
    corpus = Corpus(docs)
    for doc_id, other in ((1, 2), (2, 1)):
        unpinned = [m for m in corpus.rank(doc_id) if not m.pinned]
        assert unpinned[0].related_id == other
        assert "khamenei" in unpinned[0].terms
        assert all(m.score < unpinned[0].score for m in unpinned[1:])
