"""The text inside mail attachments (supplier quotes), for the search index (pure).

``extract_text`` turns an attachment's bytes into the text a reader sees, with a status
that says why there is none. PDF is read by pypdf; Word, Excel and PowerPoint (OOXML) and
OpenDocument files are read straight from their zip with the standard library's XML
parser, streaming only the parts that carry text; HTML goes through the mail renderer;
plain text is decoded whatever its charset. What a file *is* comes from its bytes first
(mail clients send most attachments as ``application/octet-stream``, or with a wrong
name), then from its declared type, then from its name.

Files may be hostile: the zip readers cap the members and the bytes they decompress, and
refuse an XML part that declares a DOCTYPE, so no entity can expand. Bad input never
raises; it gives a status and a one-line detail. Time and memory are bounded by the
caller, which runs this in another process (``services/search/adapters/extraction_pool.py``).
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import IO, Literal
from xml.etree import ElementTree

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError

from shared.mail.charsets import decode_bytes
from shared.mail.html_text import html_to_text

# Bump when the text extracted from the same bytes changes, so stored text is re-extracted.
EXTRACTOR_VERSION = 1

ExtractionStatus = Literal["ok", "empty", "unsupported", "too_large", "failed", "timeout"]

# What ``document_kind`` may answer.
DOCUMENT_KINDS = ("pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "html", "text")

# Zip bombs: what one office file may make us decompress, and how many members it may list.
MAX_UNZIPPED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000

TRUNCATED = "truncated"


@dataclass(frozen=True)
class Extracted:
    text: str
    status: ExtractionStatus
    detail: str = ""  # why, for failed/unsupported/too_large (short, one line); or TRUNCATED


class _RefusedError(Exception):
    """The file is refused for a reason we can name (too large, encrypted, hostile XML)."""

    def __init__(self, status: ExtractionStatus, detail: str) -> None:
        super().__init__(detail)
        self.status: ExtractionStatus = status
        self.detail = detail


# ---------------------------------------------------------------------------------------
# What the file is
# ---------------------------------------------------------------------------------------

_OFFICE_KINDS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp"})

_DECLARED_TYPES = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/acrobat": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": "docx",
    "application/vnd.ms-word.document.macroenabled.12": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.12": "pptx",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.text-template": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.spreadsheet-template": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.presentation-template": "odp",
    "text/html": "html",
    "application/xhtml+xml": "html",
}
_EXTENSIONS = {
    "pdf": "pdf",
    **dict.fromkeys(("docx", "docm", "dotx", "dotm"), "docx"),
    **dict.fromkeys(("xlsx", "xlsm", "xltx", "xltm"), "xlsx"),
    **dict.fromkeys(("pptx", "pptm", "ppsx", "ppsm", "potx"), "pptx"),
    **dict.fromkeys(("odt", "ott"), "odt"),
    **dict.fromkeys(("ods", "ots"), "ods"),
    **dict.fromkeys(("odp", "otp"), "odp"),
    **dict.fromkeys(("html", "htm", "xhtml"), "html"),
    **dict.fromkeys(("txt", "text", "csv", "tsv", "md", "log"), "text"),
}
# text/* that is not text to read as it is.
_NOT_PLAIN_TEXT = frozenset({"text/rtf", "text/richtext", "text/enriched"})
# Declared types that say nothing; the bytes (and the name) decide.
_GENERIC_TYPES = frozenset(
    {
        "", "application/octet-stream", "binary/octet-stream", "application/download",
        "application/x-download", "application/force-download", "application/unknown",
        "application/x-unknown", "application/zip", "application/x-zip-compressed",
    }
)  # fmt: skip
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.text-template": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.spreadsheet-template": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/vnd.oasis.opendocument.presentation-template": "odp",
}
_OOXML_FOLDERS = (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx"))
# The main part, which Office writes right after the content types and relationships.
_OOXML_MAIN_PARTS = (
    (b"word/document", "docx"),
    (b"xl/workbook", "xlsx"),
    (b"ppt/presentation", "pptx"),
)

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Bytes that say "not a document we read", whatever the type or name declared.
_BINARY_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"RIFF", "RIFF file (image or media)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy or password-protected Office file"),
    (b"\x7fELF", "executable"),
    (b"\x1f\x8b", "gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"{\\rtf", "RTF document"),
    (b"%!PS", "PostScript file"),
)
_HTML_START = re.compile(rb"\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])", re.I | re.S)
# Control bytes that plain text does not contain (tab, line breaks, form feed and ESC do).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _media_type(content_type: str) -> tuple[str, str | None]:
    """``text/html; charset="x"`` → ("text/html", "x")."""
    media, _, parameters = content_type.partition(";")
    charset = re.search(r"""charset\s*=\s*["']?([^"';\s]+)""", parameters, re.I)
    return media.strip().lower(), charset.group(1) if charset else None


def _extension(filename: str) -> str:
    name = filename.strip().strip("\"'").replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[1].lower() if "." in name else ""


def _declared_kind(media: str, extension: str) -> str | None:
    """The kind the sender declared: its media type if it says one, else its name's."""
    if media in _DECLARED_TYPES:
        return _DECLARED_TYPES[media]
    if media.startswith("text/") and media not in _NOT_PLAIN_TEXT:
        return "text"
    return _EXTENSIONS.get(extension)


def _binary_label(head: bytes) -> str | None:
    return next((label for magic, label in _BINARY_MAGIC if head.startswith(magic)), None)


def _looks_like_text(head: bytes, *, declared: bool) -> bool:
    """Whether ``head`` reads as text: a few stray control bytes are allowed in what was
    declared as text, none in what was not (compressed data has one byte in ten)."""
    sample = head[:4096]
    if sample.startswith(_UTF16_BOMS):
        return True
    stray = len(_BINARY_BYTES.findall(sample))
    return stray <= 4 + len(sample) // 50 if declared else stray == 0


def _zip_directory_kind(head: bytes) -> str | None:
    """The office kind of a zip, from the names of its members (raises if ``head`` is not
    a whole, readable zip)."""
    with zipfile.ZipFile(io.BytesIO(head)) as archive:
        names = archive.namelist()
        if "mimetype" in names:
            with archive.open("mimetype") as member:
                return _ODF_MIMETYPES.get(member.read(100).strip())
        if "[Content_Types].xml" in names:
            for folder, kind in _OOXML_FOLDERS:
                if any(name.startswith(folder) for name in names):
                    return kind
        return None


def _zip_local_headers_kind(head: bytes) -> str | None:
    """The office kind of the start of a zip, from its first members' local headers."""
    # OpenDocument stores "mimetype" first and uncompressed: its name then its value.
    if head[30:38] == b"mimetype":
        value = head[38:100]
        return next((k for t, k in _ODF_MIMETYPES.items() if value.startswith(t)), None)
    if b"[Content_Types].xml" in head:
        return next((kind for part, kind in _OOXML_MAIN_PARTS if part in head), None)
    return None


def document_kind(content_type: str, filename: str, head: bytes) -> str | None:
    """The kind of document to read, or None if it is none we read.

    One of "pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "html", "text". ``head`` is
    the start of the content (4 KB tells most kinds) or all of it, which lets an office
    zip be told apart by its members. The bytes are trusted over the declared type and
    the file name: a PDF sent as ``application/octet-stream`` or named ``.docx`` is a
    PDF, an image named ``.pdf`` is an image. A file whose bytes say nothing is taken as
    what its type (or, for a generic type, its name) declares, so a damaged PDF is still
    a PDF, one that fails to read.
    """
    media, _ = _media_type(content_type)
    declared = _declared_kind(media, _extension(filename))
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_ZIP_MAGIC):
        try:
            return _zip_directory_kind(head)
        except Exception:  # cut short or damaged: what its first members and its type say
            return _zip_local_headers_kind(head) or (
                declared if declared in _OFFICE_KINDS else None
            )
    if _binary_label(head) is not None:
        return None
    if b"%PDF-" in head[:1024]:  # readers accept a header after some junk
        return "pdf"
    if _HTML_START.match(head[:1024]):
        return "html"
    if declared in ("text", "html"):
        return declared if _looks_like_text(head, declared=True) else None
    if declared is not None:
        return declared
    if media in _GENERIC_TYPES and head and _looks_like_text(head, declared=False):
        return "text"
    return None


