"""Seed importer: parse the two scraped seed documents into the project's publication data.

The seeds (``shared/seeds``) are plain-text scrapes: one USIP "Iran Primer" post with its
Related Publications cards, and one partner article from The Wire. Parsing works on paragraph
roles (title, dek, image line, author line, ``By:``/``Type:``/date lines, section headers), and
the scraping artefacts (glued types/topics, duplicated card titles, the partner note missing its
name) are repaired into clean fields. Facts the text does not contain live in :data:`EDITORIAL`.

Stdlib only: the app's ``flask seed`` command calls :func:`write_seed_data`.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

USIP_SEED = "003_c5a49b13bfc462a6.txt"
WIRE_SEED = "000_071376e2d7e7b75c.txt"

DATA_FILE: Path = Path(__file__).parent.parent / "data" / "seed.json"

# EDITORIAL FACTS -- decided by the newsroom, NOT parsed from the seed text (the text does not
# contain them). Keyed by seed file name; applied over the parsed article by build_seed_data().
# Nested dicts (``image``) are merged key by key; every other value replaces the parsed one.
EDITORIAL: dict[str, dict[str, Any]] = {
    USIP_SEED: {
        # The scrape starts at the dek: the post's headline was not captured.
        "title": "Khamenei Rejects U.S. Talks on Twitter",
        # Day of the remarks the post reports ("today"); no date line in the scrape.
        "published": "2013-02-07",
        "types": ["Analysis"],
        "topics": ["Global Policy", "Conflict Analysis & Prevention"],
        # Only the file name survives; the caption is the newsroom's.
        "image": {"caption": "Grand Ayatollah Ali Khamenei, Iran\u2019s Supreme Leader"},
        # pins: derived from the parsed Related Publications cards, not listed here.
    },
    WIRE_SEED: {
        # Day of the Paris conference the article reports ("today"); no date line in the scrape.
        "published": "2014-09-15",
        "types": ["Article"],
        "topics": ["Global Policy", "Violent Extremism"],
        "authors": [],
        "pins": [],
    },
}

# fmt: off
FIELDS: tuple[str, ...] = (
    "slug", "title", "dek", "summary", "published", "body", "authors", "types", "topics",
    "partner", "source_note", "image", "invitation", "pins", "seed_file",
)

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
# fmt: on

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

RELATED_HEADER = "Related Publications"
VIEW_ALL = "View All Publications"

_GLUE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_LONG_DATE = re.compile(
    r"^(?P<weekday>[A-Z][a-z]+), (?P<month>[A-Z][a-z]+) (?P<day>\d{1,2}), "
    r"(?P<year>\d{4})$"
)
_IMAGE = re.compile(r"^\S+\.(?:jpe?g|png|gif|webp)$", re.IGNORECASE)
_AUTHOR_BIO = re.compile(
    r"^(?P<name>[A-Z][\w.\u2019'-]*(?: [A-Z][\w.\u2019'-]*)+) is "
    r"(?:a|an|the) .+\.$"
)
_PARTNER_NOTE = re.compile(r"^This article is from the archive of our partner ?(?P<partner>.*)\.$")
_INVITATION = re.compile(r"\s*(?P<invitation>[^.?!]*\bcomments?\b[^.?!]*[.?!])\s*$")
_DEGREE = re.compile(
    r"^(?:Ph\.?D|M\.?D|J\.?D|Ed\.?D|M\.?B\.?A|M\.?A|M\.?S|Jr|Sr|Esq|I{2,3}|IV)\.?$"
)
_AUTHOR_SEP = re.compile(r"\s*(?:;|,|\band\b|&)\s*")
_SLUG_DROP = re.compile(r"['\u2018\u2019\u201c\u201d\"]|(?<=\w)\.(?=\w)")


def slugify(title: str) -> str:
    """Lowercase ASCII, hyphen-separated slug; quotes dropped and "U.S." -> "us"."""
    text = unicodedata.normalize("NFKD", _SLUG_DROP.sub("", title))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def split_glued(text: str) -> list[str]:
    """Split labels glued by the scrape ("AnalysisQuestion and Answer") at lower->UPPER joins."""
    return [part.strip() for part in _GLUE.split(text) if part.strip()]


def split_authors(line: str) -> list[str]:
    """Names from a ``By:`` line; a comma before a degree suffix ("Ph.D.") does not split."""
    line = re.sub(r"^By:\s*", "", line.strip())
    names: list[str] = []
    for piece in _AUTHOR_SEP.split(line):
        piece = " ".join(piece.split())  # also folds the non-breaking spaces of the scrape
        if not piece:
            continue
        if names and _DEGREE.match(piece):
            names[-1] = f"{names[-1]}, {piece}"
        else:
            names.append(piece)
    return names


def parse_long_date(text: str) -> str:
    """ISO date from "Tuesday, January 30, 2024"; raises ValueError if it is not one."""
    match = _LONG_DATE.match(text.strip())
    if not match or match["month"] not in MONTHS:
        raise ValueError(f"not a long date: {text!r}")
    date = dt.date(int(match["year"]), MONTHS.index(match["month"]) + 1, int(match["day"]))
    if WEEKDAYS[date.weekday()] != match["weekday"]:
        raise ValueError(f"weekday does not match date: {text!r}")
    return date.isoformat()


def _is_long_date(text: str) -> bool:
    try:
        parse_long_date(text)
    except ValueError:
        return False
    return True


def _paragraphs(text: str) -> list[str]:
    """Non-empty paragraphs (blank-line separated), whitespace-trimmed."""
    return [p.strip() for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]


def _dedupe_title(parts: list[str]) -> str:
    """One title from the scrape's title paragraphs: repeated copies (even glued) collapse."""
    unique = list(dict.fromkeys(parts))
    if len(unique) != 1:
        raise ValueError(f"expected one card title, got {parts!r}")
    title = unique[0]
    half = len(title) // 2
    if len(title) % 2 == 0 and title[:half] == title[half:]:
        title = title[:half]
    return title


