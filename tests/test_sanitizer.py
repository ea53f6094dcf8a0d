"""Tests for discussion.sanitizer: Markdown subset, XSS payloads and property tests."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discussion.comments import sanitizer
from discussion.comments.sanitizer import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    ARTICLE_ATTRIBUTES,
    ARTICLE_TAGS,
    LINK_REL,
    SANITIZER_VERSION,
    get_cleaner,
    make_cleaner,
    render,
    render_article,
)

REL = f'rel="{LINK_REL}"'
_TAG_RE = re.compile(r"<(/?)([^\s/>]*)")


class _AllowlistChecker(HTMLParser):
    """Collect every violation of the comment allowlist in an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}>")
            return
        allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset())
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.errors.append(f"duplicate attribute on <{tag}>: {names}")
        values = dict(attrs)
        for name, value in attrs:
            if name not in allowed:
                self.errors.append(f"attribute {name}={value!r} on <{tag}>")
        if tag == "a":
            href = values.get("href")
            scheme = urlsplit(href or "").scheme.lower()
            if not href or scheme not in {"http", "https", "mailto"}:
                self.errors.append(f"href {href!r}")
            elif not href.lower().startswith(f"{scheme}:"):
                self.errors.append(f"href does not start with its scheme: {href!r}")
            elif any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in href):
                self.errors.append(f"whitespace or control character in href {href!r}")
            if values.get("rel") != LINK_REL:
                self.errors.append(f"rel {values.get('rel')!r}")
        if tag == "ol" and "start" in values and not (values["start"] or "").isdigit():
            self.errors.append(f"ol start {values['start']!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"end tag </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.errors.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.errors.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.errors.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.errors.append(f"unknown declaration {data!r}")


def assert_safe(html: str) -> None:
    """Assert ``html`` only uses allowlisted tags, attributes, protocols and rel values."""
    checker = _AllowlistChecker()
    checker.feed(html)
    checker.close()
    # Belt and braces: a lexical scan in case HTMLParser and a browser disagree.
    for _, name in _TAG_RE.findall(html):
        if name.lower() not in ALLOWED_TAGS:
            checker.errors.append(f"raw '<{name}' in output")
    assert not checker.errors, f"{checker.errors} in {html!r}"


# --- API and constants --------------------------------------------------------------


def test_constants() -> None:
    assert isinstance(SANITIZER_VERSION, int)
    assert SANITIZER_VERSION >= 1
    assert ALLOWED_PROTOCOLS == ("http", "https", "mailto")
    assert LINK_REL == "nofollow ugc noopener"
    expected_tags = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
    assert expected_tags == ALLOWED_TAGS
    assert dict(ALLOWED_ATTRIBUTES) == {"a": {"href", "rel"}, "ol": {"start"}}


@pytest.mark.parametrize("text", ["", " ", "\n", "\t \r\n  \n", "\u00a0", "\u2003\n"])
def test_blank_input_renders_empty(text: str) -> None:
    assert render(text) == ""


def test_cleaner_is_per_thread() -> None:
    assert get_cleaner() is get_cleaner()
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(get_cleaner()))
    thread.start()
    thread.join()
    assert seen and seen[0] is not get_cleaner()


def test_only_sanitizer_imports_bleach() -> None:
    package = Path(sanitizer.__file__).parent
    importers = {
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import|from)\s+bleach\b", path.read_text("utf-8"), re.M)
    }
    assert importers == {"sanitizer.py"}


# --- Markdown subset ---------------------------------------------------------------