def _unsupported_detail(media: str, filename: str, head: bytes) -> str:
    label = _binary_label(head)
    if label is None and head.startswith(_ZIP_MAGIC):
        label = "zip archive"
    extension = _extension(filename)
    declared = f"{media or 'no type'}{f', .{extension}' if extension else ''}"
    return f"{label} ({declared})" if label else f"not a document kind we read ({declared})"


# ---------------------------------------------------------------------------------------
# Collected text
# ---------------------------------------------------------------------------------------

_SPACE_RUNS = re.compile(r"[ \t\xa0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\f\v\x1c-\x1e\x85\u2028\u2029]")
# Controls, soft hyphens, byte order marks, non-characters and lone surrogates: no text.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\ufeff\ufffe\uffff\ud800-\udfff]")
_BLANK_LINES = re.compile(r"\n{3,}")
# Text collected past max_chars, so that the cut after normalising falls on a word.
_SLACK = 1024


class _TextSink:
    """Pieces of text, until about ``limit`` characters once spaces are collapsed."""

    def __init__(self, limit: int) -> None:
        self.pieces: list[str] = []
        self._size = 0
        self._limit = limit + _SLACK
        self._cut_short = False

    @property
    def full(self) -> bool:
        return self._size > self._limit

    @property
    def truncated(self) -> bool:
        return self.full or self._cut_short

    def add(self, piece: str) -> None:
        if not piece or self.full:
            return
        if len(piece) > 4 * self._limit:  # no need to normalise megabytes to keep a few
            piece = piece[: 4 * self._limit]
            self.cut_short()
        self.pieces.append(piece)
        self._size += len(_SPACE_RUNS.sub(" ", piece))

    def cut_short(self) -> None:
        """Some of the source was left unread: the text is truncated, however long."""
        self._cut_short = True

    def source_budget(self, ratio: int) -> int:
        """How much of a source to read when it has up to ``ratio`` bytes per character."""
        return ratio * self._limit

    def text(self) -> str:
        return "".join(self.pieces)


