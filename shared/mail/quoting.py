"""Quoted text and signatures in a mail's text, for folding them in the UI (pure).

``split_blocks`` cuts a plain-text body into blocks of three kinds:

- ``quote``: lines quoted with ``>``, with the attribution line before them ("On … wrote:",
  "Le … a écrit :", wrapped over up to three lines as Gmail does); and, from an Outlook
  header block ("From: / Sent: / To: / Subject:", "De : / Envoyé : / À : / Objet :"), an
  "-----Original Message-----" or "-----Message d'origine-----" line, or a forwarded
  message marker, everything to the end of the mail: top-posted replies quote below;
- ``signature``: from a ``-- `` delimiter to the next quote or the end, and the footers
  phones add as the last line ("Sent from my iPhone", "Envoyé de mon iPhone");
- ``body``: the rest.

Blank lines belong to the block before them. Nothing is dropped: the blocks' texts joined
with newlines give the text back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

BlockKind = Literal["body", "quote", "signature"]


@dataclass(frozen=True)
class TextBlock:
    kind: BlockKind
    text: str


_QUOTED_TAIL_MARKER = re.compile(
    r"^\s*(?:-{2,}\s*(?:original message|message d'origine|ursprüngliche nachricht"
    r"|forwarded message|message transféré|mensaje original|messaggio originale)\s*-{2,}"
    r"|begin forwarded message\s*:|début du message (?:réexpédié|transféré)\s*:)\s*$",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\s*\*?(?:from|de|von)\s*\*?\s*:\s*\*?\s*\S", re.IGNORECASE)
_OTHER_FIELD = re.compile(
    r"^\s*\*?(sent|date|envoyé|gesendet|to|à|a|an|cc|subject|objet|betreff)\s*\*?\s*:",
    re.IGNORECASE,
)
_WHEN_OR_WHAT = frozenset({"sent", "date", "envoyé", "gesendet", "subject", "objet", "betreff"})
_SEPARATOR_LINE = re.compile(r"^\s*(?:_{10,}|-{10,})\s*$")

_ATTRIBUTION_START = re.compile(r"^\s*(?:on|le|am|el|il)\s", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(
    r"(?:(?:wrote|a écrit|escribió|ha scritto)\s*|schrieb\b.*):\s*$", re.IGNORECASE
)
_DIGIT = re.compile(r"\d")
_PHONE_FOOTER = re.compile(
    r"^\s*(?:(?:sent from|sent with|get outlook for|envoyé de|envoyé depuis|envoyé à partir de"
    r"|envoyé avec|obtenir outlook pour|téléchargez outlook pour|von meinem|gesendet von)\b"
    r"|provenance\s*:).{0,80}$",
    re.IGNORECASE,
)


def split_blocks(text: str) -> tuple[TextBlock, ...]:
    """The blocks of ``text`` (see the module's docstring)."""
    if not text:
        return ()
    lines = text.split("\n")
    tail = _quoted_tail_start(lines)
    body: list[BlockKind] = ["body"]
    quote: list[BlockKind] = ["quote"]
    kinds = body * tail + quote * (len(lines) - tail)
    _mark_quotes(lines, kinds, tail)
    _mark_signatures(lines, kinds)
    _attach_blank_lines(lines, kinds)
    blocks: list[TextBlock] = []
    start = 0
    for index in range(1, len(lines) + 1):
        if index == len(lines) or kinds[index] != kinds[start]:
            blocks.append(TextBlock(kinds[start], "\n".join(lines[start:index])))
            start = index
    return tuple(blocks)


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _is_blank(line: str) -> bool:
    return not line.strip()


def _quoted_tail_start(lines: list[str]) -> int:
    """Where the quoted rest of a top-posted reply or a forward starts (or the end)."""
    for index, line in enumerate(lines):
        if _QUOTED_TAIL_MARKER.match(line):
            return index
        if _is_header_block(lines, index):
            if index > 0 and _SEPARATOR_LINE.match(lines[index - 1]):
                return index - 1  # Outlook's line of underscores above the header block
            return index
    return len(lines)


def _is_header_block(lines: list[str], index: int) -> bool:
    """A "From:" line followed by at least two more header fields, one of them a date or
    a subject: the header block Outlook writes above the mail it quotes."""
    if not _FROM_FIELD.match(lines[index]):
        return False
    fields: list[str] = []
    for line in lines[index + 1 : index + 7]:
        match = _OTHER_FIELD.match(line)
        if match:
            fields.append(match.group(1).lower())
        elif fields and not _is_blank(line) and not line.startswith((" ", "\t")):
            break  # the block has ended (a folded field value would be indented)
    return len(fields) >= 2 and bool(_WHEN_OR_WHAT.intersection(fields))


def _attribution_end(lines: list[str], index: int, limit: int) -> int | None:
    """The end (exclusive) of an attribution line starting at ``index``, if there is one.
    Gmail wraps long ones: from an "On"/"Le" line, up to three lines are read."""
    if _is_quoted(lines[index]) or _is_blank(lines[index]):
        return None
    if _ATTRIBUTION_END.search(lines[index]):
        return index + 1
    if not _ATTRIBUTION_START.match(lines[index]):
        return None
    for end in range(index + 2, min(index + 3, limit) + 1):
        if _is_quoted(lines[end - 1]) or _is_blank(lines[end - 1]):
            return None
        if _ATTRIBUTION_END.search(" ".join(lines[index:end])):
            return end
    return None


def _mark_quotes(lines: list[str], kinds: list[BlockKind], tail: int) -> None:
    index = 0
    while index < tail:
        if _is_quoted(lines[index]):
            kinds[index] = "quote"
            index += 1
            continue
        end = _attribution_end(lines, index, tail)
        if end is None:
            index += 1
            continue
        following = next((i for i in range(end, tail) if not _is_blank(lines[i])), None)
        if following is not None and _is_quoted(lines[following]):
            kinds[index:end] = ["quote"] * (end - index)
            index = end
        elif _ATTRIBUTION_START.match(lines[index]) and _DIGIT.search(lines[index]):
            # "On <date> … wrote:" over an unquoted copy (some clients' text of an HTML
            # reply): the rest is the quote.
            kinds[index:tail] = ["quote"] * (tail - index)
            return
        else:
            index += 1


def _mark_signatures(lines: list[str], kinds: list[BlockKind]) -> None:
    for index, line in enumerate(lines):
        if kinds[index] != "body":
            continue
        if line.rstrip() == "--":
            end = index
            while end < len(lines) and kinds[end] == "body":
                kinds[end] = "signature"
                end += 1
        elif _PHONE_FOOTER.match(line) and _only_blank_until_next_block(lines, kinds, index):
            kinds[index] = "signature"


def _only_blank_until_next_block(lines: list[str], kinds: list[BlockKind], index: int) -> bool:
    for following in range(index + 1, len(lines)):
        if kinds[following] != "body":
            return True
        if not _is_blank(lines[following]):
            return False
    return True


def _attach_blank_lines(lines: list[str], kinds: list[BlockKind]) -> None:
    """Blank body lines go with the block before them (leading ones with the first)."""
    previous: BlockKind | None = None
    for index, line in enumerate(lines):
        if _is_blank(line) and kinds[index] == "body":
            if previous is not None:
                kinds[index] = previous
        else:
            previous = kinds[index]
    first: BlockKind = next(
        (kinds[i] for i, line in enumerate(lines) if not _is_blank(line)), "body"
    )
    for index, line in enumerate(lines):
        if not _is_blank(line):
            break
        kinds[index] = first


def fold_spans(text: str) -> list[tuple[BlockKind, int, int]]:
    """The quote and signature blocks of ``text`` as ``(kind, start, end)`` offsets."""
    spans: list[tuple[BlockKind, int, int]] = []
    offset = 0
    for block in split_blocks(text):
        end = offset + len(block.text)
        if block.kind != "body":
            spans.append((block.kind, offset, end))
        offset = end + 1  # the newline that joined the blocks
    return spans