MARKDOWN_CASES: list[tuple[str, str]] = [
    ("hello", "<p>hello</p>"),
    ("a\nb", "<p>a<br>\nb</p>"),
    ("a\r\nb", "<p>a<br>\nb</p>"),
    ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
    ("*em* _em_", "<p><em>em</em> <em>em</em></p>"),
    ("**strong** __strong__", "<p><strong>strong</strong> <strong>strong</strong></p>"),
    ("***both***", "<p><em><strong>both</strong></em></p>"),
    ("`a < b`", "<p><code>a &lt; b</code></p>"),
    (
        "```python\nif a < b:\n    print('x')\n```",
        "<pre><code>if a &lt; b:\n    print('x')\n</code></pre>",
    ),
    ("    indented\n    code", "<pre><code>indented\ncode\n</code></pre>"),
    ("> quoted\n> text", "<blockquote>\n<p>quoted<br>\ntext</p>\n</blockquote>"),
    ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
    ("* a\n* b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
    ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>"),
    ("3. a\n4. b", '<ol start="3">\n<li>a</li>\n<li>b</li>\n</ol>'),
    ("- a\n\n  b", "<ul>\n<li>\n<p>a</p>\n<p>b</p>\n</li>\n</ul>"),
    ("[USIP](https://www.usip.org/)", f'<p><a href="https://www.usip.org/" {REL}>USIP</a></p>'),
    (
        '[t](http://example.com "title")',
        f'<p><a href="http://example.com" {REL}>t</a></p>',
    ),
    ("[m](mailto:ed@example.com)", f'<p><a href="mailto:ed@example.com" {REL}>m</a></p>'),
    ("<https://example.com/>", f'<p><a href="https://example.com/" {REL}>https://example.com/</a></p>'),
    ("<ed@example.com>", f'<p><a href="mailto:ed@example.com" {REL}>ed@example.com</a></p>'),
    (
        "see http://example.com/a?b=1&c=2.",
        f'<p>see <a href="http://example.com/a?b=1&amp;c=2" {REL}>'
        "http://example.com/a?b=1&amp;c=2</a>.</p>",
    ),
    ("www.example.com", f'<p><a href="http://www.example.com" {REL}>www.example.com</a></p>'),
    ("(https://web.dev/x)", f'<p>(<a href="https://web.dev/x" {REL}>https://web.dev/x</a>)</p>'),
    (
        '"http://example.com/a"',
        f'<p>&quot;<a href="http://example.com/a" {REL}>http://example.com/a</a>&quot;</p>',
    ),
    ("ed@example.com", "<p>ed@example.com</p>"),
    ("`http://example.com`", "<p><code>http://example.com</code></p>"),
    ("```\nhttp://example.com\n```", "<pre><code>http://example.com\n</code></pre>"),
    (
        "[see http://a.com](http://b.com)",
        f'<p><a href="http://b.com" {REL}>see http://a.com</a></p>',
    ),
    (
        "*www.example.com*",
        f'<p><em><a href="http://www.example.com" {REL}>www.example.com</a></em></p>',
    ),
    ("a & b &amp; &copy; \"q\" 'a'", "<p>a &amp; b &amp; © &quot;q&quot; 'a'</p>"),
    ("\\*not em\\*", "<p>*not em*</p>"),
    # Outside the subset: shown as typed.
    ("# Heading", "<p># Heading</p>"),
    ("Title\n=====", "<p>Title<br>\n=====</p>"),
    ("Title\n---", "<p>Title<br>\n---</p>"),
    ("---", "<p>---</p>"),
    ("___", "<p>___</p>"),
    ("~~strike~~", "<p>~~strike~~</p>"),
    (
        "![alt](http://example.com/a.png)",
        f'<p>!<a href="http://example.com/a.png" {REL}>alt</a></p>',
    ),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>"),
    ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>"),
    ("<div>\nblock\n</div>", "<p>&lt;div&gt;<br>\nblock<br>\n&lt;/div&gt;</p>"),
    ("[x]: http://a.com", f'<p>[x]: <a href="http://a.com" {REL}>http://a.com</a></p>'),
    ("[x](/relative)", "<p>[x](/relative)</p>"),
    ("[x](#anchor)", "<p>[x](#anchor)</p>"),
    ("[x](ftp://example.com)", "<p>[x](ftp://example.com)</p>"),
    ("ftp://example.com", "<p>ftp://example.com</p>"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), MARKDOWN_CASES)
def test_markdown_subset(text: str, expected: str) -> None:
    html = render(text)
    assert html == expected
    assert_safe(html)


# --- Hostile input -----------------------------------------------------------------

# (payload, fragment that must appear in the output, or None)
HOSTILE_CASES: list[tuple[str, str | None]] = [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("<SCRIPT SRC=//xss.rocks/xss.js></SCRIPT>", "&lt;SCRIPT SRC="),
    ("<script", "&lt;script"),
    ("<scr<script>ipt>alert(1)</script>", "&lt;scr&lt;script&gt;ipt&gt;"),
    ("<<script>script>alert(1)<</script>/script>", "&lt;&lt;script&gt;script&gt;"),
    ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
    ("<IMG SRC=\"javascript:alert('XSS');\">", "&lt;IMG SRC=&quot;javascript:"),
    ("<IMG SRC=javascript:alert(String.fromCharCode(88,83,83))>", "&lt;IMG SRC="),
    ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
    ("<svg><script>alert(1)</script></svg>", "&lt;svg&gt;&lt;script&gt;"),
    ('<iframe src="javascript:alert(1)"></iframe>', "&lt;iframe src="),
    ('<a href="javascript:alert(1)">click</a>', "&lt;a href=&quot;javascript:alert(1)&quot;&gt;"),
    ('<a href="&#106;avascript:alert(1)">x</a>', "&lt;a href="),
    ('<a href="http://example.com/" onmouseover="alert(1)">x</a>', "onmouseover=&quot;"),
    ("<body onload=alert(1)>", "&lt;body onload=alert(1)&gt;"),
    ("<b onmouseover=alert(1)>bold", "&lt;b onmouseover=alert(1)&gt;bold"),
    ('<div style="background:url(javascript:alert(1))">x</div>', "&lt;div style="),
    ("<style>@import 'http://evil.com/x.css';</style>", "&lt;style&gt;@import"),
    ("<!-- <script>alert(1)</script> -->", "&lt;!-- &lt;script&gt;"),
    ("<![CDATA[<script>alert(1)</script>]]>", "&lt;![CDATA[&lt;script&gt;"),
    ("<?xml version=\"1.0\"?><x/>", "&lt;?xml"),
    ("<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "&lt;math&gt;"),
    ('<noscript><p title="</noscript><img src=x onerror=alert(1)>">', "&lt;noscript&gt;"),
    ("<form action=javascript:alert(1)><button>x</button></form>", "&lt;form action="),
    ('<object data="javascript:alert(1)">', "&lt;object"),
    ('<meta http-equiv="refresh" content="0;url=javascript:alert(1)">', "&lt;meta"),
    ("<input autofocus onfocus=alert(1)>", "&lt;input autofocus"),
    ("<details open ontoggle=alert(1)>", "&lt;details"),
    ('<base href="javascript:alert(1)//">', "&lt;base href="),
    ("<embed src=javascript:alert(1)>", "&lt;embed"),
    ("`<script>alert(1)</script>`", "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>"),
    ("```\n<script>alert(1)</script>\n```", "<pre><code>&lt;script&gt;"),
    ("> <script>alert(1)</script>", "<blockquote>\n<p>&lt;script&gt;"),
    ("**<script>**alert(1)**</script>**", "<strong>&lt;script&gt;<strong>alert(1)"),
    ("[<img src=x onerror=alert(1)>](http://example.com)", "&lt;img src=x onerror="),
    ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
    ("[x](JaVaScRiPt:alert(1))", None),
    ("[x](jav&#x61;script:alert(1))", None),
    ("[x](jav&#97;script:alert(1))", None),
    ("[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))", None),
    ("[x](javascript&colon;alert(1))", None),
    ("[x](%6A%61%76%61%73%63%72%69%70%74:alert(1))", None),
    ("[x](<java script:alert(1)>)", None),
    ("[x](<java\tscript:alert(1)>)", None),
    ("[x](java\x00script:alert(1))", None),
    ("[x](\x01javascript:alert(1))", None),
    ("[x](<\u2028javascript:alert(1)>)", None),
    ("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", None),
    ("[x](vbscript:msgbox(1))", None),
    ("[x](file:///etc/passwd)", None),
    ("[x](//evil.com/x)", None),
    ("[x](\\\\evil.com)", None),
    ("![x](javascript:alert(1))", None),
    ("[x][r]\n\n[r]: javascript:alert(1)", None),
    ("<javascript:alert(1)>", "&lt;javascript:alert(1)&gt;"),
    ('[a](http://x" onmouseover="y)', "&quot; onmouseover=&quot;"),
    ('[a](<http://x" onmouseover="y">)', None),
    ("[a](http://x 'onmouseover=alert(1)')", None),
    ('<http://x"onmouseover="y>', None),
    ('www.example.com/"onmouseover=alert(1)//', "&quot;onmouseover=alert(1)//"),
    ("http://example.com/<img src=x onerror=alert(1)>", "&lt;img src=x"),
    ("http://example.com/'onmouseover='alert(1)", None),
    ("<" * 5000 + "script>", None),
    ("[" * 2000 + "x" + "](javascript:alert(1))" * 2000, None),
    ("a" * 50_000 + "<script>alert(1)</script>", "&lt;script&gt;"),
    ("http://example.com/" + "a" * 10_000, None),
    ("x\x00<script>alert(1)</script>", "&lt;script&gt;"),
    ("\u202e<script>alert(1)</script>\u202c", "\u202e&lt;script&gt;"),
    ("\ufeff<img src=x onerror=alert(1)>", "&lt;img"),
    ("<\x00script>alert(1)</script>", None),
    ("\x0b\x0c<script>\x1b", None),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "fragment"), HOSTILE_CASES)
def test_hostile_input_is_neutralised(payload: str, fragment: str | None) -> None:
    html = render(payload)
    assert_safe(html)
    if fragment is not None:
        assert fragment in html
    assert get_cleaner().clean(html) == html


@pytest.mark.parametrize(
    "payload",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](jav&#x61;script:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
        "[x](//evil.com)",
        "[x](<java\tscript:alert(1)>)",
        "[x](java\x00script:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
    ],
)
def test_unsafe_links_produce_no_anchor(payload: str) -> None:
    html = render(payload)
    assert 'href="//' not in html
    assert not re.search(r"<a\b[^>]*\bhref=\"(?!https?://|mailto:)", html)
    if "//evil.com" not in payload:
        assert "<a " not in html


