"""Tests for the seed importer: clean fields from the scraped seeds, and the committed data file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from discussion.publications.seeds import (
    DATA_FILE,
    build_seed_data,
    load_seed_data,
    parse_long_date,
    parse_partner_article,
    parse_usip_post,
    slugify,
    split_authors,
    split_glued,
    write_seed_data,
)

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SKIP_REASON = (
    "../shared/seeds not beside the repository; the committed data file is checked when it is"
)
USIP_FILE = "003_c5a49b13bfc462a6.txt"
WIRE_FILE = "000_071376e2d7e7b75c.txt"

SCHEMA = {
    "slug", "title", "dek", "summary", "published", "body", "authors", "types", "topics",
    "partner", "source_note", "image", "invitation", "pins", "seed_file",
}  # fmt: skip

NOTE = "This article is from the archive of our partner The Wire."
INVITATION = "Tell us what you think by submitting a comment below."
BIO = "Viola Gienger is a senior writer at USIP."

WIRE = "iran-rejects-us-bid-to-coordinate-against-isis"
USIP = "khamenei-rejects-us-talks-on-twitter"
WEIGHS = "the-united-states-weighs-its-options-in-the-face-of-irans-provocations"
SENSE = "making-sense-of-iran-pakistan-cross-border-strikes"
SLOPE = "a-slippery-slope-us-uk-launch-strikes-on-iran-backed-houthis-in-yemen"
SLUGS = [WIRE, USIP, WEIGHS, SENSE, SLOPE]

WIRE_DEK = (
    "Iran's supreme leader criticized President Obama's plan to take on the Islamic State and said "
    "he rejected an entreaty for Iran to help in the effort."
)
USIP_DEK = (
    "Khamenei has become an avid user of Twitter and posted more than 30 comments on the topic of "
    "U.S.-Iran talks. USIP's Iran Primer has the highlights."
)
CARD_DEFAULTS: dict[str, Any] = {
    "dek": None, "body": [], "image": None, "invitation": None, "partner": None,
    "source_note": None, "pins": [], "seed_file": None,
}  # fmt: skip

EXPECTED: dict[str, dict[str, Any]] = {
    WIRE: {
        "slug": WIRE,
        "title": "Iran Rejects U.S. Bid to Coordinate Against ISIS",
        "dek": WIRE_DEK,
        "summary": WIRE_DEK,
        "published": "2014-09-15",
        "body": [
            "Iran's supreme leader, Ayatollah Ali Khamenei, rejected a U.S. bid to coordinate "
            "efforts to combat the Islamic State of Iraq and Syria.",
            "Just hours after being released from the hospital following prostate surgery, "
            "Khamenei sent a series of tweets from his official Twitter account criticizing "
            "President Obama's push to a build a coalition to \"degrade and ultimately destroy "
            'ISIS." Several international leaders have gathered in Paris today to forge an '
            "international coalition against the extremists. Neither Iran nor Syria were invited, "
            'according to the AP. Khamenei called the strategy "empty, shallow and biased."',
            "The ayatollah has increasingly used his official Twitter account to more or less "
            "troll the Obama administration and the U.S. During the racial unrest in Ferguson, "
            "Mo., Khamenei repeatedly tweeted out commentary on the events suggesting the U.S. "
            "was hypocritical to criticize Iran and other nations for human rights abuses.",
            "He continued with that tone in a final jab at the U.S. on Monday.",
            "The chief spokeswoman for the State Department, Jen Psaki, tweeted responses to "
            "Khamenei hours later.",
            "Psaki confirmed that the U.S. had talked to Iran about its efforts to combat ISIS but "
            "denied that there was any discussion of coordinating militarily.",
            "Despite the dispute with Iran, international support for Obama's plan grew over the "
            "weekend, with multiple unnamed Arab states and Australia pledging to join the "
            "military effort.",
            "Diplomats from 30 nations that gathered in Paris issued a statement after their talks "
            'pledging to help Iraq fight ISIS "by any means necessary," according to Agence '
            'France-Presse. That included "appropriate military assistance, in line with the '
            "needs expressed by the Iraqi authorities, in accordance with international law and "
            'without jeopardizing civilian security."',
            'The statement, however, did not include any mention of Syria, the ISIS "safe haven" '
            "that Obama said he may target as well.",
        ],
        "authors": [],
        "types": ["Article"],
        "topics": ["Global Policy", "Violent Extremism"],
        "partner": "The Wire",
        "source_note": NOTE,
        "image": None,
        "invitation": None,
        "pins": [],
        "seed_file": WIRE_FILE,
    },
    USIP: {
        "slug": USIP,
        "title": "Khamenei Rejects U.S. Talks on Twitter",
        "dek": USIP_DEK,
        "summary": USIP_DEK,
        "published": "2013-02-07",
        "body": [
            "\u201cI'm not a diplomat, I'm a revolutionary and I speak candidly,\u201d Iran\u2019s "
            "Supreme Leader, Ayatollah Ali Khamenei said in rejecting the latest U.S. overture for "
            "direct talks. And this time, he did it on Twitter.",
            "The Supreme Leader has become an avid user of Twitter and posted more than 30 "
            "comments on the topic of U.S.-Iran talks today. USIP\u2019s Iran Primer has the "
            "tweet highlights.",
            "He seemed to be responding to Vice President Joe Biden\u2019s reiteration of the U.S. "
            "offer of direct talks, though only if Khamenei \u201cis serious.\u201d Other Iranian "
            "officials, including President Mahmoud Ahmadinejad, have recently welcomed what they "
            "said were positive steps by the U.S. But the Supreme Leader\u2019s latest comments "
            "aren\u2019t surprising, considering his previous statements and the U.S. "
            "announcement yesterday of further sanctions against Iran.",
            "Multilateral talks on Feb. 26 in Almaty, Kazakhstan, will proceed as scheduled among "
            "Iran, the U.S., Britain, Germany, France, Russia and China. So what do you make of "
            "the Supreme Leader\u2019s retorts?",
        ],
        "authors": [{"name": "Viola Gienger", "bio": BIO}],
        "types": ["Analysis"],
        "topics": ["Global Policy", "Conflict Analysis & Prevention"],
        "partner": None,
        "source_note": None,
        "image": {
            "file": "20130426Grand_Ayatollah_Ali_Khamenei,.jpg",
            "alt": "Grand Ayatollah Ali Khamenei",
            "caption": "Grand Ayatollah Ali Khamenei, Iran\u2019s Supreme Leader",
        },
        "invitation": INVITATION,
        "pins": [WEIGHS, SENSE, SLOPE],
        "seed_file": USIP_FILE,
    },
    WEIGHS: {
        **CARD_DEFAULTS,
        "slug": WEIGHS,
        "title": "The United States Weighs Its Options in the Face of Iran\u2019s Provocations",
        "summary": (
            "Three U.S. troops were killed and at least 34 injured in a drone strike on a U.S. "
            "base in northeast Jordan on January 28. The attack comes against a backdrop of rising "
            "regional tensions since the outbreak of conflict in Gaza following the October 7 "
            "Hamas terrorist attack on Israel."
        ),
        "published": "2024-01-30",
        "authors": [
            {"name": "Sarhang Hamasaeed", "bio": None},
            {"name": "Mona Yacoubian", "bio": None},
        ],
        "types": ["Analysis", "Question and Answer"],
        "topics": ["Conflict Analysis & Prevention", "Global Policy", "Violent Extremism"],
    },
    SENSE: {
        **CARD_DEFAULTS,
        "slug": SENSE,
        "title": "Making Sense of Iran-Pakistan Cross-Border Strikes",
        "summary": (
            "In a surprising turn on January 16, Iran launched missile strikes into "
            "Pakistan\u2019s Baluchistan province, claiming it had hit two strongholds of "
            "anti-Iran insurgent group Jaish al-Adl (Army of Justice). Iran announced the attack "
            "in Pakistan concurrent to its strikes in Iraq and Syria. Less than two days later, "
            "Pakistan hit back with not only missiles but also fighter jets in Iran\u2019s "
            "Sistan-Baluchistan province \u2014 claiming to target hideouts of anti-Pakistan "
            "ethno-nationalist insurgents operating from Iranian soil."
        ),
        "published": "2024-01-19",
        "authors": [{"name": "Asfandyar Mir, Ph.D.", "bio": None}],
        "types": ["Analysis"],
        "topics": ["Conflict Analysis & Prevention", "Global Policy", "Violent Extremism"],
    },
    SLOPE: {
        **CARD_DEFAULTS,
        "slug": SLOPE,
        "title": "A Slippery Slope? U.S., U.K. Launch Strikes on Iran-Backed Houthis in Yemen",
        "summary": (
            "On January 12, the United States and the United Kingdom, supported by Australia, "
            "Bahrain, Canada and the Netherlands, launched military strikes against Houthi targets "
            "in Yemen in response to the group\u2019s attacks on civilian and military ships in "
            "the Red Sea. The U.S.-led strikes are a significant escalation and part of the "
            "growing regional impact of the Israel-Hamas war, which the United States has been "
            "actively trying to prevent from turning into a regional war."
        ),
        "published": "2024-01-12",
        "authors": [{"name": "Sarhang Hamasaeed", "bio": None}],
        "types": ["Analysis", "Question and Answer"],
        "topics": ["Conflict Analysis & Prevention", "Global Policy"],
    },
}


@pytest.fixture(scope="module")
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(SKIP_REASON)
    return SEEDS


@pytest.fixture(scope="module")
def usip(seeds_dir: Path) -> dict[str, Any]:
    return parse_usip_post((seeds_dir / USIP_FILE).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def wire(seeds_dir: Path) -> dict[str, Any]:
    return parse_partner_article((seeds_dir / WIRE_FILE).read_text(encoding="utf-8"))


@pytest.fixture(params=["committed", "built"], scope="module")
def publications(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The publications of the committed data file, and of a fresh build from the seeds."""
    if request.param == "committed":
        return load_seed_data()["publications"]
    return build_seed_data(request.getfixturevalue("seeds_dir"))["publications"]


