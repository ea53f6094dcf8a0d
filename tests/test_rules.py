"""Tests for discussion.rules: every rule, their decision order, matching and highlighting."""

from __future__ import annotations

import dataclasses
import html
import itertools
import re
import unicodedata
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from discussion.comments.rules import (
    RULES,
    Hold,
    RuleSettings,
    Submission,
    comments_closed,
    evaluate,
    find_links,
    find_words,
    fold,
    highlight,
    link_host,
    parse_list,
    untrusted_links,
)

TODAY = date(2024, 6, 1)
OPEN = RuleSettings(premoderation=False)  # nothing holds a plain comment
THREE_LINKS = "https://a.com/1 http://b.com/2 www.c.com"


def submit(**fields: Any) -> Submission:
    """A plain comment posted today on a publication from today, overridden by ``fields``."""
    values: dict[str, Any] = {
        "body": "A thoughtful comment.",
        "honeypot": False,
        "published": TODAY,
        "premoderation": None,
        "author_has_approved": False,
        "duplicate": False,
        "today": TODAY,
    }
    values.update(fields)
    return Submission(**values)


def rules_fired(sub: Submission, rule_settings: RuleSettings) -> tuple[str, tuple[str, ...]]:
    verdict = evaluate(sub, rule_settings)
    return verdict.state, tuple(hold.rule for hold in verdict.holds)


def test_rules_are_the_stored_names_in_display_order() -> None:
    assert list(RULES.items()) == [
        ("honeypot", "Hidden field filled (bot)"),
        ("blocked", "Blocked author"),
        ("banned_words", "Banned word"),
        ("premoderation", "Pre-moderation"),
        ("links", "Too many links"),
        ("suspect_words", "Suspect word"),
        ("duplicate", "Duplicate"),
        ("moderate_after", "Old publication"),
        ("author_premoderation", "Author always held"),
        ("topic", "Topic rule"),
        ("spam_score", "Spam score"),
    ]


def test_setting_defaults() -> None:
    assert RuleSettings() == RuleSettings(
        premoderation=True,
        auto_approve_known_authors=False,
        max_links=2,
        trusted_domains=(),
        suspect_words=(),
        banned_words=(),
        moderate_after_days=None,
        close_after_days=None,
    )


# --- evaluate: each rule alone, then combined --------------------------------------------

SINGLE_RULES = [
    pytest.param({}, {}, "approved", (), id="clean"),
    pytest.param({"honeypot": True}, {}, "spam", ("honeypot",), id="honeypot"),
    pytest.param(
        {"body": "Win at the CASINO!"},
        {"banned_words": ("casino",)},
        "rejected",
        ("banned_words",),
        id="banned",
    ),
    pytest.param({}, {"premoderation": True}, "pending", ("premoderation",), id="premoderation"),
    pytest.param({"body": THREE_LINKS}, {}, "pending", ("links",), id="links"),
    pytest.param(
        {"body": "Try crypto today"},
        {"suspect_words": ("crypto",)},
        "pending",
        ("suspect_words",),
        id="suspect",
    ),
    pytest.param({"duplicate": True}, {}, "pending", ("duplicate",), id="duplicate"),
    pytest.param(
        {"published": TODAY - timedelta(days=31)},
        {"moderate_after_days": 30},
        "pending",
        ("moderate_after",),
        id="old-publication",
    ),
    pytest.param(
        {"body": "cryptocurrency casinos"},
        {"banned_words": ("casino",), "suspect_words": ("crypto",)},
        "approved",
        (),
        id="words-inside-words-do-not-match",
    ),
]


@pytest.mark.parametrize(("sub", "config", "state", "fired"), SINGLE_RULES)
def test_each_rule_alone(
    sub: dict[str, Any], config: dict[str, Any], state: str, fired: tuple[str, ...]
) -> None:
    assert rules_fired(submit(**sub), dataclasses.replace(OPEN, **config)) == (state, fired)


EVERYTHING = {
    "body": f"casino crypto {THREE_LINKS}",
    "honeypot": True,
    "duplicate": True,
    "published": TODAY - timedelta(days=100),
}
EVERY_SETTING = {
    "premoderation": True,
    "banned_words": ("casino",),
    "suspect_words": ("crypto",),
    "moderate_after_days": 30,
}

# Rules whose facts the caller gathers elsewhere (sanctions, topics, the spam score).
SIGNALS = ("blocked", "author_premoderation", "topic", "spam_score")
FROM_TEXT = tuple(rule for rule in RULES if rule not in SIGNALS)

