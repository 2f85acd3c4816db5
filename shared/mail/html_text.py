"""A faithful text rendering of mail HTML (pure; the standard library's HTML parser).

What a reader sees, as lines: paragraphs and headings separated by a blank line, one line
per ``<div>``, ``<br>`` and table row, Outlook's margin-less ``MsoNormal`` paragraphs one
line each (their empty ones are its blank lines), list items as ``- `` or ``1. ``, quoted
blocks (``<blockquote>``) prefixed with ``> `` so quote detection works on HTML-only mail,
links as ``text (url)`` when the url is not already the text. Scripts, styles and hidden
elements give no text. The parser never fails on broken markup and runs in linear time.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_SKIPPED = frozenset({"script", "style", "title", "template", "xml", "noscript"})
_LINE_BLOCKS = frozenset(
    {
        "div", "tr", "li", "dt", "dd", "dl", "table", "tbody", "thead", "tfoot", "center",
        "address", "form", "fieldset", "section", "article", "header", "footer", "nav",
        "aside", "main", "figure", "figcaption", "hr", "caption", "body", "html",
    }
)  # fmt: skip
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre"})
_VOID = frozenset(
    {"br", "img", "hr", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_NO_MARGIN = re.compile(r"margin(?:-bottom)?\s*:\s*0(?:[a-z%]+)?\s*(?:;|$)", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_LINKED_SCHEMES = ("http://", "https://", "ftp://", "mailto:")


class _Renderer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []  # (quote depth, text)
        self._line: list[str] = []
        self._line_visible = False  # whether the line has more than spaces yet
        self._line_depth = 0
        self._depth = 0  # blockquote nesting
        self._pre = 0
        self._skipping: list[str] = []  # elements whose content gives no text
        self._lists: list[list[int]] = []  # per open list: [next number] or [] if bulleted
        self._links: list[tuple[str, int, int]] = []  # (href, lines, pieces of the line)
        self._row_cells: list[int] = []

    # lines ---------------------------------------------------------------------------
    def _write(self, text: str, *, verbatim: bool = False) -> None:
        if not self._line:
            self._line_depth = self._depth
            if not (self._pre or verbatim):
                text = text.lstrip(" ")
                if not text:
                    return
        elif not self._pre and text.startswith(" ") and self._line[-1].endswith(" "):
            text = text[1:]
        if text:
            self._line.append(text)
            self._line_visible = self._line_visible or bool(text.strip(" \xa0"))

    def _end_line(self, *, keep_empty: bool = False) -> None:
        if self._line or keep_empty:
            depth = self._line_depth if self._line else self._depth
            self.lines.append((depth, "".join(self._line)))
        self._line = []
        self._line_visible = False

    def _block(self, blank_line: bool) -> None:
        """A block starts or ends: a new line, and a blank one between paragraphs."""
        self._end_line()
        if not (blank_line and self.lines):
            return
        depth, last = self.lines[-1]
        if last.strip(" \xa0") and depth == self._depth:  # none right inside a quote
            self.lines.append((self._depth, ""))

    # parser callbacks ----------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skipping:
            if tag == self._skipping[0]:
                self._skipping.append(tag)
            return
        attributes = {name: value or "" for name, value in attrs}
        if tag in _SKIPPED or (
            tag not in _VOID and _HIDDEN_STYLE.search(attributes.get("style", ""))
        ):
            self._skipping.append(tag)
            return
        if tag == "br":
            self._end_line(keep_empty=True)
        elif tag == "blockquote":
            self._block(blank_line=False)
            self._depth += 1
        elif tag in ("ul", "ol", "menu"):
            self._block(blank_line=False)
            start = attributes.get("start", "1")
            self._lists.append([int(start) if start.isdigit() else 1] if tag == "ol" else [])
        elif tag == "li":
            self._block(blank_line=False)
            self._write(self._bullet(), verbatim=True)
        elif tag == "p":
            self._block(blank_line=not self._margin_less(attributes))
        elif tag in _PARAGRAPHS:
            self._block(blank_line=True)
            self._pre += tag == "pre"
        elif tag in _LINE_BLOCKS:
            self._block(blank_line=False)
            if tag == "tr":
                self._row_cells.append(0)
        elif tag in ("td", "th"):
            self._cell()
        elif tag == "a":
            self._links.append((attributes.get("href", "").strip(), *self._position()))

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping[0]:
                self._skipping.pop()
            return
        if tag == "blockquote":
            self._block(blank_line=False)
            self._depth = max(0, self._depth - 1)
        elif tag in ("ul", "ol", "menu"):
            self._block(blank_line=False)
            if self._lists:
                self._lists.pop()
        elif tag == "p":
            self._block(blank_line=False)
        elif tag in _PARAGRAPHS:
            self._block(blank_line=True)
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag in _LINE_BLOCKS:
            self._block(blank_line=False)
            if tag == "tr" and self._row_cells:
                self._row_cells.pop()
        elif tag == "a" and self._links:
            self._end_link(*self._links.pop())

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._skipping or not data:
            return
        if self._pre:
            first, *rest = data.split("\n")
            self._write(first)
            for line in rest:
                self._end_line(keep_empty=True)
                self._write(line)
        else:
            self._write(_SPACES.sub(" ", data))

    def finish(self) -> list[tuple[int, str]]:
        self.close()
        self._end_line()
        return self.lines

    # helpers -------------------------------------------------------------------------
    @staticmethod
    def _margin_less(attributes: dict[str, str]) -> bool:
        """Outlook's paragraphs (class MsoNormal, or margin 0) show as single lines."""
        classes = attributes.get("class", "").lower().split()
        return "msonormal" in classes or bool(_NO_MARGIN.search(attributes.get("style", "")))

    def _bullet(self) -> str:
        level = max(0, len(self._lists) - 1)
        if self._lists and self._lists[-1]:
            number = self._lists[-1][0]
            self._lists[-1][0] += 1
            return "  " * level + f"{number}. "
        return "  " * level + "- "

    def _cell(self) -> None:
        if self._row_cells:
            self._row_cells[-1] += 1
            if self._row_cells[-1] > 1 and self._line_visible:
                self._write(" | ")

    def _position(self) -> tuple[int, int]:
        return len(self.lines), len(self._line)

    def _end_link(self, href: str, lines_before: int, pieces_before: int) -> None:
        if not href.lower().startswith(_LINKED_SCHEMES) or len(self.lines) != lines_before:
            return  # not a link to show, or its text spans lines (a block of content)
        text = "".join(self._line[pieces_before:]).strip(" \xa0")
        shown = (
            href[len("mailto:") :].split("?", 1)[0] if href.lower().startswith("mailto:") else href
        )
        if text and _comparable(text) != _comparable(shown):
            self._write(f" ({shown})")


def _comparable(url: str) -> str:
    url = url.strip().lower()
    url = re.sub(r"^(?:https?://|ftp://|mailto:)", "", url)
    return url.removeprefix("www.").rstrip("/")


def html_to_text(markup: str) -> str:
    """The text a reader sees in ``markup``, as lines (see the module's docstring)."""
    renderer = _Renderer()
    try:
        renderer.feed(markup)
        rendered = renderer.finish()
    except Exception:  # the parser is lenient; this is only a guard against the unforeseen
        return _strip_tags(markup)
    lines: list[str] = []
    for depth, text in rendered:
        # Spaces collapse, but not the indentation at the start of a line (lists, <pre>).
        text = re.sub(r"(?<=\S) +", " ", text.replace("\xa0", " ")).rstrip()
        lines.append(("> " * depth + text).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


def _strip_tags(markup: str) -> str:
    text = html.unescape(re.sub(r"<[^>]*>", " ", markup))
    return re.sub(r"[ \t\xa0]+", " ", text).strip()