def _by_slug(publications: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {pub["slug"]: pub for pub in publications}


# -- the five publications, field by field -----------------------------------------------------


def test_publication_order(publications: list[dict[str, Any]]) -> None:
    assert [pub["slug"] for pub in publications] == SLUGS


def test_every_schema_key_present(publications: list[dict[str, Any]]) -> None:
    for pub in publications:
        assert set(pub) == SCHEMA, pub["slug"]


@pytest.mark.parametrize("field", sorted(SCHEMA))
@pytest.mark.parametrize("slug", SLUGS)
def test_field_is_clean(publications: list[dict[str, Any]], slug: str, field: str) -> None:
    assert _by_slug(publications)[slug][field] == EXPECTED[slug][field]


def test_slugs_are_lowercase_ascii_and_unique(publications: list[dict[str, Any]]) -> None:
    slugs = [pub["slug"] for pub in publications]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) for slug in slugs)


def test_pins_resolve(publications: list[dict[str, Any]]) -> None:
    slugs = {pub["slug"] for pub in publications}
    for pub in publications:
        assert set(pub["pins"]) <= slugs - {pub["slug"]}


def test_no_glued_labels(publications: list[dict[str, Any]]) -> None:
    for pub in publications:
        for label in pub["types"] + pub["topics"]:
            assert not re.search(r"[a-z][A-Z]", label), label


