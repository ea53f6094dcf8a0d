"""Turning an export's comment into what the site stores: untrusted HTML (or Markdown,
from Isso) into Markdown source text, rendered by the comment sanitizer exactly as a
typed comment is. Pure functions, so batches can be converted in worker processes."""

from __future__ import annotations

import html
import re

from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from ..comments import posting, sanitizer

_BLANK_LINES = re.compile(r"\n\s*\n")
_BLOCK_TAG = re.compile(r"<(p|div|ul|ol|blockquote|pre|h[1-6]|table)[\s>]", re.IGNORECASE)
_UNSAFE = ("script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math")


class _Converter(MarkdownConverter):
    """HTML to the Markdown the site stores; links keep only http(s) and mailto."""

    def convert_a(self, el, text, parent_tags):  # type: ignore[no-untyped-def]
        href = el.get("href") or ""
        if not sanitizer.is_allowed_url(href):
            return text
        return super().convert_a(el, text, parent_tags)


_MARKDOWN = _Converter(heading_style="ATX", bullets="-", strip=["img"], escape_misc=False)
_ARTICLE_MARKDOWN = _Converter(heading_style="ATX", bullets="-", escape_misc=False)


def paragraphs(source: str) -> str:
    """WordPress's stored text as HTML: blank lines part paragraphs, and a single line
    break is a break, as WordPress shows it (``wpautop``), unless it is already HTML."""
    source = source.replace("\r\n", "\n").strip()
    if _BLOCK_TAG.search(source):
        return source
    parts = [p.strip().replace("\n", "<br>\n") for p in _BLANK_LINES.split(source) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in parts)


def markdown_from_html(source: str, *, article: bool = False) -> str:
    """Untrusted HTML as Markdown source text: scripts, styles and frames dropped, the
    rest turned into the Markdown the sanitizer renders (never passed through). Text
    without tags takes a shorter way to the same kind of result."""
    if "<" not in source:
        return _plain(html.unescape(source))
    soup = BeautifulSoup(paragraphs(source), "html.parser")
    for tag in soup.find_all(_UNSAFE):
        tag.decompose()
    converter = _ARTICLE_MARKDOWN if article else _MARKDOWN
    text = converter.convert_soup(soup)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def plain_text(source: str) -> str:
    """A title or a name: tags dropped, entities decoded, spaces collapsed."""
    if "<" in source:
        source = BeautifulSoup(source, "html.parser").get_text(" ")
    return " ".join(html.unescape(source).split())


def _plain(source: str) -> str:
    """Text without tags as Markdown that renders to the same text: blank lines part
    paragraphs, a line break stays one (as WordPress shows it)."""
    source = source.replace("\r\n", "\n").strip()
    return "\n\n".join(
        "  \n".join(
            _MARKDOWN.escape(" ".join(line.split()), set())
            for line in part.split("\n")
            if line.strip()
        )
        for part in _BLANK_LINES.split(source)
        if part.strip()
    )


def comment_text(content: str, kind: str) -> str:
    """An exported comment's text as the site stores it (``kind``: html or markdown)."""
    if kind == "markdown":
        return content.replace("\r\n", "\n").strip()
    return markdown_from_html(content)


def render_batch(items: list[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(content, kind) pairs → (stored text, its HTML, its hash), as posting stores a
    typed comment; an empty text stays empty (the caller skips it)."""
    out = []
    for content, kind in items:
        text = comment_text(content, kind)
        out.append((text, sanitizer.render(text) if text else "", posting.body_hash(text)))
    return out
