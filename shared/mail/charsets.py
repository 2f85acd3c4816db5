"""Mail bytes to correct text, whatever charset the sender declared, or failed to (pure).

Mail clients declare charsets wrongly every day: UTF-8 sent as ``iso-8859-1``, Windows
quotes sent as ``iso-8859-1``, latin-1 sent as ``utf-8``, 8-bit bytes sent as
``us-ascii`` or with no declaration at all, labels Python does not know (``win-1252``,
``x-unknown``). The rules below read all of them as the sender meant.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re

# Labels that name a subset of what their senders really use; read them as the superset,
# as browsers do (WHATWG Encoding Standard): "iso-8859-1" mail from Windows carries
# cp1252's quotes and euro sign, "gb2312" mail carries GBK characters.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}

# Labels that declare nothing (treated as no declaration).
_NO_CHARSET = frozenset({"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default"})

# Python codecs that are not charsets: decoding mail with them would rewrite its text.
_NOT_CHARSETS = frozenset(
    {
        "unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "utf-8-sig",
        "base64", "hex", "quopri", "uu", "zlib", "bz2", "rot-13",
    }
)  # fmt: skip

# Charsets whose ASCII-only bytes are not ASCII text (7-bit encodings, UTF-16/32).
_NOT_ASCII_COMPATIBLE = ("utf-7", "utf-16", "utf-32", "iso2022", "hz")

# Multi-byte charsets: valid UTF-8 in their bytes may be an accident (and in the 7-bit
# ones above, it is always ASCII), so UTF-8 is not preferred to them.
_MULTI_BYTE = ("utf", "gb", "big5", "cp932", "cp949", "cp950", "shift_jis", "euc", "johab")


def _spellings(label: str) -> list[str]:
    """``label`` and the spellings Python knows of what it probably means."""
    found = [label]
    if label.startswith("x-"):
        found.append(label[2:])
    windows = re.fullmatch(r"(?:x-)?(?:windows|win|cp|ms|ansi)[-_ ]?(\d{3,4})", label)
    if windows:
        found.append(f"cp{windows.group(1)}")
    found.append(re.sub(r"^(iso-?8859-\d+)-[ie]$", r"\1", label))  # iso-8859-8-i (Hebrew)
    found.append(re.sub(r"^x-mac-", "mac-", label))
    return found


def codec_for(label: str | None) -> str | None:
    """The Python codec to read text declared as ``label``, or None if it declares nothing
    usable."""
    key = (label or "").strip().strip("\"'").lower().split("*", 1)[0]  # RFC 2231 "utf-8*fr"
    if not key or key in _NO_CHARSET:
        return None
    for spelling in _spellings(key):
        try:
            name = codecs.lookup(spelling).name
        except (LookupError, ValueError):
            continue
        if name in _NOT_CHARSETS:
            return None
        return _SUPERSETS.get(name, name)
    return None


# A valid multi-byte UTF-8 sequence (RFC 3629): its presence means the text is UTF-8.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
_STRAY_BYTES = "shared.mail.charsets.stray-bytes-as-cp1252"


def _stray_bytes_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Decoding error handler: bytes that are not UTF-8 in UTF-8 text read as cp1252 (or
    latin-1 for the five bytes cp1252 leaves undefined)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    stray = error.object[error.start : error.end]
    return "".join(bytes([b]).decode("cp1252", "ignore") or chr(b) for b in stray), error.end


codecs.register_error(_STRAY_BYTES, _stray_bytes_as_cp1252)


def decode_bytes(raw: bytes, declared: str | None = None) -> str:
    """Text of ``raw``, declared as ``declared`` (or not), by the first rule that fits:

    1. ASCII bytes are ASCII text (unless declared in a 7-bit encoding of something else);
    2. valid UTF-8 is UTF-8, whatever single-byte charset is declared (a run of multi-byte
       sequences is never an accident of latin-1 text);
    3. the declared charset, if the bytes fit it, else UTF-8;
    4. undeclared or declared UTF-8 with a few stray bytes of another charset (a footer, a
       pasted line): UTF-8, the stray bytes read as cp1252;
    5. cp1252, then latin-1, which fits any bytes.
    """
    codec = codec_for(declared)
    if raw.isascii() and not (codec and codec.startswith(_NOT_ASCII_COMPATIBLE)):
        return raw.decode("ascii")
    single_byte = codec is None or not codec.startswith(_MULTI_BYTE + _NOT_ASCII_COMPATIBLE)
    candidates = ["utf-8"] if single_byte else []
    for candidate in dict.fromkeys([*candidates, codec or "utf-8", "utf-8"]):
        try:
            return raw.decode(candidate).removeprefix("\ufeff")  # a BOM is not text
        except (LookupError, UnicodeDecodeError):
            continue
    if codec in (None, "utf-8") and _UTF8_SEQUENCE.search(raw):
        return raw.decode("utf-8", _STRAY_BYTES).removeprefix("\ufeff")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


def unescape_8bit(text: str) -> str:
    """Text the email package read as ASCII with raw 8-bit bytes surrogate-escaped
    (undeclared 8-bit headers and parameters): the bytes decoded as text."""
    if not _ESCAPED_BYTE.search(text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=")


def _encoded_word(match: re.Match[str]) -> str:
    charset, encoding, encoded = match.groups()
    data = encoded.encode("utf-8", "surrogateescape")
    try:
        if encoding in "bB":
            raw = base64.b64decode(data + b"=" * (-len(data) % 4), validate=True)
        else:
            raw = quopri.decodestring(data, header=True)
    except (binascii.Error, ValueError):
        return match.group(0)  # not decodable: keep it as written
    return decode_bytes(raw, charset)


def decode_encoded_words(text: str) -> str:
    """``text`` with its RFC 2047 encoded words decoded; the whitespace between two adjacent
    encoded words is dropped, as RFC 2047 says."""
    if "=?" not in text:
        return text
    pieces: list[str] = []
    end = None  # where the previous encoded word ended
    for match in _ENCODED_WORD.finditer(text):
        gap = text[end or 0 : match.start()]
        if end is None or gap.strip(" \t\r\n"):
            pieces.append(gap)
        pieces.append(_encoded_word(match))
        end = match.end()
    pieces.append(text[end or 0 :])
    return "".join(pieces)
