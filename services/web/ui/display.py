"""How a message is shown (pure): its text cut into folds, its HTML made inert.

Mail HTML was sanitised when it was stored; it is sanitised again here, for display, with
a stricter policy: no styles, no forms, no frames, and no image from outside (an image
URL tells the sender that, when and where the mail was read). An image keeps its ``alt``
text and a visible marker instead. The page's Content-Security-Policy (scripts and
images from our own origin only) would stop what got through anyway.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
    "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins",
    "li", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"alt", "title", "width", "height"},  # never src: see above
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
BLOCKED_IMAGE = "data-blocked"  # marks an image whose source was removed


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


def safe_html(markup: str, blocked_label: str) -> str:
    """Mail HTML as it may be put in our page: inert, with outside images blocked."""
    cleaned = nh3.clean(
        markup,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style", "title", "head"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute,
        strip_comments=True,
    )
    # Every <img> has lost its src: mark it so the reader knows an image was there.
    marker = html.escape(f"[{blocked_label}]")
    return cleaned.replace("<img", f'<span class="blocked-image">{marker}</span><img hidden')


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
