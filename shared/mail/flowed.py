"""``format=flowed`` text (RFC 3676) back to its paragraphs (pure).

Thunderbird and Apple Mail send long paragraphs as short lines ending in a space (a soft
break); joined again they read, fold and search as the sender wrote them.
"""

from __future__ import annotations

SIGNATURE_SEPARATOR = "-- "


def unflow(text: str, *, delsp: bool = False) -> str:
    """Join the soft-broken lines of ``text``; quoted lines keep their ``>`` depth."""
    lines: list[str] = []
    paragraph: str | None = None  # the flowed line being joined
    paragraph_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):  # space-stuffing, or the space after the quote marks
            content = content[1:]
        soft = content.endswith(" ") and content != SIGNATURE_SEPARATOR
        if soft and delsp:
            content = content[:-1]
        if paragraph is not None and depth == paragraph_depth:
            paragraph += content
        else:
            if paragraph is not None:  # a soft break before a change of depth ends it
                lines.append(_quoted(paragraph_depth, paragraph))
            paragraph, paragraph_depth = content, depth
        if not soft:
            lines.append(_quoted(depth, paragraph))
            paragraph = None
    if paragraph is not None:
        lines.append(_quoted(paragraph_depth, paragraph))
    return "\n".join(lines)


def _quoted(depth: int, content: str) -> str:
    if not depth:
        return content
    return ">" * depth + (" " + content if content else "")
