"""Turning raw mail bytes into what a ticket records (pure, stdlib ``email`` only).

No mail is ever rejected: the structure is read with ``policy.default``; a mail that
policy chokes on is read again with the lenient ``compat32``; if even that fails, the raw
text is kept. Every defect found is listed in ``ParsedMail.defects``.

What becomes what:

- ``text``: the ``text/plain`` parts in order (``format=flowed`` joined back into
  paragraphs), or the text rendering of the HTML where a part has no plain version;
  charsets are read as the sender meant (see ``shared.mail.charsets``);
- ``html``: the HTML parts, kept for sanitised display;
- ``attachments``: every other part, and notably: an attached or forwarded mail
  (``message/*``) whole, as one ``.eml``; the images of ``multipart/related`` as inline
  attachments with their ``content_id``; calendar invitations (``invite.ics``), Outlook's
  TNEF (``winmail.dat``), signatures (``smime.p7s``, ``signature.asc``) and encrypted
  content. An encrypted mail has no text: we cannot read it, its parts are kept for who can;
- ``blocks``: the text cut into body, quote and signature (``shared.mail.quoting``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import Header, decode_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import parseaddr, parsedate_to_datetime

from shared.mail.addresses import normalize_address, parse_address_list
from shared.mail.charsets import decode_bytes, decode_encoded_words, unescape_8bit
from shared.mail.flowed import unflow
from shared.mail.html_text import html_to_text
from shared.mail.quoting import TextBlock, split_blocks

__all__ = [
    "ParsedAttachment",
    "ParsedMail",
    "decode_bytes",
    "decode_header_text",
    "html_to_text",
    "parse_mail",
]

_MAX_DEPTH = 50  # deeper MIME nesting than any client writes: the rest is kept raw
_FLATTEN = policy.compat32.clone(max_line_length=None)  # writes parsed parts back unchanged

# Names for the parts that usually come without one.
_DEFAULT_FILENAMES = {
    "message/delivery-status": "delivery-status.txt",
    "message/global-delivery-status": "delivery-status.txt",
    "message/disposition-notification": "disposition-notification.txt",
    "message/global-disposition-notification": "disposition-notification.txt",
    "message/global-headers": "returned-headers.txt",
    "text/rfc822-headers": "returned-headers.txt",
    "text/calendar": "invite.ics",
    "application/ics": "invite.ics",
    "application/ms-tnef": "winmail.dat",
    "application/vnd.ms-tnef": "winmail.dat",
    "application/pkcs7-signature": "smime.p7s",
    "application/x-pkcs7-signature": "smime.p7s",
    "application/pkcs7-mime": "smime.p7m",
    "application/x-pkcs7-mime": "smime.p7m",
    "application/pgp-signature": "signature.asc",
    "application/pgp-encrypted": "pgp-version.txt",
    "application/pgp-keys": "key.asc",
}
_ATTACHED_MAILS = frozenset({"message/rfc822", "message/global"})


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
    blocks: tuple[TextBlock, ...] = field(default=())


# --- text cleaning ------------------------------------------------------------------------

_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    """Text safe to store and show: newlines normalised, no NUL, no lone surrogate, no
    byte order mark (iOS puts one at the start of the text it quotes)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = text.replace("\ufeff", "")
    if _SURROGATE.search(text):
        text = unescape_8bit(text).encode("utf-8", "replace").decode("utf-8")
    return text


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")


def decode_header_text(value: object) -> str:
    """A header's text: unfolded, undeclared 8-bit read with the charset fallbacks, RFC 2047
    words decoded (each in its declared charset if it fits)."""
    if isinstance(value, Header):  # compat32 wraps raw 8-bit headers as unknown-8bit
        text = "".join(
            decode_bytes(chunk, None if charset in (None, "unknown-8bit") else charset)
            if isinstance(chunk, bytes)
            else chunk
            for chunk, charset in decode_header(value)
        )
    else:
        text = str(value)
    return _clean(decode_encoded_words(unescape_8bit(_unfold(text))))


# --- headers ------------------------------------------------------------------------------


def read_headers(raw: bytes) -> Message:
    """A mail's top-level headers alone, read leniently (compat32 never raises on a
    malformed header). Only the header block is read: the body of a mail with a PDF is
    nearly all its bytes, and the parser would decode and split it all for nothing."""
    end = raw.find(b"\n\r\n")  # the blank line of a CRLF mail…
    bare = raw.find(b"\n\n", 0, end if end >= 0 else len(raw))  # …or of a bare-LF one
    if bare >= 0:
        end = bare
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw[: end + 1] if end >= 0 else raw)