COMBINATIONS = [
    pytest.param(EVERYTHING, EVERY_SETTING, "spam", FROM_TEXT, id="everything-is-spam"),
    pytest.param(
        {**EVERYTHING, "honeypot": False},
        EVERY_SETTING,
        "rejected",
        tuple(rule for rule in FROM_TEXT if rule != "honeypot"),
        id="banned-beats-holds",
    ),
    pytest.param(
        {"blocked": "The author's email blocked for good (sanction #1)."},
        {"premoderation": False},
        "rejected",
        ("blocked",),
        id="a-blocked-author-is-refused",
    ),
    pytest.param(
        {"author_held": "The author's email always held for moderation for good."},
        {"premoderation": False},
        "pending",
        ("author_premoderation",),
        id="a-held-author-waits",
    ),
    pytest.param(
        {"spam": "Spam score 0.99: casino, crypto", "blocked": "blocked"},
        {"premoderation": False},
        "spam",
        ("blocked", "spam_score"),
        id="spam-score-beats-block",
    ),
    pytest.param(
        {"extra": (Hold("topic", "Violent Extremism: every comment is held"),)},
        {"premoderation": False},
        "pending",
        ("topic",),
        id="a-topic-rule-holds",
    ),
    pytest.param(
        {"honeypot": True, "body": "casino"},
        {"banned_words": ("casino",)},
        "spam",
        ("honeypot", "banned_words"),
        id="honeypot-beats-banned",
    ),
    pytest.param(
        {"body": "casino crypto"},
        {"banned_words": ("casino",), "suspect_words": ("crypto",), "premoderation": True},
        "rejected",
        ("banned_words", "premoderation", "suspect_words"),
        id="rejected-keeps-every-reason",
    ),
    pytest.param(
        {"body": "casino"},
        {"banned_words": ("casino",), "suspect_words": ("CASINO",)},
        "rejected",
        ("banned_words", "suspect_words"),
        id="banned-and-suspect-word",
    ),
    pytest.param(
        {**EVERYTHING, "honeypot": False},
        {**EVERY_SETTING, "banned_words": ()},
        "pending",
        ("premoderation", "links", "suspect_words", "duplicate", "moderate_after"),
        id="all-holds-pending",
    ),
    pytest.param(
        {"duplicate": True, "body": "crypto"},
        {"suspect_words": ("crypto",)},
        "pending",
        ("suspect_words", "duplicate"),
        id="suspect-and-duplicate",
    ),
    pytest.param(
        {"honeypot": True, "duplicate": True},
        {},
        "spam",
        ("honeypot", "duplicate"),
        id="spam-keeps-holds",
    ),
]


@pytest.mark.parametrize(("sub", "config", "state", "fired"), COMBINATIONS)
def test_decision_order(
    sub: dict[str, Any], config: dict[str, Any], state: str, fired: tuple[str, ...]
) -> None:
    assert rules_fired(submit(**sub), dataclasses.replace(OPEN, **config)) == (state, fired)


@pytest.mark.parametrize(
    ("site", "publication", "held", "source"),
    [
        (True, None, True, "the site"),
        (False, None, False, None),
        (True, False, False, None),
        (False, True, True, "this publication"),
        (True, True, True, "this publication"),
        (False, False, False, None),
    ],
)
def test_publication_overrides_premoderation(
    site: bool, publication: bool | None, held: bool, source: str | None
) -> None:
    verdict = evaluate(submit(premoderation=publication), RuleSettings(premoderation=site))
    assert verdict.state == ("pending" if held else "approved")
    expected = (Hold("premoderation", f"Pre-moderation is on for {source}."),) if held else ()
    assert verdict.holds == expected


AUTO = RuleSettings(auto_approve_known_authors=True)


