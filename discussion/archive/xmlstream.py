"""Reading an export's XML as a stream, safely: no DTDs, no entities, nothing fetched
(defusedxml), each element handed over once complete and then freed, bytes that are not
UTF-8 replaced rather than ending the import."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, iterparse

CHUNK = 1 << 16
_DECLARED = re.compile(rb"<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


class NotTheFormat(Exception):
    """The file is not the format named (or not XML at all): one clear message."""


class Utf8Repair:
    """A binary reader that passes UTF-8 through and replaces invalid byte sequences
    with U+FFFD (counting them), so one bad byte costs a character, not the import."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.replaced = 0

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.raw.read(size if size and size > 0 else CHUNK)
        text = self.decoder.decode(chunk, final=not chunk)
        self.replaced += text.count("\ufffd")
        return text.encode("utf-8")


def local(tag: str) -> str:
    """An element's name without its namespace: ``{http://…/1.2/}post_id`` → ``post_id``."""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def text(element: Element | None) -> str:
    """An element's text, stripped ("" when absent)."""
    if element is None or element.text is None:
        return ""
    return element.text.strip()


def child(element: Element, name: str) -> Element | None:
    """The first child with this local name, in any namespace."""
    for c in element:
        if local(c.tag) == name:
            return c
    return None


def child_text(element: Element, name: str) -> str:
    return text(child(element, name))


class XmlStream:
    """An export read element by element: :meth:`elements` yields each complete element
    whose local name is wanted (not one nested in another wanted one), in document
    order, and frees it once the caller is done. ``position`` is how many bytes were
    read (for a progress bar); ``replaced`` how many invalid UTF-8 sequences became
    U+FFFD."""

    def __init__(self, source: IO[bytes], *, root: str, format_name: str) -> None:
        self.counter = _Counting(source)
        head = self.counter.read(512)
        declared = _DECLARED.search(head)
        rest = _Rejoined(head, self.counter)
        encoding = declared.group(1).decode("ascii").lower() if declared else "utf-8"
        utf8 = encoding.replace("_", "-") in ("utf-8", "utf8")
        self.repair = Utf8Repair(rest) if utf8 else None  # other encodings: expat decodes
        self.reader = self.repair or rest
        self.root, self.format_name = root, format_name

    @property
    def position(self) -> int:
        return self.counter.count

    @property
    def replaced(self) -> int:
        return self.repair.replaced if self.repair else 0

    def elements(self, wanted: set[str]) -> Iterator[Element]:
        parser = DefusedXMLParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
        stack: list[Element] = []
        inside = 0  # how many wanted elements are open around the current one
        try:
            for event, element in iterparse(self.reader, events=("start", "end"), parser=parser):
                name = local(element.tag)
                if event == "start":
                    if not stack and name != self.root:
                        raise NotTheFormat(
                            f"This is not {self.format_name}: the file's first element is "
                            f"<{name}>, not <{self.root}>."
                        )
                    stack.append(element)
                    inside += name in wanted
                    continue
                stack.pop()
                if name in wanted:
                    inside -= 1
                    if inside:
                        continue
                    yield element
                elif inside:
                    continue
                element.clear()  # done with: free it and its place in the parent
                if stack:
                    stack[-1].remove(element)
        except DefusedXmlException as error:
            raise NotTheFormat(
                f"Refused: the file declares a DTD or entities ({type(error).__name__}); "
                f"{self.format_name} files have none, and expanding them is how XML attacks "
                "work."
            ) from error
        except ParseError as error:
            if not stack:
                raise NotTheFormat(f"This is not {self.format_name}: {error}.") from error
            raise NotTheFormat(
                f"The file stops being well-formed XML ({error}). What came before that "
                "point was imported; mend the file and import it again (nothing is "
                "imported twice)."
            ) from error


class _Counting:
    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.count = raw, 0

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.raw.read(size if size and size > 0 else CHUNK)
        self.count += len(chunk)
        return chunk


class _Rejoined:
    """A stream with its first bytes (already read to sniff the encoding) put back."""

    def __init__(self, head: bytes, rest: _Counting) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = CHUNK) -> bytes:
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.rest.read(size)