def _split_invitation(body: list[str]) -> tuple[list[str], str | None]:
    """Split the closing call to comment out of the last body paragraph."""
    if not body or not (match := _INVITATION.search(body[-1])):
        return body, None
    rest = body[-1][: match.start()].rstrip()
    return [*body[:-1], *([rest] if rest else [])], match["invitation"]


def _publication(**fields: Any) -> dict[str, Any]:
    """A publication dict with every schema key, unspecified ones empty (None or [])."""
    empty_lists = {"body", "authors", "types", "topics", "pins"}
    pub = {key: [] if key in empty_lists else None for key in FIELDS}
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise KeyError(f"not publication fields: {sorted(unknown)}")
    pub.update(fields)
    return pub


def _parse_cards(paragraphs: list[str]) -> list[dict[str, Any]]:
    """Related Publications cards: title(s), date, By:, summary, Type:, then the topics line."""
    cards: list[dict[str, Any]] = []
    titles: list[str] = []
    card: dict[str, Any] | None = None
    expect_topics = False
    for para in paragraphs:
        if para == VIEW_ALL:
            break
        if expect_topics and card is not None:
            card["topics"] = split_glued(para)
            card, expect_topics = None, False
        elif _is_long_date(para):
            title = _dedupe_title(titles)
            card = _publication(slug=slugify(title), title=title, published=parse_long_date(para))
            cards.append(card)
            titles = []
        elif card is None:
            titles.append(para)
        elif para.startswith("By:"):
            card["authors"] = [{"name": name, "bio": None} for name in split_authors(para)]
        elif para.startswith("Type:"):
            card["types"] = split_glued(para.removeprefix("Type:"))
            expect_topics = True
        else:
            card["summary"] = f"{card['summary']} {para}" if card["summary"] else para
    if titles or expect_topics:
        raise ValueError("incomplete Related Publications card at end of document")
    return cards


def _image(file_name: str) -> dict[str, str | None]:
    """Image from its file name: alt drops the leading date digits, underscores, punctuation."""
    stem = Path(file_name).stem
    alt = re.sub(r"[\W_]+$", "", re.sub(r"^\d+", "", stem)).replace("_", " ").strip()
    return {"file": file_name, "alt": " ".join(alt.split()), "caption": None}