@pytest.mark.parametrize(
    ("rule_settings", "sub", "state", "fired"),
    [
        pytest.param(AUTO, {"author_has_approved": True}, "approved", (), id="known-skips"),
        pytest.param(
            AUTO,
            {"author_has_approved": True, "premoderation": True},
            "approved",
            (),
            id="known-skips-publication-premoderation",
        ),
        pytest.param(
            AUTO, {"author_has_approved": False}, "pending", ("premoderation",), id="unknown"
        ),
        pytest.param(
            RuleSettings(),
            {"author_has_approved": True},
            "pending",
            ("premoderation",),
            id="setting-off",
        ),
        pytest.param(
            dataclasses.replace(AUTO, suspect_words=("crypto",)),
            {"author_has_approved": True, "body": "crypto"},
            "pending",
            ("suspect_words",),
            id="suspect-still-holds",
        ),
        pytest.param(
            AUTO,
            {"author_has_approved": True, "body": THREE_LINKS},
            "pending",
            ("links",),
            id="links-still-hold",
        ),
        pytest.param(
            AUTO,
            {"author_has_approved": True, "duplicate": True},
            "pending",
            ("duplicate",),
            id="duplicate-still-holds",
        ),
        pytest.param(
            dataclasses.replace(AUTO, moderate_after_days=7),
            {"author_has_approved": True, "published": TODAY - timedelta(days=8)},
            "pending",
            ("moderate_after",),
            id="old-publication-still-holds",
        ),
        pytest.param(
            dataclasses.replace(AUTO, banned_words=("casino",)),
            {"author_has_approved": True, "body": "casino"},
            "rejected",
            ("banned_words",),
            id="banned-still-rejects",
        ),
        pytest.param(
            AUTO,
            {"author_has_approved": True, "honeypot": True},
            "spam",
            ("honeypot",),
            id="honeypot-still-spam",
        ),
    ],
)
def test_auto_approve_only_bypasses_premoderation(
    rule_settings: RuleSettings, sub: dict[str, Any], state: str, fired: tuple[str, ...]
) -> None:
    assert rules_fired(submit(**sub), rule_settings) == (state, fired)


# --- Hold details -------------------------------------------------------------------------


def test_word_holds_list_original_spellings_once_in_order() -> None:
    body = "Casino? casino... VIAGRA, and Free \n Money at the casino"
    config = dataclasses.replace(
        OPEN, banned_words=("viagra", "casino"), suspect_words=("free money",)
    )
    banned, suspect = evaluate(submit(body=body), config).holds
    assert banned == Hold(
        "banned_words", "Matched: Casino, casino, VIAGRA", ("Casino", "casino", "VIAGRA")
    )
    assert suspect == Hold("suspect_words", "Matched: Free Money", ("Free \n Money",))


@pytest.mark.parametrize(
    ("body", "max_links", "hold"),
    [
        ("http://a.com http://b.com", 2, None),
        (
            "http://a.com http://b.com http://a.com",
            2,
            Hold(
                "links",
                "3 links to untrusted sites (more than 2)",
                ("http://a.com", "http://b.com"),
            ),
        ),
        (
            "see www.spam.com.",
            0,
            Hold("links", "1 link to an untrusted site (more than 0)", ("www.spam.com",)),
        ),
        ("https://example.org/a https://news.example.org/b https://example.org/c", 0, None),
        ("https://example.org/a http://x.com https://example.org/c", 1, None),
    ],
)
def test_links_hold(body: str, max_links: int, hold: Hold | None) -> None:
    config = dataclasses.replace(OPEN, max_links=max_links, trusted_domains=("example.org",))
    assert evaluate(submit(body=body), config).holds == ((hold,) if hold else ())


def test_other_hold_details() -> None:
    old = TODAY - timedelta(days=31)
    config = dataclasses.replace(OPEN, moderate_after_days=30)
    verdict = evaluate(submit(honeypot=True, duplicate=True, published=old), config)
    assert verdict.holds == (
        Hold("honeypot", "The hidden form field was filled in, as bots do."),
        Hold("duplicate", "The same text came from the same email or address within a day."),
        Hold("moderate_after", "Published 31 days ago (comments held after 30 days)"),
    )
    one = evaluate(
        submit(published=TODAY - timedelta(days=2)),
        dataclasses.replace(OPEN, moderate_after_days=1),
    )
    assert one.holds[0].detail == "Published 2 days ago (comments held after 1 day)"


# --- Dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "age", "closed"),
    [
        (None, 0, False),
        (None, 10_000, False),
        (0, 0, True),
        (0, -1, False),
        (1, 0, False),
        (1, 1, True),
        (30, 29, False),
        (30, 30, True),
        (30, 31, True),
        (30, -5, False),
    ],
)
def test_comments_closed(days: int | None, age: int, closed: bool) -> None:
    published = TODAY - timedelta(days=age)
    assert comments_closed(published, RuleSettings(close_after_days=days), TODAY) is closed