@pytest.mark.parametrize("slug", SLUGS)
def test_nothing_leaks_into_body(publications: list[dict[str, Any]], slug: str) -> None:
    pub = _by_slug(publications)[slug]
    leaks = [
        "archive of our partner", INVITATION, "comment below", BIO, ".jpg", "Related Publications",
        "View All Publications", "Type:", "By:",
    ]  # fmt: skip
    for paragraph in pub["body"]:
        assert not any(leak in paragraph for leak in leaks), paragraph
        assert paragraph == paragraph.strip() and paragraph


# -- the committed data file -------------------------------------------------------------------


def test_committed_file_matches_build(seeds_dir: Path) -> None:
    assert build_seed_data(seeds_dir) == load_seed_data()


def test_write_seed_data_reproduces_committed_bytes(seeds_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "nested" / "seed.json"
    write_seed_data(seeds_dir, out)
    text = out.read_text(encoding="utf-8")
    assert text == DATA_FILE.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert "\u2019" in text  # ensure_ascii=False
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_seed_data(seeds_dir, out)
    assert out.read_text(encoding="utf-8") == text


def test_data_file_location() -> None:
    package_dir = Path(__file__).resolve().parents[1] / "discussion"
    assert DATA_FILE.resolve() == package_dir / "data" / "seed.json"
    assert load_seed_data() == load_seed_data(DATA_FILE)


# -- the scraping artefacts, straight from the parsers -----------------------------------------


def test_usip_cards_and_pins(usip: dict[str, Any]) -> None:
    cards = usip["cards"]
    assert [card["slug"] for card in cards] == [WEIGHS, SENSE, SLOPE]
    assert usip["article"]["pins"] == [WEIGHS, SENSE, SLOPE]
    for card in cards:
        assert card == EXPECTED[card["slug"]]


def test_duplicated_card_titles_appear_once(seeds_dir: Path, usip: dict[str, Any]) -> None:
    source = (seeds_dir / USIP_FILE).read_text(encoding="utf-8")
    for card in usip["cards"]:
        title = card["title"]
        assert source.count(title) == 2  # the scrape repeats each card title
        assert title.count(title[:12]) == 1
        assert title not in card["summary"]


def test_usip_article_leaves_editorial_facts_unset(usip: dict[str, Any]) -> None:
    article = usip["article"]
    assert article["title"] is None and article["published"] is None
    assert article["image"]["caption"] is None
    assert article["body"] == EXPECTED[USIP]["body"]
    assert article["invitation"] == INVITATION
    assert article["authors"] == [{"name": "Viola Gienger", "bio": BIO}]


def test_partner_note_is_whole(seeds_dir: Path, wire: dict[str, Any]) -> None:
    source = (seeds_dir / WIRE_FILE).read_text(encoding="utf-8")
    assert source.index("our partner .") < source.index(NOTE)  # first copy lost the name
    assert wire["partner"] == "The Wire"
    assert wire["source_note"] == NOTE
    assert wire["body"] == EXPECTED[WIRE]["body"]


# -- helpers and structure, on synthetic text --------------------------------------------------


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("By: Asfandyar Mir, Ph.D.", ["Asfandyar Mir, Ph.D."]),
        ("By: Sarhang Hamasaeed;\u00a0 Mona Yacoubian", ["Sarhang Hamasaeed", "Mona Yacoubian"]),
        ("By: Sarhang Hamasaeed", ["Sarhang Hamasaeed"]),
        ("By: Jane Roe, Ph.D.; John Doe", ["Jane Roe, Ph.D.", "John Doe"]),
        ("By: Jane Roe, John Doe", ["Jane Roe", "John Doe"]),
        ("By: Jane Roe, Jr., John Doe, M.D.", ["Jane Roe, Jr.", "John Doe, M.D."]),
        ("By: Jane Roe and John Doe", ["Jane Roe", "John Doe"]),
    ],
)
def test_split_authors(line: str, names: list[str]) -> None:
    assert split_authors(line) == names


