"""Render reader comments (a small Markdown subset) and editors' article bodies (a larger
one) to safe HTML.

This is the only module in the project that imports bleach. Comments and bodies are
stored exactly as typed; :func:`render` (comments) and :func:`render_article` (bodies)
are called once at write time and their output is stored next to the source text;
comments also record :data:`SANITIZER_VERSION`, so stored HTML can be re-rendered
whenever the output of this module changes.

Pipeline: markdown-it-py (CommonMark with raw HTML, headings, rules, images, tables and
reference definitions switched off) -> bleach ``Cleaner`` with an explicit allowlist and
a ``LinkifyFilter`` that links bare URLs and normalises every ``<a>``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from functools import partial
from html import escape
from types import MappingProxyType
from typing import Any

from bleach.linkifier import TLDS, LinkifyFilter, build_url_re
from bleach.sanitizer import Cleaner
from markdown_it import MarkdownIt

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "LINK_REL",
    "SANITIZER_VERSION",
    "get_cleaner",
    "is_allowed_url",
    "make_cleaner",
    "render",
    "render_article",
]

#: Bump whenever the HTML produced for the same input changes (re-render CLI uses it).
SANITIZER_VERSION: int = 1

ALLOWED_TAGS: frozenset[str] = frozenset(
    {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
)
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {"a": frozenset({"href", "rel"}), "ol": frozenset({"start"})}
)
ALLOWED_PROTOCOLS: tuple[str, ...] = ("http", "https", "mailto")
LINK_REL: str = "nofollow ugc noopener"

# Markdown rules outside the comment subset. Disabled rules leave their syntax as text.
_DISABLED_RULES: tuple[str, ...] = (
    "heading",
    "lheading",
    "hr",
    "image",
    "table",
    "strikethrough",
    "html_block",
    "html_inline",
    "reference",
)

# bleach's TLD list predates the new gTLDs; add a few that readers commonly link to.
_EXTRA_TLDS: frozenset[str] = frozenset(
    {"app", "blog", "dev", "news", "online", "page", "site", "tech", "xyz"}
)
_URL_RE = build_url_re(tlds=sorted(set(TLDS) | _EXTRA_TLDS))

# A scheme must start the URL literally: entity-encoded, space-prefixed or
# protocol-relative URLs have no scheme here and are therefore rejected.
_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


def is_allowed_url(url: str) -> bool:
    """Return True if ``url`` is an absolute http, https or mailto URL."""
    match = _SCHEME_RE.match(url)
    return match is not None and match.group(1).lower() in ALLOWED_PROTOCOLS


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.disable(list(_DISABLED_RULES), ignoreInvalid=True)
    # markdown-it only blocks javascript:/vbscript:/file:/data:; we allow far less, so
    # a link with any other destination stays literal text instead of becoming <a>.
    md.validateLink = is_allowed_url  # type: ignore[method-assign]
    return md


_MARKDOWN = _build_markdown()

_AttrKey = tuple[str | None, str] | str
_Attrs = dict[_AttrKey, str]


def _normalise_link(attrs: _Attrs, new: bool = False) -> _Attrs | None:
    """Linkify callback: drop unsafe links, keep only href and force ``rel``.

    Returning None makes bleach replace the ``<a>`` with its text.
    """
    href = attrs.get((None, "href"), "")
    if not is_allowed_url(href):
        return None
    return {(None, "href"): href, (None, "rel"): LINK_REL, "_text": attrs.get("_text", "")}


def make_cleaner() -> Cleaner:
    """Build a new bleach ``Cleaner`` configured with this module's allowlist."""
    linkify = partial(
        LinkifyFilter,
        callbacks=[_normalise_link],
        skip_tags={"pre", "code"},
        parse_email=False,
        url_re=_URL_RE,
    )
    return Cleaner(
        tags=ALLOWED_TAGS,
        attributes={tag: list(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[linkify],
    )


_local = threading.local()


def get_cleaner() -> Cleaner:
    """Return this thread's ``Cleaner`` (bleach cleaners are not thread-safe)."""
    cleaner: Cleaner | None = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = make_cleaner()
    return cleaner


def render(text: str) -> str:
    """Render a reader's comment, as typed, to sanitised HTML ("" for blank input)."""
    if not text.strip():
        return ""
    return get_cleaner().clean(_MARKDOWN.render(text)).strip()


# --- editors' article bodies ---------------------------------------------------------

#: What an editor's Markdown may produce: the comment subset plus subheads, images of the
#: site's own media, figures with captions and rules.
ARTICLE_TAGS: frozenset[str] = ALLOWED_TAGS | {
    "h2", "h3", "h4", "img", "figure", "figcaption", "hr",
}  # fmt: skip
ARTICLE_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "a": frozenset({"href", "title"}),
        "ol": frozenset({"start"}),
        "img": frozenset({"src", "alt"}),
        "figure": frozenset({"class"}),
        "figcaption": frozenset({"class"}),
    }
)
MEDIA_PREFIX = "/media/"  # images in an article come from the site's media library
_ARTICLE_DISABLED_RULES: tuple[str, ...] = (
    "table",
    "strikethrough",
    "html_block",
    "html_inline",
    "reference",
)


def _is_media(src: str) -> bool:
    return src.startswith(MEDIA_PREFIX) and "//" not in src and "\\" not in src


def _article_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": False, "linkify": False})
    md.disable(list(_ARTICLE_DISABLED_RULES), ignoreInvalid=True)
    md.validateLink = lambda url: is_allowed_url(url) or _is_media(url)  # type: ignore[method-assign]
    md.core.ruler.push("article_shape", _shape_article)
    md.add_render_rule("image", _render_figure)
    return md


def _shape_article(state: Any) -> None:
    """Headings become h2-h4 (the page has the h1); an image alone in a paragraph
    becomes a figure, its title the caption."""
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type in ("heading_open", "heading_close"):
            level = min(max(int(token.tag[1]), 2), 4)
            token.tag = f"h{level}"
        if (
            token.type == "paragraph_open"
            and i + 2 < len(tokens)
            and tokens[i + 1].type == "inline"
            and [c.type for c in tokens[i + 1].children or []] == ["image"]
            and _is_media(tokens[i + 1].children[0].attrGet("src") or "")
        ):
            token.hidden = tokens[i + 2].hidden = True
            tokens[i + 1].children[0].meta["figure"] = True


def _render_figure(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = self.renderInlineAsText(token.children or [], options, env)
    if not _is_media(src):
        return escape(alt)
    img = f'<img src="{escape(src)}" alt="{escape(alt)}">'
    if not token.meta.get("figure"):
        return img
    title = token.attrGet("title")
    caption = f'<figcaption class="figure__caption">{escape(title)}</figcaption>' if title else ""
    return f'<figure class="figure">{img}{caption}</figure>\n'


_ARTICLE_MARKDOWN = _article_markdown()


def _make_article_cleaner() -> Cleaner:
    return Cleaner(
        tags=ARTICLE_TAGS,
        attributes={tag: list(attrs) for tag, attrs in ARTICLE_ATTRIBUTES.items()},
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )


def render_article(text: str) -> str:
    """Render an editor's Markdown body to sanitised HTML ("" for blank input)."""
    if not text.strip():
        return ""
    cleaner: Cleaner | None = getattr(_local, "article_cleaner", None)
    if cleaner is None:
        cleaner = _local.article_cleaner = _make_article_cleaner()
    return cleaner.clean(_ARTICLE_MARKDOWN.render(text)).strip()
