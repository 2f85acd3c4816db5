"""How a message is shown (pure): its text cut into folds, its HTML made inert.

Mail HTML was sanitised when it was stored; it is sanitised again here, for display, with
a stricter policy: no styles, no forms, no frames, and no image from outside (an image
URL tells the sender that, when and where the mail was read). An image keeps its ``alt``
text and a visible marker instead. The page's Content-Security-Policy (scripts and
images from our own origin only) would stop what got through anyway.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import nh3

from services.web.files import IMAGE_TYPES, media_type
from shared.mail.parsing import bare_content_id

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"alt", "title", "width", "height", "src"},  # src: only our own files (cid:)
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
BLOCKED_IMAGE = "data-blocked"  # marks an image whose source was removed
# An <img> as nh3 writes it (attribute values always in double quotes, `"` escaped), and
# the names of its attributes.
_IMG_TAG = re.compile(r'<img(?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:="[^"]*")?)*\s*/?>')
_ATTRIBUTE_NAME = re.compile(r'\s([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="[^"]*")?')


@dataclass(frozen=True)
class Segment:
    kind: str  # "body", "quote" or "signature"
    text: str


def text_segments(text: str, folds: list[dict[str, Any]] | tuple[Any, ...]) -> list[Segment]:
    """``text`` cut into what is shown and what is folded (quotes, signatures); folds that
    overlap or fall outside the text are ignored rather than trusted."""
    segments: list[Segment] = []
    position = 0
    spans = sorted(
        (int(_get(f, "start")), int(_get(f, "end")), str(_get(f, "kind"))) for f in folds
    )
    for start, end, kind in spans:
        if not (position <= start < end <= len(text)) or kind not in ("quote", "signature"):
            continue
        if start > position:
            segments.append(Segment("body", text[position:start]))
        segments.append(Segment(kind, text[start:end]))
        position = end
    if position < len(text):
        segments.append(Segment("body", text[position:]))
    return [s for s in segments if s.text.strip()] or [Segment("body", text)]


def _get(fold: Any, name: str) -> Any:
    return fold[name] if isinstance(fold, dict) else getattr(fold, name)


def _attribute(element: str, attribute: str, value: str) -> str | None:
    if element == "a" and attribute == "href":
        return value if value.lower().startswith(("http://", "https://", "mailto:")) else None
    return value


def inline_images(attachments: Iterable[Mapping[str, Any]], ticket_id: int) -> dict[str, str]:
    """Content-ID (folded) → the URL of that file on the ticket, for the images a
    message carries for its HTML body to show."""
    found = {}
    for attachment in attachments:
        content_id = _content_id(str(attachment.get("content_id") or ""))
        kind = media_type(str(attachment.get("content_type", "")))
        if content_id and kind in IMAGE_TYPES and attachment.get("sha256"):
            found[content_id] = f"/t/{ticket_id}/files/{attachment['sha256']}"
    return found


def safe_html(markup: str, blocked_label: str, inline: Mapping[str, str] | None = None) -> str:
    """Mail HTML as it may be put in our page: inert; an image shows only when it is one
    of the message's own files (``cid:`` in ``inline``), any other is blocked."""
    own = inline or {}

    def attribute(element: str, name: str, value: str) -> str | None:
        if element == "img" and name == "src":
            scheme, _, rest = value.partition(":")
            return own.get(_content_id(unquote(rest))) if scheme.lower() == "cid" else None
        return _attribute(element, name, value)

    cleaned = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=attribute,
        strip_comments=True,
    )
    # An <img> that lost its src is marked, so the reader knows an image was there.
    marker = f'<span class="blocked-image">{html.escape(f"[{blocked_label}]")}</span>'
    return _IMG_TAG.sub(
        lambda tag: (
            tag[0]
            if "src" in _ATTRIBUTE_NAME.findall(tag[0])
            else marker + tag[0].replace("<img", "<img hidden", 1)
        ),
        cleaned,
    )


def _content_id(value: str) -> str:
    """A Content-ID as ``cid:`` URLs and headers may write it, compared without case."""
    return bare_content_id(value).lower()


def history_line(txn: dict[str, Any], t: Callable[..., str]) -> str:
    """What a transaction did, in one line of the reader's language."""
    kind, who = txn.get("type", ""), txn.get("creator", "")
    old, new, note = txn.get("old_value") or "", txn.get("new_value") or "", txn.get("note") or ""
    if kind in ("create", "correspond", "comment", "bounce"):
        return t(f"txn.{kind}", who=who)
    if kind == "status":
        return t("txn.status", old=_status(t, old), new=_status(t, new), who=who)
    if kind == "owner":
        return t("txn.owner", old=old, new=new, who=who)
    if kind == "set":
        field = note[3:] if note.startswith("CF.") else t(f"field.{note}")
        return t("txn.set", field=field, old=old or "∅", new=new or "∅", who=who)
    if kind in ("add_watcher", "del_watcher"):
        return t(f"txn.{kind}", role=t(f"role.{note}"), email=new or old, who=who)
    if kind in ("link", "unlink"):
        return t(f"txn.{kind}", kind=note, target=new or old, who=who)
    if kind == "forward":
        return t("txn.forward", to=new, who=who)
    if kind in ("merge", "merged"):
        return t(f"txn.{kind}", other=new, who=who)
    return t("txn.other", type=kind, who=who)


def _status(t: Callable[..., str], value: str) -> str:
    return t(f"status.{value}") if value else "∅"