@pytest.mark.parametrize(
    ("glued", "labels"),
    [
        ("AnalysisQuestion and Answer", ["Analysis", "Question and Answer"]),
        (
            "Conflict Analysis & PreventionGlobal PolicyViolent Extremism",
            ["Conflict Analysis & Prevention", "Global Policy", "Violent Extremism"],
        ),
        (
            "Conflict Analysis & PreventionGlobal Policy",
            ["Conflict Analysis & Prevention", "Global Policy"],
        ),
        (" Analysis", ["Analysis"]),
    ],
)
def test_split_glued(glued: str, labels: list[str]) -> None:
    assert split_glued(glued) == labels


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Tuesday, January 30, 2024", "2024-01-30"),
        ("Friday, January 19, 2024", "2024-01-19"),
        ("Friday, January 12, 2024", "2024-01-12"),
    ],
)
def test_parse_long_date(text: str, iso: str) -> None:
    assert parse_long_date(text) == iso


@pytest.mark.parametrize(
    "text", ["Monday, January 30, 2024", "Tuesday, Janvier 30, 2024", "By: Sarhang Hamasaeed"]
)
def test_parse_long_date_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_long_date(text)


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Khamenei Rejects U.S. Talks on Twitter", USIP),
        ("Iran Rejects U.S. Bid to Coordinate Against ISIS", WIRE),
        (EXPECTED[WEIGHS]["title"], WEIGHS),
        (EXPECTED[SENSE]["title"], SENSE),
        (EXPECTED[SLOPE]["title"], SLOPE),
        ("\u201cQuoted\u201d Caf\u00e9 \u2014 It's", "quoted-cafe-its"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


SYNTHETIC_POST = """Lead paragraph.

20200101Some_Photo.jpg

First paragraph.

Last paragraph. Leave a comment below.

Jane Roe is a fellow at USIP.

Related Publications

Card OneCard One

Monday, January 1, 2024

By: Jane Roe, Ph.D.; John Doe

Card summary.

Type: AnalysisQuestion and Answer

Global PolicyViolent Extremism

View All Publications
"""


def test_parse_usip_post_by_structure() -> None:
    parsed = parse_usip_post(SYNTHETIC_POST)
    article = parsed["article"]
    assert article["dek"] == article["summary"] == "Lead paragraph."
    assert article["body"] == ["First paragraph.", "Last paragraph."]
    assert article["invitation"] == "Leave a comment below."
    assert article["image"] == {
        "file": "20200101Some_Photo.jpg",
        "alt": "Some Photo",
        "caption": None,
    }
    assert article["authors"] == [{"name": "Jane Roe", "bio": "Jane Roe is a fellow at USIP."}]
    assert article["pins"] == ["card-one"]
    (card,) = parsed["cards"]
    assert card["title"] == "Card One"
    assert card["published"] == "2024-01-01"
    assert card["summary"] == "Card summary."
    assert card["authors"] == [
        {"name": "Jane Roe, Ph.D.", "bio": None},
        {"name": "John Doe", "bio": None},
    ]
    assert card["types"] == ["Analysis", "Question and Answer"]
    assert card["topics"] == ["Global Policy", "Violent Extremism"]
    assert set(card) == SCHEMA


def test_parse_partner_article_by_structure() -> None:
    text = (
        "A Title\n\nThe dek.\n\nThis article is from the archive of our partner .\n\n"
        "Body one.\n\nBody two.\n\nThis article is from the archive of our partner Some Paper."
    )
    article = parse_partner_article(text)
    assert (article["slug"], article["title"], article["dek"]) == ("a-title", "A Title", "The dek.")
    assert article["body"] == ["Body one.", "Body two."]
    assert article["partner"] == "Some Paper"
    assert article["source_note"] == "This article is from the archive of our partner Some Paper."
    assert article["invitation"] is None
    assert set(article) == SCHEMA