def _raw_values(headers: Message, name: str) -> list[str]:
    """The values of header ``name`` as written: unfolded, 8-bit decoded, RFC 2047 kept."""
    wanted = name.lower()
    return [
        _clean(unescape_8bit(_unfold(str(value))))
        for key, value in headers.raw_items()
        if key.lower() == wanted
    ]


def _header(headers: Message, name: str) -> str:
    values = _raw_values(headers, name)
    return " ".join(" ".join(decode_header_text(v) for v in values).split())


def _message_ids(value: str) -> tuple[str, ...]:
    found = re.findall(r"<[^<>\s]+>", value or "")
    if not found and "@" in (value or "") and len(value.split()) == 1:
        found = [f"<{value.strip()}>"]  # a bare id without its angle brackets
    return tuple(dict.fromkeys(found))


def _sender(headers: Message) -> tuple[str, str]:
    """(name, address) of From; the address is parsed before RFC 2047 words are decoded, so
    a decoded comma in the name cannot split it."""
    name, address = parseaddr((_raw_values(headers, "From") or [""])[0])
    address = normalize_address(address) if "@" in address else ""
    return decode_header_text(name).strip().strip('"'), address


def _date(headers: Message, defects: list[str]) -> datetime | None:
    value = _header(headers, "Date")
    if not value:
        return None
    try:
        date = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        defects.append("InvalidDateHeader")
        return None
    return date if date.tzinfo else date.replace(tzinfo=UTC)  # "-0000": no zone known


# --- parsing ------------------------------------------------------------------------------


def _parse(raw: bytes) -> tuple[Message, list[str]]:
    defects: list[str] = []
    try:
        msg: Message = BytesParser(policy=policy.default).parsebytes(raw)
        for part in msg.walk():  # policy.default decodes lazily: make it fail here, if at all
            part.get_content_type()
            part.get_filename()
    except Exception as exc:
        defects.append(f"reparsed leniently: {exc!r}")
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    return msg, defects


def _defects_found(msg: Message) -> list[str]:
    """The defects the email package noted on every part (decoding a payload adds its own,
    so this is read once the body is read) and on the header objects of policy.default."""
    defects = [type(d).__name__ for part in msg.walk() for d in getattr(part, "defects", [])]
    for name in dict.fromkeys(msg.keys()):
        try:
            for value in msg.get_all(name) or []:
                defects.extend(
                    f"{type(d).__name__} in {name}" for d in getattr(value, "defects", ())
                )
        except Exception as exc:
            defects.append(f"unreadable header {name}: {exc!r}")
    return defects


@dataclass(frozen=True)
class _Piece:
    """Body content of one part: text, or HTML (whose text is rendered when needed)."""

    text: str | None
    html: str | None = None

    def as_text(self) -> str:
        return self.text if self.text is not None else html_to_text(self.html or "")


