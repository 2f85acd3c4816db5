"""Turning raw mail bytes into what a ticket records (pure, stdlib ``email`` only).

Nothing is ever rejected for a defect: a mail the modern parser chokes on is read again
with the lenient ``compat32`` policy, and every defect found is listed.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.errors import HeaderParseError
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr, parsedate_to_datetime

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


def decode_bytes(raw: bytes, declared: str | None = None) -> str:
    """Text of ``raw``: the declared charset if it fits, else UTF-8, cp1252, latin-1
    (which always fits): a latin-1 mail labelled UTF-8 still reads right."""
    for charset in (declared, *_FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", errors="replace")  # pragma: no cover - latin-1 always fits


def _decode_payload(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return _normalize_newlines(str(part.get_payload() or ""))
    return _normalize_newlines(decode_bytes(raw, part.get_content_charset()))


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_header_text(value: object) -> str:
    """A header's text: RFC 2047 words decoded, undeclared 8-bit read with the fallbacks."""
    if isinstance(value, Header):  # compat32 wraps raw 8-bit headers as unknown-8bit
        text = "".join(
            decode_bytes(chunk, None if charset in (None, "unknown-8bit") else charset)
            if isinstance(chunk, bytes)
            else chunk
            for chunk, charset in decode_header(value)
        )
    else:
        text = str(value)
    if any("\udc80" <= c <= "\udcff" for c in text):  # raw 8-bit bytes, surrogate-escaped
        text = decode_bytes(text.encode("ascii", "surrogateescape"))
    try:
        chunks = decode_header(text)
    except (HeaderParseError, ValueError):
        return text
    try:
        return str(make_header(chunks))
    except (LookupError, UnicodeDecodeError, HeaderParseError):
        return "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in chunks
        )


def _headers(raw: bytes) -> Message:
    """The headers alone, read leniently (compat32 never raises on a malformed header)."""
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw)


def _header(headers: Message, name: str) -> str:
    values = headers.get_all(name) or []
    return " ".join(" ".join(decode_header_text(v) for v in values).split())


def _header_all(headers: Message, name: str) -> list[str]:
    return [decode_header_text(v) for v in headers.get_all(name) or []]


def _message_ids(value: str) -> tuple[str, ...]:
    found = re.findall(r"<[^<>\s]+>", value or "")
    if not found and "@" in (value or "") and len(value.split()) == 1:
        found = [f"<{value.strip()}>"]  # a bare id without its angle brackets
    return tuple(dict.fromkeys(found))


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
        for part in msg.walk():  # policy.default decodes lazily: make it fail here, if at all
            part.get_content_type()
    except Exception as exc:
        defects.append(f"reparsed leniently: {exc!r}")
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    for part in msg.walk():
        defects.extend(type(d).__name__ for d in getattr(part, "defects", []))
    for name in dict.fromkeys(msg.keys()):  # headers are read with compat32; note what's broken
        try:
            for value in msg.get_all(name) or []:
                defects.extend(
                    f"{type(d).__name__} in {name}" for d in getattr(value, "defects", ())
                )
        except Exception as exc:
            defects.append(f"unreadable header {name}: {exc!r}")
    return msg, defects


def _leaves(part: Message) -> Iterator[Message]:
    """The parts to record, in order; an attached mail (``message/*``) is kept whole as one
    attachment, not opened (its text is not the sender's, its attachments not theirs)."""
    if part.get_content_maintype() == "message":
        yield part
    elif part.is_multipart():
        for sub in part.get_payload():
            if isinstance(sub, Message):
                yield from _leaves(sub)
    else:
        yield part


def _attached_message_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    inner = payload if isinstance(payload, list) else [payload]
    try:
        return b"".join(p.as_bytes() if isinstance(p, Message) else str(p).encode() for p in inner)
    except Exception:  # a malformed attached mail: keep what the parser saw
        return str(part.get_payload()).encode("utf-8", "surrogateescape")


def _attachment(part: Message, index: int) -> ParsedAttachment:
    ctype = part.get_content_type()
    filename = part.get_filename()
    if part.get_content_maintype() == "message":
        content = _attached_message_bytes(part)
        if not filename:
            inner = part.get_payload(0) if part.is_multipart() else None
            subject = (
                decode_header_text(inner.get("Subject", "")) if isinstance(inner, Message) else ""
            )
            filename = f"{subject or 'message'}.eml"
    else:
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
    return ParsedAttachment(
        filename=decode_header_text(filename) if filename else f"part-{index}",
        content_type=ctype,
        content=content,
        content_id=(str(part.get("Content-ID")) if part.get("Content-ID") else None),
        inline=(part.get_content_disposition() or "").lower() == "inline",
    )


def parse_mail(raw: bytes) -> ParsedMail:
    msg, defects = _parse(raw)
    headers = _headers(raw)
    text_parts: list[str] = []
    html_body: str | None = None
    attachments: list[ParsedAttachment] = []
    for part in _leaves(msg):
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        if (
            disposition == "attachment"
            or part.get_filename()
            or ctype not in {"text/plain", "text/html"}
        ):
            attachments.append(_attachment(part, len(attachments) + 1))
        elif ctype == "text/plain":
            text_parts.append(_decode_payload(part))
        elif html_body is None:
            html_body = _decode_payload(part)
    text = "\n\n".join(t.strip("\n") for t in text_parts if t.strip())
    if not text and html_body:
        text = html_to_text(html_body)
    from_header = _header(headers, "From")
    from_name, from_addr = parseaddr(from_header)
    from_address = normalize_address(from_addr) if "@" in from_addr else ""
    date: datetime | None = None
    try:
        date = parsedate_to_datetime(_header(headers, "Date")) if _header(headers, "Date") else None
    except (TypeError, ValueError, IndexError):
        defects.append("InvalidDateHeader")
    if date is not None and date.tzinfo is None:
        date = date.replace(tzinfo=UTC)  # RFC 5322 "-0000": no zone known; take UTC
    return ParsedMail(
        subject=_header(headers, "Subject"),
        from_address=from_address,
        from_name=from_name.strip().strip('"'),
        to=tuple(parse_address_list(_header_all(headers, "To"))),
        cc=tuple(parse_address_list(_header_all(headers, "Cc"))),
        reply_to=tuple(parse_address_list(_header_all(headers, "Reply-To"))),
        message_id=(_message_ids(_header(headers, "Message-ID")) or (None,))[0],
        in_reply_to=_message_ids(_header(headers, "In-Reply-To")),
        references=_message_ids(_header(headers, "References")),
        date=date,
        text=text,
        html=html_body,
        attachments=tuple(attachments),
        headers={k.lower(): _header(headers, k) for k in dict.fromkeys(headers.keys())},
        defects=tuple(dict.fromkeys(defects)),
    )