def _collapse_spaces(match: re.Match[str]) -> str:
    return "\t" if "\t" in match.group() else " "  # a tab is a cell boundary: keep one


def _normalise(text: str) -> str:
    """Line breaks kept (three or more become two), runs of spaces collapsed, lines
    stripped, control and invisible characters dropped."""
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))
    text = _SPACE_RUNS.sub(_collapse_spaces, text)
    text = "\n".join(line.strip(" \t") for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def _cut(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` at the last word boundary (or mid-word if a single
    word would take more than half of it)."""
    if len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]
    boundary = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
    return text[: boundary if boundary > max_chars // 2 else max_chars].rstrip()


def _one_line(error: BaseException) -> str:
    message = " ".join(str(error).split())
    detail = f"{type(error).__name__}: {message}" if message else type(error).__name__
    return detail if len(detail) <= 160 else detail[:159] + "…"


# ---------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------


def _pdf_text(content: bytes, sink: _TextSink) -> str:
    """Pages joined by newlines into ``sink``; returns a detail for pages that failed."""
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise _RefusedError("failed", "encrypted PDF: a password is needed to open it")
        pages = reader.pages
        count = len(pages)
    except DependencyError as error:  # AES needs the optional cryptography package
        raise _RefusedError("failed", f"encrypted PDF: {_one_line(error)}") from error
    unreadable: list[BaseException] = []
    for page in pages:
        if sink.full:
            break
        try:
            sink.add(page.extract_text())
        except Exception as error:  # one broken page does not hide the others
            unreadable.append(error)
        sink.add("\n")
    if unreadable and len(unreadable) == count:
        if isinstance(unreadable[0], DependencyError):  # streams encrypted with AES
            raise _RefusedError("failed", f"encrypted PDF: {_one_line(unreadable[0])}")
        raise unreadable[0]
    return f"{len(unreadable)} of {count} pages unreadable" if unreadable else ""


# ---------------------------------------------------------------------------------------
# Office files: zip members streamed through ElementTree
# ---------------------------------------------------------------------------------------

_CHUNK = 64 * 1024
_ROOT_START = re.compile(r"<(?![?!])")


def _refuse_doctype(name: str, head: bytes) -> None:
    """Refuse a part that declares a DOCTYPE (internal entities could expand without end,
    external ones point elsewhere); office files never need one. NULs are dropped first
    so the check also sees UTF-16 text."""
    text = head.replace(b"\x00", b"").decode("utf-8", "replace")
    root = _ROOT_START.search(text)
    prolog = text[: root.start()] if root else text
    if "<!DOCTYPE" in prolog or "<!ENTITY" in prolog:
        raise _RefusedError("failed", f"{name} declares a DOCTYPE (refused)")
    if root is None and len(head) >= _CHUNK:
        raise _RefusedError("failed", f"{name} has no root element in its first 64 KB")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class _XmlText:
    """An ElementTree parser target keeping the character data of the ``TEXT`` elements,
    leaving out whatever is inside a ``SKIP`` element; subclasses add the breaks."""

    TEXT: frozenset[str] = frozenset()
    SKIP: frozenset[str] = frozenset()

    def __init__(self, sink: _TextSink) -> None:
        self.sink = sink
        self.stack: list[str] = []  # local names of the open elements
        self._in_text = 0
        self._skipped = 0

    @property
    def done(self) -> bool:
        return self.sink.full

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        self.stack.append(name)
        if self._skipped or name in self.SKIP:
            self._skipped += 1
            return
        self._in_text += name in self.TEXT
        self.opened(name, attrib)

    def end(self, tag: str) -> None:
        name = self.stack.pop() if self.stack else _local(tag)
        if self._skipped:
            self._skipped -= 1
            return
        self._in_text -= name in self.TEXT
        self.closed(name)

    def data(self, data: str) -> None:
        if self._in_text and not self._skipped:
            self.sink.add(data)

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _RefusedError("failed", "XML part declares a DOCTYPE (refused)")  # a 2nd guard

    def close(self) -> None:
        return None

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        pass

    def closed(self, name: str) -> None:
        pass

    def in_cell(self, cell: str) -> bool:
        return cell in self.stack


class _WordText(_XmlText):
    """WordprocessingML: runs' text; tabs and breaks in runs; paragraphs end lines; in a
    table, paragraphs of a cell are joined by spaces, cells by tabs, rows by lines."""

    TEXT = frozenset({"t"})  # w:t (and m:t in equations); not w:delText nor w:instrText
    SKIP = frozenset({"Fallback"})  # mc:Fallback repeats its mc:Choice (text boxes)

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if len(self.stack) > 1 and self.stack[-2] == "r":  # not w:tabs/w:tab in pPr
            if name in ("tab", "ptab"):
                self.sink.add("\t")
            elif name in ("br", "cr"):
                self.sink.add("\n")

    def closed(self, name: str) -> None:
        if name == "p":
            self.sink.add(" " if self.in_cell("tc") else "\n")
        elif name == "tc":
            self.sink.add("\t")
        elif name == "tr":
            self.sink.add("\n")


class _SlideText(_XmlText):
    """DrawingML in slides: a:t; paragraphs end lines; table cells as in Word."""

    TEXT = frozenset({"t"})
    SKIP = frozenset({"Fallback"})

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if name == "br":
            self.sink.add("\n")

    closed = _WordText.closed  # tables and paragraphs break as in Word


class _SharedStrings(_XmlText):
    """xl/sharedStrings.xml: one string per ``si``, its runs joined, phonetic hints out."""

    TEXT = frozenset({"t"})
    SKIP = frozenset({"rPh", "phoneticPr"})

    def __init__(self, sink: _TextSink) -> None:
        super().__init__(sink)
        self.strings: list[str] = []
        self._parts: list[str] = []

    @property
    def done(self) -> bool:
        return False

    def data(self, data: str) -> None:
        if self._in_text and not self._skipped:
            self._parts.append(data)

    def closed(self, name: str) -> None:
        if name == "si":
            self.strings.append("".join(self._parts))
            self._parts = []


def _number(value: str) -> str:
    """A cell's number as a person would write it ("4.6", not "4.5999999999999996")."""
    try:
        number = float(value)
    except ValueError:
        return value
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


class _SheetText(_XmlText):
    """A worksheet: each cell's value (shared string, inline string, formula result or
    number), cells separated by tabs, one line per row."""

    TEXT = frozenset({"v", "t"})  # c/v (value), c/is/t (inline string)
    SKIP = frozenset({"f", "rPh", "extLst"})

    def __init__(self, sink: _TextSink, shared: list[str]) -> None:
        super().__init__(sink)
        self._shared = shared
        self._type = "n"
        self._value: list[str] = []

    def data(self, data: str) -> None:
        if self._in_text and not self._skipped:
            self._value.append(data)

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if name == "c":
            self._type = attrib.get("t", "n")
            self._value = []

    def closed(self, name: str) -> None:
        if name == "c":
            self.sink.add(self._cell_text("".join(self._value)))
            self.sink.add("\t")
        elif name == "row":
            self.sink.add("\n")

    def _cell_text(self, value: str) -> str:
        if self._type == "s":
            index = int(value) if value.strip().isdigit() else -1
            return self._shared[index] if 0 <= index < len(self._shared) else ""
        if self._type in ("b", "e"):  # TRUE/FALSE, #N/A: nothing to search for
            return ""
        return value if self._type in ("inlineStr", "str") else _number(value)


class _OpenDocumentText(_XmlText):
    """OpenDocument content.xml: text:p and text:h (with their spans and links), their
    spaces, tabs and line breaks; table cells and rows as in Word; pages apart."""

    TEXT = frozenset({"p", "h"})
    SKIP = frozenset({"tracked-changes"})  # deleted text lives there

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if not self._in_text:
            return
        if name == "s":
            self.sink.add(" ")
        elif name == "tab":
            self.sink.add("\t")
        elif name == "line-break":
            self.sink.add("\n")

    def closed(self, name: str) -> None:
        if name in ("p", "h"):
            self.sink.add(" " if self.in_cell("table-cell") else "\n")
        elif name in ("table-cell", "covered-table-cell"):
            self.sink.add("\t")
        elif name == "table-row":
            self.sink.add("\n")
        elif name == "page":  # a drawing or presentation page
            self.sink.add("\n\n")


class _Archive:
    """An office zip whose members are read within a budget of members and bytes."""

    def __init__(self, content: bytes) -> None:
        self._zip = zipfile.ZipFile(io.BytesIO(content))
        infos = self._zip.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise _RefusedError(
                "too_large", f"{len(infos)} zip members (at most {MAX_ZIP_MEMBERS})"
            )
        self.members = {info.filename: info for info in infos}
        self._left = MAX_UNZIPPED_BYTES

    def numbered(self, pattern: str) -> list[str]:
        """Members named by ``pattern`` (one group: a number), in the number's order."""
        found = [(re.fullmatch(pattern, name), name) for name in self.members]
        return [name for match, name in sorted((int(m.group(1)), n) for m, n in found if m)]

    def parse(self, name: str, target: _XmlText) -> bool:
        """Stream member ``name`` through ``target``; False if there is no such member."""
        info = self.members.get(name)
        if info is None:
            return False
        if info.file_size > self._left:  # zipfile never inflates past the declared size
            raise self._too_large(name)
        # Safe to parse: _refuse_doctype sees the prolog before the parser gets a byte.
        parser = ElementTree.XMLParser(target=target)  # noqa: S314
        with self._zip.open(info) as member:
            chunk = self._read(member, name)
            _refuse_doctype(name, chunk)
            while chunk:
                parser.feed(chunk)
                if target.done:
                    return True
                chunk = self._read(member, name)
        parser.close()
        return True

    def _read(self, member: IO[bytes], name: str) -> bytes:
        chunk = member.read(_CHUNK)
        self._left -= len(chunk)
        if self._left < 0:
            raise self._too_large(name)
        return chunk

    @staticmethod
    def _too_large(name: str) -> _RefusedError:
        mb = MAX_UNZIPPED_BYTES // (1024 * 1024)
        return _RefusedError("too_large", f"over {mb} MB uncompressed (at {name})")

    def close(self) -> None:
        self._zip.close()


class _Relationships(_XmlText):
    """A package's _rels/.rels: the first target of a relationship type."""

    def __init__(self, kind: str) -> None:
        super().__init__(_TextSink(0))
        self._suffix = f"/{kind}"
        self.target: str | None = None

    def opened(self, name: str, attrib: dict[str, str]) -> None:
        if name == "Relationship" and attrib.get("Type", "").endswith(self._suffix):
            self.target = self.target or attrib.get("Target", "").lstrip("/") or None


def _relationship_target(archive: _Archive, rels: str, kind: str) -> str | None:
    """The part a package relationship of type ``…/kind`` points to (from the root)."""
    relationships = _Relationships(kind)
    archive.parse(rels, relationships)
    return relationships.target


def _docx_text(archive: _Archive, sink: _TextSink) -> None:
    main = _relationship_target(archive, "_rels/.rels", "officeDocument") or "word/document.xml"
    folder = main.rsplit("/", 1)[0] + "/" if "/" in main else ""
    if not archive.parse(main, _WordText(sink)):
        raise _RefusedError("failed", f"no {main} in the document")
    extras = [f"{folder}footnotes.xml", f"{folder}endnotes.xml"]
    for pattern in (
        rf"{re.escape(folder)}header(\d*)\.xml",
        rf"{re.escape(folder)}footer(\d*)\.xml",
    ):
        extras += [name for name in archive.members if re.fullmatch(pattern, name)]
    for name in sorted(dict.fromkeys(extras)):  # after the body, which a cut then keeps
        sink.add("\n")
        archive.parse(name, _WordText(sink))


def _xlsx_text(archive: _Archive, sink: _TextSink) -> None:
    shared = _SharedStrings(sink)
    archive.parse("xl/sharedStrings.xml", shared)
    sheets = archive.numbered(r"xl/worksheets/sheet(\d+)\.xml")
    if not sheets:
        raise _RefusedError("failed", "no worksheet in the workbook")
    for sheet in sheets:
        if sink.full:
            break
        archive.parse(sheet, _SheetText(sink, shared.strings))
        sink.add("\n")


def _pptx_text(archive: _Archive, sink: _TextSink) -> None:
    slides = archive.numbered(r"ppt/slides/slide(\d+)\.xml")
    for slide in slides:
        if sink.full:
            break
        archive.parse(slide, _SlideText(sink))
        sink.add("\n")


def _opendocument_text(archive: _Archive, sink: _TextSink) -> None:
    if not archive.parse("content.xml", _OpenDocumentText(sink)):
        raise _RefusedError("failed", "no content.xml in the document")


_ZIP_READERS = {
    "docx": _docx_text,
    "xlsx": _xlsx_text,
    "pptx": _pptx_text,
    "odt": _opendocument_text,
    "ods": _opendocument_text,
    "odp": _opendocument_text,
}


def _office_text(kind: str, content: bytes, sink: _TextSink) -> None:
    archive = _Archive(content)
    try:
        _ZIP_READERS[kind](archive, sink)
    finally:
        archive.close()


# ---------------------------------------------------------------------------------------
# HTML and plain text
# ---------------------------------------------------------------------------------------

_HTML_BYTES_PER_CHAR = 40
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _decoded(content: bytes, charset: str | None) -> str:
    if content.startswith(_UTF16_BOMS):
        charset = "utf-16"
    return decode_bytes(content, charset)


def _html_text(content: bytes, charset: str | None) -> str:
    meta = _META_CHARSET.search(content[:4096])
    declared = charset or (meta.group(1).decode("ascii") if meta else None)
    return html_to_text(_decoded(content, declared))


# ---------------------------------------------------------------------------------------
# The one entry point
# ---------------------------------------------------------------------------------------


def _read_into(kind: str, content: bytes, charset: str | None, sink: _TextSink) -> str:
    """The text of ``content`` into ``sink``; returns a detail worth keeping, if any."""
    if kind == "pdf":
        return _pdf_text(content, sink)
    if kind in _ZIP_READERS:
        _office_text(kind, content, sink)
    elif kind == "html":
        # Markup weighs up to tens of bytes per character of text (Outlook's styles):
        # rendering megabytes more than the text kept would only cost time.
        budget = sink.source_budget(_HTML_BYTES_PER_CHAR)
        if len(content) > budget:
            tag = content.rfind(b"<", budget // 2, budget)  # not inside a character
            content = content[: tag if tag > 0 else budget]
            sink.cut_short()
        sink.add(_html_text(content, charset))
    else:
        sink.add(_decoded(content, charset))
    return ""


def extract_text(
    content: bytes, *, content_type: str, filename: str, max_chars: int = 200_000
) -> Extracted:
    """The text of an attachment, normalised and cut to ``max_chars``, with its status.

    "ok" (detail TRUNCATED when cut), "empty" (a document without text: a scan, a blank
    page), "unsupported" (not a kind we read: images, archives…), "too_large" (more to
    decompress than a document needs) or "failed" (damaged, encrypted, refused); never
    raises for bad input.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    if not content:  # mail clients do send empty files
        return Extracted("", "empty")
    media, charset = _media_type(content_type)
    kind = document_kind(content_type, filename, content)
    if kind is None:
        return Extracted("", "unsupported", _unsupported_detail(media, filename, content[:1024]))
    sink = _TextSink(max_chars)
    try:
        detail = _read_into(kind, content, charset, sink)
        text = _normalise(sink.text())
    except _RefusedError as refused:
        return Extracted("", refused.status, refused.detail)
    except Exception as error:  # any parser's failure on a damaged file
        return Extracted("", "failed", f"{kind}: {_one_line(error)}")
    if not text:
        return Extracted("", "empty", detail)
    if sink.truncated or len(text) > max_chars:
        detail = f"{TRUNCATED}; {detail}" if detail else TRUNCATED
    return Extracted(_cut(text, max_chars), "ok", detail)