class _BodyReader:
    """Walks the MIME tree: body pieces in order, every other part as an attachment."""

    def __init__(self, defects: list[str]) -> None:
        self.attachments: list[ParsedAttachment] = []
        self.defects = defects

    def read(self, part: Message, depth: int = 0, *, related: bool = False) -> list[_Piece]:
        headers = _mime_headers(part)
        ctype = headers.get_content_type()
        maintype = ctype.split("/", 1)[0]
        if depth > _MAX_DEPTH:
            self.defects.append("MIME nesting too deep: the rest is kept as one part")
            self._attach(headers, "application/octet-stream", _flatten_body(part))
            return []
        if maintype == "message":
            self._attach(headers, ctype, _attached_message(part))
            return []
        if part.is_multipart():
            children = [p for p in part.get_payload() if isinstance(p, Message)]
            if ctype == "multipart/alternative":
                return self._alternative(children, depth)
            if ctype == "multipart/related":
                return self._related(headers, children, depth)
            return [piece for child in children for piece in self.read(child, depth + 1)]
        if maintype == "multipart":  # no boundary found: it is all text
            return [_Piece(_body_text(part, headers, "text/plain", self.defects))]
        disposition = (headers.get_content_disposition() or "").lower()
        named = _filename(headers) is not None
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not named:
            text = _body_text(part, headers, ctype, self.defects)
            return [_Piece(text)] if ctype == "text/plain" else [_Piece(None, text)]
        self._attach(headers, ctype, _payload(part, self.defects), inline_by_default=related)
        return []

    def _alternative(self, children: list[Message], depth: int) -> list[_Piece]:
        """The last plain version for the text, the last HTML one for display; whatever
        else an alternative holds (a calendar invitation, images) is kept as attachments."""
        versions = [self.read(child, depth + 1) for child in children]
        plain = [v for v in versions if any(p.text is not None for p in v)]
        rich = [v for v in versions if any(p.html is not None for p in v)]
        if not plain:
            return rich[-1] if rich else []
        pieces = [p for p in plain[-1] if p.text is not None]
        if rich:  # the HTML for display only: its text is the plain version's
            pieces += [_Piece("", p.html) for p in rich[-1] if p.html is not None]
        return pieces

    def _related(self, headers: Message, children: list[Message], depth: int) -> list[_Piece]:
        """The root (``start``, or the first part) is the body; the rest are its inline
        resources (``cid:`` images)."""
        if not children:
            return []
        start = _param(headers, "start")
        root = next(
            (c for c in children if start and _content_id(_mime_headers(c)) == start),
            children[0],
        )
        pieces = self.read(root, depth + 1)
        for child in children:
            if child is not root:
                pieces += self.read(child, depth + 1, related=True)
        return pieces

    def _attach(
        self,
        headers: Message,
        ctype: str,
        content: bytes,
        *,
        inline_by_default: bool = False,
    ) -> None:
        disposition = (headers.get_content_disposition() or "").lower()
        self.attachments.append(
            ParsedAttachment(
                filename=_filename(headers)
                or _default_filename(ctype, content, len(self.attachments) + 1),
                content_type=ctype,
                content=content,
                content_id=_content_id(headers) or None,
                inline=disposition == "inline" or (inline_by_default and not disposition),
            )
        )


# --- parts --------------------------------------------------------------------------------


def _mime_headers(part: Message) -> Message:
    """The part's MIME headers read from their source text, the lenient compat32 way: RFC
    2231 parameters come back with their declared charset, which may not fit the bytes
    (and it is quicker than policy.default, which parses a header again on each read)."""
    view = Message()
    view.set_default_type(part.get_default_type())  # message/rfc822 in a digest
    for name, value in part.raw_items():
        if name.lower() in ("content-type", "content-disposition", "content-id"):
            view[name] = _clean(unescape_8bit(_unfold(str(value))))
    return view


def _param(headers: Message, name: str) -> str:
    """A Content-Type parameter as text ('' if absent), RFC 2231 encoded or not."""
    value = headers.get_param(name)
    if isinstance(value, tuple):  # (charset, language, text)
        value = value[2]
    return str(value or "").strip()


def _content_id(headers: Message) -> str:
    return " ".join(str(headers.get("Content-ID", "")).split())


def bare_content_id(value: str) -> str:
    """A Content-ID without its angle brackets (as ``cid:`` URLs name it)."""
    return value.strip().strip("<>").strip()


def _filename(headers: Message) -> str | None:
    """The part's file name (``filename`` of Content-Disposition, else ``name`` of
    Content-Type), decoded whatever the encoding: RFC 2231 with or without charset and
    continuations, RFC 2047 words (Outlook, Gmail), raw 8-bit; without its path."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        try:
            value = headers.get_param(param, header=header)
        except Exception:  # a parameter too broken to read is no name
            value = None
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
            charset, _, text = value
            try:
                name = decode_bytes(text.encode("latin-1"), charset)
            except UnicodeEncodeError:
                name = text
        elif isinstance(value, str):
            name = decode_header_text(value)
        else:
            continue
        name = re.sub(r"[\x00-\x1f\x7f]", "", name).replace("\\", "/").rsplit("/", 1)[-1]
        if name.strip(" ."):
            return name.strip()[:255]
    return None


# Extensions for the nameless parts whose type says what they are.
_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/vcard": ".vcf",
    "text/x-vcard": ".vcf",
}


def _default_filename(ctype: str, content: bytes, index: int) -> str:
    if ctype in _ATTACHED_MAILS:
        subject = _header(read_headers(content), "Subject")
        subject = re.sub(r"[\\/:*?\"<>|]", "_", subject).strip()[:200]
        return f"{subject or 'message'}.eml"
    return _DEFAULT_FILENAMES.get(ctype) or f"part-{index}{_EXTENSIONS.get(ctype, '')}"


def _payload(part: Message, defects: list[str]) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception as exc:
        defects.append(f"undecodable part {part.get_content_type()}: {exc!r}")
        payload = None
    if isinstance(payload, bytes):
        return payload
    return str(part.get_payload() or "").encode("utf-8", "surrogateescape")


def _flatten_body(part: Message) -> bytes:
    """The part's body as it was written (its own headers left out)."""
    try:
        flat = part.as_bytes(policy=_FLATTEN)
    except Exception:  # a tree the generator cannot write: keep what the parser saw
        return str(part.get_payload()).encode("utf-8", "surrogateescape")
    flat = flat.replace(b"\r\n", b"\n")
    if not part.keys():  # no headers of its own (a digest's parts): one blank line, then it
        return flat[1:]
    return flat.split(b"\n\n", 1)[1] if b"\n\n" in flat else b""