@pytest.mark.parametrize(
    ("days", "age", "held"),
    [
        (None, 10_000, False),
        (0, 0, False),
        (0, 1, True),
        (30, 29, False),
        (30, 30, False),
        (30, 31, True),
        (30, -40, False),
    ],
)
def test_moderate_after(days: int | None, age: int, held: bool) -> None:
    sub = submit(published=TODAY - timedelta(days=age))
    state, fired = rules_fired(sub, dataclasses.replace(OPEN, moderate_after_days=days))
    assert (state, fired) == (("pending", ("moderate_after",)) if held else ("approved", ()))


# --- Links --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("no links here, example.com is bare", []),
        ("https://a.com/x?y=1#z", ["https://a.com/x?y=1#z"]),
        ("HTTP://A.COM and http://b.com/path.", ["HTTP://A.COM", "http://b.com/path"]),
        ("(see http://a.com/x), or http://b.com!", ["http://a.com/x", "http://b.com"]),
        ("https://en.wikipedia.org/wiki/Foo_(bar) ok", ["https://en.wikipedia.org/wiki/Foo_(bar)"]),
        ("visit www.spam.com, now", ["www.spam.com"]),
        ("http://www.spam.com once", ["http://www.spam.com"]),
        ("http://a.com http://a.com", ["http://a.com", "http://a.com"]),
        ("[click](https://spam.com/x)", ["https://spam.com/x"]),
        ('[click](https://spam.com/x "title")', ["https://spam.com/x"]),
        ("[click](<https://spam.com/x>)", ["https://spam.com/x"]),
        ("[http://shown.com](http://target.com)", ["http://target.com"]),
        ("[w](https://en.wikipedia.org/wiki/A_(b))", ["https://en.wikipedia.org/wiki/A_(b)"]),
        ("![img](http://img.com/a.png)", ["http://img.com/a.png"]),
        ("[home](/about) [mail](mailto:a@b.com)", ["/about", "mailto:a@b.com"]),
        ("[unclosed](http://a.com", ["http://a.com"]),
        ("<https://auto.com/link>", ["https://auto.com/link"]),
        ("[a](http://a.com)[b](http://b.com)", ["http://a.com", "http://b.com"]),
        ("http:// and https://. are not links", []),
        ("foo.www.bar.com and mail@www.x.com", []),
    ],
)
def test_find_links(text: str, urls: list[str]) -> None:
    links = find_links(text)
    assert [url for _, _, url in links] == urls
    assert all(text[start:end] == url for start, end, url in links)


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Example.ORG/path", "example.org"),
        ("http://www.example.org:8080/x", "example.org"),
        ("www.Example.org/a", "example.org"),
        ("//cdn.example.org/x", "cdn.example.org"),
        ("https://user:pw@news.example.org/", "news.example.org"),
        ("https://example.org.@evil.com/", "evil.com"),
        ("https://example.org\\@evil.com/", "example.org"),
        ("http://[::1]:8000/", "::1"),
        ("https://example.org./", "example.org"),
        ("https://example.org?q=1", "example.org"),
        ("/relative/path", ""),
        ("mailto:a@example.org", ""),
        ("example.org", ""),
        ("", ""),
    ],
)
def test_link_host(url: str, host: str) -> None:
    assert link_host(url) == host


@pytest.mark.parametrize(
    ("text", "trusted", "expected"),
    [
        ("http://a.com http://b.com", (), ["http://a.com", "http://b.com"]),
        ("https://example.org/x", ("example.org",), []),
        ("https://news.example.org/x", ("example.org",), []),
        ("https://a.b.example.org/x", ("example.org",), []),
        ("https://WWW.EXAMPLE.ORG", ("example.org",), []),
        ("https://example.org", ("www.Example.ORG",), []),
        ("https://news.example.org", ("https://example.org/",), []),
        ("https://example.org", ("*.example.org",), []),
        ("https://example.org:8443/x", ("example.org",), []),
        ("http://localhost:5000/x", ("localhost:5000",), []),
        ("https://evil-example.org/x", ("example.org",), ["https://evil-example.org/x"]),
        ("https://notexample.org", ("example.org",), ["https://notexample.org"]),
        ("https://example.org.evil.com", ("example.org",), ["https://example.org.evil.com"]),
        ("https://example.org@evil.com/", ("example.org",), ["https://example.org@evil.com/"]),
        ("https://example.org", ("news.example.org",), ["https://example.org"]),
        ("[x](https://spam.com) [y](/about)", ("example.org",), ["https://spam.com"]),
        ("www.spam.com https://example.org", ("example.org", ""), ["www.spam.com"]),
    ],
)
def test_untrusted_links(text: str, trusted: tuple[str, ...], expected: list[str]) -> None:
    assert [url for _, _, url in untrusted_links(text, trusted)] == expected