@pytest.mark.parametrize(
    "html",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href="//evil.com">x</a>',
        "<a>no href</a>",
        '<a href="ftp://x.com">x &lt;y&gt;</a>',
        '<a href="http://ok.com" target="_blank" rel="opener" onclick="y">ok</a>',
        '<img src="http://x.com/a.png"><span class="c" style="x" id="i">t</span>',
    ],
)
def test_cleaner_enforces_allowlist_on_raw_html(html: str) -> None:
    """The Cleaner alone (no Markdown escaping) still enforces every rule."""
    cleaned = make_cleaner().clean(html)
    assert_safe(cleaned)
    assert "javascript" not in cleaned
    assert "target" not in cleaned
    assert 'opener"' not in cleaned.replace(f'"{LINK_REL}"', "")


def test_code_language_class_dropped() -> None:
    html = render("```js\nalert(1)\n```")
    assert html == "<pre><code>alert(1)\n</code></pre>"


# --- Properties --------------------------------------------------------------------

FRAGMENTS = [
    "<", ">", "/", "[", "]", "](", ")", "(", "javascript:", "JaVaScRiPt:", "data:", "http://",
    "https://", "mailto:", "www.", "example.com", ".org", "@", "*", "**", "_", "`", "```",
    "\n", "\n\n", "    ", "> ", "- ", "1. ", "# ", "---", "!", "\"", "'", "=", "&", "&amp;",
    "&#x61;", "&quot;", ";", " ", "\t", "\x00", "\u202e", "<script>", "</script>",
    "<a href=", "<img src=x onerror=", "onmouseover=", "<!--", "-->", "<![CDATA[", "\\",
    "a", "x", "%20", "?q=1&b=2", "#", ":",
]  # fmt: skip

_pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3))
markup = st.lists(_pieces, max_size=40).map("".join)

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _check_properties(text: str) -> None:
    html = render(text)
    assert_safe(html)
    assert render(text) == html
    assert get_cleaner().clean(html) == html
    assert make_cleaner().clean(html) == html


@PROPERTY_SETTINGS
@given(st.text())
def test_any_text_is_safe_deterministic_and_stable(text: str) -> None:
    _check_properties(text)


@PROPERTY_SETTINGS
@given(markup)
def test_markup_soup_is_safe_deterministic_and_stable(text: str) -> None:
    _check_properties(text)


# --- Editors' article bodies -----------------------------------------------------------


class _ArticleChecker(HTMLParser):
    """Every tag and attribute of an article body is on the editor's allowlist; links go
    to http, https or mailto; images only to the site's media."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ARTICLE_TAGS:
            self.errors.append(f"tag <{tag}>")
            return
        values = dict(attrs)
        for name, value in attrs:
            if name not in ARTICLE_ATTRIBUTES.get(tag, frozenset()):
                self.errors.append(f"attribute {name}={value!r} on <{tag}>")
        if tag == "a":
            href = values.get("href") or ""
            if urlsplit(href).scheme.lower() not in {"http", "https", "mailto"}:
                self.errors.append(f"href {href!r}")
        if tag == "img" and not (values.get("src") or "").startswith("/media/"):
            self.errors.append(f"img src {values.get('src')!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ARTICLE_TAGS:
            self.errors.append(f"end tag </{tag}>")

    def handle_comment(self, data: str) -> None:
        self.errors.append(f"comment {data!r}")


def assert_safe_article(html: str) -> None:
    checker = _ArticleChecker()
    checker.feed(html)
    checker.close()
    for _, name in _TAG_RE.findall(html):
        if name.lower() not in ARTICLE_TAGS:
            checker.errors.append(f"raw '<{name}' in output")
    assert not checker.errors, f"{checker.errors} in {html!r}"


ARTICLE_HOSTILE = [
    *(payload for payload, _ in HOSTILE_CASES),
    '![x](javascript:alert(1) "t")',
    "![x](//evil.example/x.png)",
    "![x](/media//evil.example/x.png)",
    '![x](/media/a.jpg "<script>alert(1)</script>")',
    '![<img src=x onerror=alert(1)>](/media/a.jpg "c")',
    "![x](data:image/png;base64,AAAA)",
    "![x](https://evil.example/track.gif)",
    "# <script>alert(1)</script>",
    "<figure onclick=alert(1)><img src=/media/a.jpg></figure>",
]


@pytest.mark.parametrize("text", ARTICLE_HOSTILE)
def test_the_editors_allowlist_holds_against_hostile_input(text: str) -> None:
    html = render_article(text)
    assert_safe_article(html)
    assert render_article(text) == html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Top\n\n## Sub\n\n##### Deep", "<h2>Top</h2>\n<h2>Sub</h2>\n<h4>Deep</h4>"),
        (
            '![A map of the region](/media/ab12.jpg "Where the talks were held")',
            '<figure class="figure"><img src="/media/ab12.jpg" alt="A map of the region">'
            '<figcaption class="figure__caption">Where the talks were held</figcaption></figure>',
        ),
        (
            "Inline ![icon](/media/i.png) image",
            '<p>Inline <img src="/media/i.png" alt="icon"> image</p>',
        ),
        ("![outside](https://example.org/x.png)", "<p>outside</p>"),
        ("[a link](https://example.org)", '<p><a href="https://example.org">a link</a></p>'),
        ("---", "<hr>"),
    ],
)
def test_the_editors_markdown(text: str, expected: str) -> None:
    assert render_article(text) == expected


@PROPERTY_SETTINGS
@given(markup)
def test_any_article_markup_is_safe_and_stable(text: str) -> None:
    html = render_article(text)
    assert_safe_article(html)
    assert render_article(text) == html