def parse_usip_post(text: str) -> dict[str, Any]:
    """Parse the USIP post: ``{"article": {...}, "cards": [...]}``.

    The scrape has no title or date (see :data:`EDITORIAL`): ``slug``, ``title``, ``published``
    and the image caption stay None here, and ``types``/``topics`` empty.
    """
    paragraphs = _paragraphs(text)
    if RELATED_HEADER in paragraphs:
        split_at = paragraphs.index(RELATED_HEADER)
        post, related = paragraphs[:split_at], paragraphs[split_at + 1 :]
    else:
        post, related = paragraphs, []
    if not post:
        raise ValueError("empty USIP post")
    dek, rest = post[0], post[1:]
    authors: list[dict[str, str | None]] = []
    if rest and (bio := _AUTHOR_BIO.match(rest[-1])):
        authors = [{"name": bio["name"], "bio": rest[-1]}]
        rest = rest[:-1]
    image: dict[str, str | None] | None = None
    body: list[str] = []
    for para in rest:
        if image is None and _IMAGE.match(para):
            image = _image(para)
        else:
            body.append(para)
    body, invitation = _split_invitation(body)
    cards = _parse_cards(related)
    article = _publication(
        dek=dek,
        summary=dek,
        body=body,
        authors=authors,
        image=image,
        invitation=invitation,
        pins=[card["slug"] for card in cards],
    )
    return {"article": article, "cards": cards}


def parse_partner_article(text: str) -> dict[str, Any]:
    """Parse a partner-archive article: title, dek, partner note(s) and body.

    The partner name is taken from whichever copy of the archive note carries it (the first copy
    in the scrape lost it); the note itself is rebuilt whole. ``published``, ``types`` and
    ``topics`` are editorial (see :data:`EDITORIAL`).
    """
    paragraphs = _paragraphs(text)
    if len(paragraphs) < 2:
        raise ValueError("partner article needs at least a title and a dek")
    title, dek = paragraphs[0], paragraphs[1]
    partners: list[str] = []
    body: list[str] = []
    for para in paragraphs[2:]:
        if note := _PARTNER_NOTE.match(para):
            if name := note["partner"].strip():
                partners.append(name)
        else:
            body.append(para)
    if len(set(partners)) > 1:
        raise ValueError(f"conflicting partner names: {partners!r}")
    partner = partners[0] if partners else None
    body, invitation = _split_invitation(body)
    note = f"This article is from the archive of our partner {partner}." if partner else None
    return _publication(
        slug=slugify(title),
        title=title,
        dek=dek,
        summary=dek,
        body=body,
        partner=partner,
        source_note=note,
        invitation=invitation,
    )


def _apply_editorial(pub: dict[str, Any], facts: dict[str, Any]) -> dict[str, Any]:
    """Overlay editorial facts (nested dicts merged) and derive the slug from the final title."""
    pub = copy.deepcopy(pub)
    for key, value in copy.deepcopy(facts).items():
        if key not in FIELDS:
            raise KeyError(f"editorial fact {key!r} is not a publication field")
        if isinstance(value, dict) and isinstance(pub[key], dict):
            pub[key] = {**pub[key], **value}
        else:
            pub[key] = value
    pub["slug"] = slugify(pub["title"])
    return pub


def build_seed_data(seeds_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """All five seed publications: the two articles (by seed file name), then the USIP cards."""
    seeds_dir = Path(seeds_dir)
    usip = parse_usip_post((seeds_dir / USIP_SEED).read_text(encoding="utf-8"))
    articles = {
        USIP_SEED: usip["article"],
        WIRE_SEED: parse_partner_article((seeds_dir / WIRE_SEED).read_text(encoding="utf-8")),
    }
    publications = [
        _apply_editorial({**article, "seed_file": name}, EDITORIAL[name])
        for name, article in sorted(articles.items())
    ]
    publications += usip["cards"]
    for pub in publications:
        missing = [key for key in ("slug", "title", "summary", "published") if not pub[key]]
        if missing or (pub["image"] and not pub["image"]["caption"]):
            raise ValueError(f"publication {pub['title']!r} lacks {missing or ['image caption']}")
    slugs = [pub["slug"] for pub in publications]
    if len(set(slugs)) != len(slugs):
        raise ValueError(f"duplicate slugs: {slugs!r}")
    return {"publications": publications}


def dumps_seed_data(data: dict[str, Any]) -> str:
    """Stable JSON text: sorted keys, indent 2, UTF-8 characters kept, trailing newline."""
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_seed_data(seeds_dir: Path, out_path: Path) -> None:
    """Parse the seeds in ``seeds_dir`` and write the data file to ``out_path``."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(dumps_seed_data(build_seed_data(seeds_dir)), encoding="utf-8")


def load_seed_data(path: Path = DATA_FILE) -> dict[str, Any]:
    """Read a data file written by :func:`write_seed_data`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