# --- Words --------------------------------------------------------------------------------

WIDE = "".join(chr(ord(char) + 0xFEE0) for char in "CASINO")  # fullwidth letters

FOLDING = [
    pytest.param("Café CAFÉ café, cafeteria", ["cafe"], ["Café", "CAFÉ", "café"], id="accents"),
    pytest.param("a cafe here", ["café"], ["cafe"], id="accented-word"),
    pytest.param("cafe\u0301 au lait", ["café"], ["cafe\u0301"], id="combining-in-text"),
    pytest.param("café noir", ["cafe\u0301"], ["café"], id="combining-in-word"),
    pytest.param("Straße", ["strasse"], ["Straße"], id="sharp-s"),
    pytest.param("STRASSE", ["straße"], ["STRASSE"], id="sharp-s-word"),
    pytest.param("it's ß.", ["SS"], ["ß"], id="sharp-s-alone"),
    pytest.param("the ﬁnal word", ["final"], ["ﬁnal"], id="ligature"),
    pytest.param("½ cup", ["1"], [], id="never-splits-a-character"),
    pytest.param(f"{WIDE} night", ["casino"], [WIDE], id="fullwidth"),
    pytest.param("İstanbul", ["istanbul"], ["İstanbul"], id="dotted-capital-i"),
    pytest.param("ΟΔΟΣ", ["οδός"], ["ΟΔΟΣ"], id="greek-final-sigma"),
    pytest.param("🎉casino🎉 👍🏽", ["casino", "👍🏽"], ["casino", "👍🏽"], id="emoji"),
    pytest.param("hi 😀😀!", ["😀"], ["😀😀"], id="adjacent-merged"),
    pytest.param("مرحبا كَازِينُو", ["كازينو"], ["كَازِينُو"], id="arabic-harakat"),
    pytest.param("אמר שָׁלוֹם לכולם", ["שלום"], ["שָׁלוֹם"], id="hebrew-points"),
    pytest.param("\u200fשלום עולם\u200f", ["עולם"], ["עולם"], id="rtl-marks"),  # noqa: RUF001
    pytest.param("Free  Money\nnow", ["free money"], ["Free  Money"], id="whitespace-run"),
    pytest.param("free\n\tmoney", ["  free   money "], ["free\n\tmoney"], id="phrase-spaces"),
    pytest.param("freemoney free-money", ["free money"], [], id="phrase-needs-space"),
    pytest.param("_casino casino_ casino1 1casino", ["casino"], [], id="underscore-digit"),
    pytest.param("casino-royale", ["casino"], ["casino"], id="hyphen-is-a-boundary"),
    pytest.param("c++ c++11", ["C++"], ["c++"], id="symbols"),
    pytest.param("free money!", ["money", "free money"], ["free money"], id="overlap-merged"),
    pytest.param("anything", ["", "   "], [], id="blank-words"),
]


@pytest.mark.parametrize(("text", "words", "found"), FOLDING)
def test_find_words_folds_case_and_accents(text: str, words: list[str], found: list[str]) -> None:
    assert [text[start:end] for start, end in find_words(text, words)] == found


def test_find_words_maps_positions_in_the_original_text() -> None:
    text = "ﬁnal ß e\u0301 ok ﬁ"
    assert find_words(text, ["ok"]) == [(10, 12)]
    assert find_words(text, ["final", "ss", "é"]) == [(0, 4), (5, 6), (7, 9)]
    assert find_words(text, ["fi"]) == [(13, 14)]
    assert find_words("", ["x"]) == []
    assert find_words("text", []) == []


def test_fold() -> None:
    assert fold("Café CAFE\u0301 Straße ﬁ") == "cafe cafe strasse fi"