def _attached_message(part: Message) -> bytes:
    """An attached mail (or report) whole, as written; undone the transfer encoding some
    mailers wrongly put on it."""
    body = _flatten_body(part)
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    try:
        if encoding == "base64":
            return base64.b64decode(body)
        if encoding == "quoted-printable":
            return quopri.decodestring(body)
    except (binascii.Error, ValueError):
        pass
    return body


_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)


def _body_text(part: Message, headers: Message, ctype: str, defects: list[str]) -> str:
    raw = _payload(part, defects)
    charset = headers.get_content_charset()
    if not charset and ctype == "text/html":  # an HTML part may declare it inside
        declared = _META_CHARSET.search(raw[:4096])
        charset = declared.group(1).decode("ascii") if declared else None
    text = _clean(decode_bytes(raw, charset))
    if ctype == "text/plain" and _param(headers, "format").lower() == "flowed":
        text = unflow(text, delsp=_param(headers, "delsp").lower() == "yes")
    return text


# --- the whole mail -----------------------------------------------------------------------


def _read_body(msg: Message, defects: list[str]) -> tuple[str, str | None, list[ParsedAttachment]]:
    reader = _BodyReader(defects)
    pieces = reader.read(msg)
    texts = [t.strip("\n") for t in (p.as_text() for p in pieces) if t.strip()]
    htmls = [p.html for p in pieces if p.html is not None and p.html.strip()]
    return "\n\n".join(texts), "\n".join(htmls) or None, reader.attachments


def parse_mail(raw: bytes) -> ParsedMail:
    """What a ticket records of ``raw``; never raises (see the module's docstring)."""
    try:
        return _parse_mail(raw)
    except Exception as exc:  # the last resort: a mail is never lost to a bug of ours
        return _unparsed_mail(raw, exc)


def _parse_mail(raw: bytes) -> ParsedMail:
    msg, defects = _parse(raw)
    try:
        text, html_body, attachments = _read_body(msg, defects)
    except Exception as exc:
        defects.append(f"reparsed leniently: {exc!r}")
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
        text, html_body, attachments = _read_body(msg, defects)
    defects += _defects_found(msg)
    if b"\x00" in raw:
        defects.append("NUL bytes in the mail (none kept in its text)")
    headers = read_headers(raw)
    from_name, from_address = _sender(headers)
    return ParsedMail(
        subject=_header(headers, "Subject"),
        from_address=from_address,
        from_name=from_name,
        to=tuple(parse_address_list(_raw_values(headers, "To"))),
        cc=tuple(parse_address_list(_raw_values(headers, "Cc"))),
        reply_to=tuple(parse_address_list(_raw_values(headers, "Reply-To"))),
        message_id=(_message_ids(_header(headers, "Message-ID")) or (None,))[0],
        in_reply_to=_message_ids(_header(headers, "In-Reply-To")),
        references=_message_ids(_header(headers, "References")),
        date=_date(headers, defects),
        text=text,
        html=html_body,
        attachments=tuple(attachments),
        headers={k.lower(): _header(headers, k) for k in dict.fromkeys(headers.keys())},
        defects=tuple(dict.fromkeys(defects)),
        blocks=split_blocks(text),
    )


def _unparsed_mail(raw: bytes, error: Exception) -> ParsedMail:
    """A mail our parsing failed on, kept as text: its bytes after the first blank line."""
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    text = _clean(decode_bytes(body or head)).strip("\n")
    return ParsedMail(
        subject="",
        from_address="",
        from_name="",
        to=(),
        cc=(),
        reply_to=(),
        message_id=None,
        in_reply_to=(),
        references=(),
        date=None,
        text=text,
        html=None,
        attachments=(),
        headers={},
        defects=(f"unparsed: {error!r}",),
        blocks=split_blocks(text),
    )
