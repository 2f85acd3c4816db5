"""Turning raw mail bytes into what a ticket records (pure, stdlib ``email`` only).

Nothing is ever rejected for a defect: a mail the modern parser chokes on is read again
with the lenient ``compat32`` policy, and every defect found is listed.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from shared.mail.addresses import normalize_address, parse_address_list

_FALLBACK_CHARSETS = ("utf-8", "cp1252", "latin-1")


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class ParsedMail:
    subject: str
    from_address: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    attachments: tuple[ParsedAttachment, ...]
    headers: dict[str, str]
    defects: tuple[str, ...] = field(default=())


def _decode_payload(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return _normalize_newlines(str(part.get_payload() or ""))
    declared = part.get_content_charset()
    for charset in (declared, *_FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            return _normalize_newlines(raw.decode(charset))
        except (LookupError, UnicodeDecodeError):
            continue
    return _normalize_newlines(raw.decode("utf-8", errors="replace"))


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _header(msg: Message, name: str) -> str:
    value = msg.get(name)
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # a header the parser could not decode: keep its raw text
        return str(msg.get_all(name, [""])[0]).strip()


def _message_ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(re.findall(r"<[^<>\s]+>", value or "")))


def html_to_text(markup: str) -> str:
    """A faithful-enough text rendering of an HTML body (blocks → lines, entities decoded)."""
    text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", markup)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|li|tr|h[1-6]|blockquote)>", "\n", text)
    text = re.sub(r"(?s)<[^>]+>", "", text)
    text = html.unescape(text)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _parse(raw: bytes) -> tuple[Message, list[str]]:
    defects: list[str] = []
    try:
        msg: Message = BytesParser(policy=policy.default).parsebytes(raw)
        # Touch the headers now: policy.default decodes lazily and may raise later.
        for name in msg:
            _ = msg.get_all(name)
    except Exception as exc:
        defects.append(f"reparsed leniently: {exc!r}")
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    for part in msg.walk():
        defects.extend(type(d).__name__ for d in getattr(part, "defects", []))
    return msg, defects


def parse_mail(raw: bytes) -> ParsedMail:
    msg, defects = _parse(raw)
    text_parts: list[str] = []
    html_body: str | None = None
    attachments: list[ParsedAttachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = part.get_filename()
        if disposition == "attachment" or filename or ctype not in {"text/plain", "text/html"}:
            content = part.get_payload(decode=True)
            attachments.append(
                ParsedAttachment(
                    filename=filename or f"part-{len(attachments) + 1}",
                    content_type=ctype,
                    content=content if isinstance(content, bytes) else b"",
                    content_id=(part.get("Content-ID") or None),
                    inline=disposition == "inline",
                )
            )
        elif ctype == "text/plain":
            text_parts.append(_decode_payload(part))
        elif html_body is None:
            html_body = _decode_payload(part)
    text = "\n\n".join(t.strip("\n") for t in text_parts if t.strip())
    if not text and html_body:
        text = html_to_text(html_body)
    from_header = _header(msg, "From")
    from_name = ""
    from_address = normalize_address(from_header) if from_header else ""
    if "<" in from_header:
        from_name = from_header.split("<", 1)[0].strip().strip('"')
    date: datetime | None = None
    try:
        date = parsedate_to_datetime(_header(msg, "Date")) if _header(msg, "Date") else None
    except (TypeError, ValueError, IndexError):
        defects.append("InvalidDateHeader")
    return ParsedMail(
        subject=" ".join(_header(msg, "Subject").split()),
        from_address=from_address,
        from_name=from_name,
        to=tuple(parse_address_list(msg.get_all("To", []) or [])),
        cc=tuple(parse_address_list(msg.get_all("Cc", []) or [])),
        reply_to=tuple(parse_address_list(msg.get_all("Reply-To", []) or [])),
        message_id=(_message_ids(_header(msg, "Message-ID")) or (None,))[0],
        in_reply_to=_message_ids(_header(msg, "In-Reply-To")),
        references=_message_ids(_header(msg, "References")),
        date=date,
        text=text,
        html=html_body,
        attachments=tuple(attachments),
        headers={k.lower(): _header(msg, k) for k in dict.fromkeys(msg.keys())},
        defects=tuple(dict.fromkeys(defects)),
    )