# --- Highlighting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "spans", "expected"),
    [
        ("plain", [], "plain"),
        (
            "<script>alert(1)</script>",
            [(8, 16)],
            "&lt;script&gt;<mark>alert(1)</mark>&lt;/script&gt;",
        ),
        ("<script>", [(1, 7)], "&lt;<mark>script</mark>&gt;"),
        ("<script>", [(0, 8)], "<mark>&lt;script&gt;</mark>"),
        ("a<b", [(0, 2)], "<mark>a&lt;</mark>b"),
        ("a&b", [(0, 2)], "<mark>a&amp;</mark>b"),
        ("a&b", [(1, 2)], "a<mark>&amp;</mark>b"),
        ("a&b", [(2, 3)], "a&amp;<mark>b</mark>"),
        ("&amp;", [(0, 1)], "<mark>&amp;</mark>amp;"),
        ("&amp;", [(1, 4)], "&amp;<mark>amp</mark>;"),
        ("\"q\" 'a'", [(0, 3)], "<mark>&#34;q&#34;</mark> &#39;a&#39;"),
        ("abcdef", [(3, 5), (0, 2), (1, 3)], "<mark>abcde</mark>f"),
        ("abcdef", [(4, 5), (0, 1)], "<mark>a</mark>bcd<mark>e</mark>f"),
        ("abc", [(2, 2), (-5, 1), (2, 99)], "<mark>a</mark>b<mark>c</mark>"),
    ],
)
def test_highlight_escapes_each_piece(
    text: str, spans: list[tuple[int, int]], expected: str
) -> None:
    result = highlight(text, spans)
    assert isinstance(result, Markup)
    assert result == Markup(expected)
    assert escape(result) == result  # already safe: never escaped twice


def test_highlight_of_find_words() -> None:
    text = "<b>Café</b> & CAFE"
    assert highlight(text, find_words(text, ["cafe"])) == Markup(
        "&lt;b&gt;<mark>Café</mark>&lt;/b&gt; &amp; <mark>CAFE</mark>"
    )


# --- Admin lists --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("", ()),
        (" \n , \r\n,,", ()),
        ("casino", ("casino",)),
        (
            "casino\nviagra, Casino\n\n  ,  free money  \r\nVIAGRA",
            ("casino", "viagra", "free money"),
        ),
        ("b, a\na, B", ("b", "a")),
        ("example.org\nwww.example.org", ("example.org", "www.example.org")),
        ("Straße, STRASSE", ("Straße",)),
    ],
)
def test_parse_list(text: str, entries: tuple[str, ...]) -> None:
    assert parse_list(text) == entries


# --- Properties ---------------------------------------------------------------------------

_TRICKY = "ßﬁﬂİıΣσςÉé\u0301\u0308½①\uff21\uff22👍🏽\u200d❤\ufe0fكازينوשָׁלוֹם\ufdfa_-.,'&<>\n\t  "  # noqa: RUF001
TEXTS = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(_TRICKY)), max_size=40
)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_" or unicodedata.category(char).startswith("M")


@st.composite
def text_and_phrase(draw: st.DrawFn) -> tuple[str, int, int]:
    """A text and the span of one to three consecutive words of it."""
    text = draw(TEXTS)
    runs = list(re.finditer(r"\w+", text))
    assume(runs)
    first = draw(st.integers(0, len(runs) - 1))
    last = draw(st.integers(first, min(first + 2, len(runs) - 1)))
    return text, runs[first].start(), runs[last].end()


@settings(max_examples=300, deadline=None)
@given(text_and_phrase())
def test_find_words_spans_fold_to_the_word(case: tuple[str, int, int]) -> None:
    text, start, end = case
    word = fold(text[start:end])
    assume(word.strip())
    spans = find_words(text, [text[start:end]])
    assert spans == sorted(spans)
    assert all(a < b for a, b in spans)
    assert all(b < c for (_, b), (c, _) in itertools.pairwise(spans))
    for span_start, span_end in spans:
        found = _squash(fold(text[span_start:span_end]))
        if all(map(_is_word, word)):
            assert found == _squash(word)
        else:  # overlapping or adjacent occurrences are merged into one span
            assert found.startswith(_squash(word))
            assert found.endswith(_squash(word))
    before, after = fold(text[:start]), fold(text[end:])
    if not (before and _is_word(before[-1])) and not (after and _is_word(after[0])):
        assert any(a <= start and end <= b for a, b in spans)
    unmarked = re.sub("</?mark>", "", str(highlight(text, spans)))
    assert html.unescape(unmarked) == text


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.lists(st.tuples(st.integers(-3, 45), st.integers(-3, 45)), max_size=6))
def test_highlight_round_trips(text: str, spans: list[tuple[int, int]]) -> None:
    result = str(highlight(text, spans))
    assert html.unescape(re.sub("</?mark>", "", result)) == text
    marked = "".join(
        html.unescape(piece) for piece in re.findall("<mark>(.*?)</mark>", result, re.S)
    )
    covered = {i for a, b in spans for i in range(max(a, 0), min(b, len(text)))}
    assert marked == "".join(text[i] for i in sorted(covered))
