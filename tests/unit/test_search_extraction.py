"""The text inside attachments: every kind read, hostile files refused, nothing raises.

The documents are made by ``tests/support_documents.py``; a few tests run the pool's
worker processes (forkserver), each in well under a few seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import time
import zipfile
import zlib

import pytest
from pypdf import PdfReader, PdfWriter

from services.search.adapters.extraction_pool import ExtractionPool
from services.search.domain.extraction import (
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_MEMBERS,
    TRUNCATED,
    Extracted,
    document_kind,
    extract_text,
)
from tests.support_documents import (
    docx_parts,
    make_docx,
    make_odp,
    make_ods,
    make_odt,
    make_pdf,
    make_pptx,
    make_xlsx,
    make_zip,
    odt_parts,
    xlsx_parts,
)

pytestmark = pytest.mark.unit

QUOTE = "Dévis n° 2026-114 — écran 27 pouces, référence FR-7781"
OCTET_STREAM = "application/octet-stream"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def extract(content: bytes, content_type: str = OCTET_STREAM, filename: str = "") -> Extracted:
    return extract_text(content, content_type=content_type, filename=filename)


# ---------------------------------------------------------------------------------------
# Each kind of document
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_pdf_text_keeps_french_accents(compress: bool) -> None:
    pdf = make_pdf([f"{QUOTE}\nTotal TTC : 1 249,50 €"], compress=compress)
    result = extract(pdf, "application/pdf", "devis.pdf")
    assert result == Extracted(f"{QUOTE}\nTotal TTC : 1 249,50 €", "ok")


def test_pdf_pages_are_joined_by_newlines() -> None:
    result = extract(make_pdf(["Page un", "Page deux", "Page trois"]))
    assert result.text.split("\n") == ["Page un", "Page deux", "Page trois"]


def test_pdf_with_junk_before_its_header_is_still_a_pdf() -> None:
    assert extract(b"\r\n junk \r\n" + make_pdf([QUOTE])).text == QUOTE


def test_docx_paragraphs_table_cells_and_header() -> None:
    docx = make_docx(
        [QUOTE, "Délai\tune semaine", "ligne 1\nligne 2"],
        table=[["Désignation", "Qté", "Prix"], ["Écran 27 pouces", 2, "599,50 €"]],
        header="Société Exemple SARL",
    )
    result = extract(docx, filename="devis.docx")
    assert result.status == "ok"
    assert result.text == (
        f"{QUOTE}\nDélai\tune semaine\nligne 1\nligne 2\n"
        "Désignation\tQté\tPrix\nÉcran 27 pouces\t2\t599,50 €\n\n"
        "Société Exemple SARL"
    )


def test_docx_whose_main_part_has_another_name_is_found_by_its_relationship() -> None:
    parts = docx_parts([QUOTE])
    document = parts.pop("word/document.xml")
    parts["word/document2.xml"] = document
    parts["_rels/.rels"] = parts["_rels/.rels"].replace("document.xml", "document2.xml")
    assert extract(make_zip(parts)).text == QUOTE


@pytest.mark.parametrize("inline_strings", [False, True], ids=["shared", "inline"])
def test_xlsx_cells_are_tab_separated_rows_are_lines(inline_strings: bool) -> None:
    xlsx = make_xlsx(
        [["Désignation", "Qté", "Prix unitaire"], [QUOTE, 2, 599.5], [None, "remise", 4.6]],
        inline_strings=inline_strings,
    )
    result = extract(xlsx, filename="devis.xlsx")
    assert result.text == f"Désignation\tQté\tPrix unitaire\n{QUOTE}\t2\t599.5\nremise\t4.6"


def test_xlsx_sheets_are_read_in_their_number_order() -> None:
    sheets = [[[f"feuille {n}"]] for n in range(2, 12)]
    text = extract(make_xlsx([["feuille 1"]], more_sheets=sheets)).text
    assert text.split() == [word for n in range(1, 12) for word in ("feuille", str(n))]


def test_pptx_slides_are_read_in_their_number_order() -> None:
    slides = [f"Diapositive {n}\n{QUOTE}" for n in range(1, 12)]
    text = extract(make_pptx(slides), filename="offre.pptx").text
    assert text.split("\n\n") == slides


def test_odt_paragraphs_tabs_and_spaces() -> None:
    result = extract(make_odt([QUOTE, "a\tb    c\nd"]), filename="devis.odt")
    assert result == Extracted(f"{QUOTE}\na\tb c\nd", "ok")


def test_ods_cells_and_rows() -> None:
    result = extract(make_ods([["Désignation", "Qté"], [QUOTE, 2.5], [None, "z"]]))
    assert result.text == f"Désignation\tQté\n{QUOTE}\t2.5\nz"


def test_odp_pages_are_apart() -> None:
    result = extract(make_odp([f"Offre\n{QUOTE}", "Conditions"]))
    assert result.text == f"Offre\n{QUOTE}\n\nConditions"


def test_html_is_rendered_as_a_reader_sees_it() -> None:
    markup = (
        "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>"
        f"<p>{QUOTE}</p><table><tr><td>Écran</td><td>599,50&nbsp;€</td></tr></table>"
        "</body></html>"
    )
    result = extract(markup.encode(), "text/html; charset=utf-8", "devis.html")
    assert result == Extracted(f"{QUOTE}\nÉcran | 599,50 €", "ok")


def test_html_charset_from_its_meta_tag() -> None:
    markup = '<html><head><meta charset="windows-1252"></head><body>Déjà vu</body></html>'
    assert extract(markup.encode("cp1252")).text == "Déjà vu"


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (QUOTE.encode("utf-8"), "text/plain"),
        ("Dévis à signer, reçu".encode("latin-1"), "text/plain"),
        ("Dévis à signer, reçu".encode("latin-1"), "text/plain; charset=iso-8859-1"),
        ("Dévis à signer, reçu".encode("utf-16"), "text/plain"),
    ],
    ids=["utf-8", "latin-1 undeclared", "latin-1 declared", "utf-16 with bom"],
)
def test_plain_text_is_decoded_whatever_its_charset(raw: bytes, content_type: str) -> None:
    expected = raw.decode("utf-16") if raw.startswith(b"\xff\xfe") else None
    text = extract(raw, content_type, "devis.txt").text
    assert text == (expected or ("Dévis à signer, reçu" if b"\xe9" in raw else QUOTE))


def test_csv_sent_as_octet_stream_is_read_as_text() -> None:
    csv = "Désignation;Qté;Prix\r\nÉcran;2;599,50\r\n".encode("cp1252")
    assert extract(csv, OCTET_STREAM, "export.csv").text == "Désignation;Qté;Prix\nÉcran;2;599,50"


# ---------------------------------------------------------------------------------------
# What a file is: its bytes before its declared type and name
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "filename", "content", "kind"),
    [
        (OCTET_STREAM, "", make_pdf(["x"]), "pdf"),
        ("application/vnd.ms-word", "devis.docx", make_pdf(["x"]), "pdf"),
        ("application/pdf", "devis.pdf", make_docx(["x"]), "docx"),
        (OCTET_STREAM, "devis.docx", make_xlsx([["x"]]), "xlsx"),
        ("application/zip", "offre.zip", make_pptx(["x"]), "pptx"),
        (OCTET_STREAM, "", make_odt(["x"]), "odt"),
        (OCTET_STREAM, "devis.odt", make_ods([["x"]]), "ods"),
        (OCTET_STREAM, "", make_odp(["x"]), "odp"),
        ("application/pdf", "scan.pdf", PNG, None),
        ("image/png", "scan.png", PNG, None),
        (OCTET_STREAM, "devis.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), None),
        (OCTET_STREAM, "photos.zip", make_zip({"a.jpg": b"x"}), None),
        (OCTET_STREAM, "devis.docx", make_zip({"a.jpg": b"x"}), None),
        ("text/plain", "devis.txt", b"<!DOCTYPE html><html><p>x</p></html>", "html"),
        (OCTET_STREAM, "", b"  <html lang=fr><body>x</body></html>", "html"),
        (OCTET_STREAM, "page.htm", b"<p>x</p>", "html"),
        ("text/csv", "export.csv", b"a;b\n1;2\n", "text"),
        (OCTET_STREAM, "notes", "Déjà vu\n".encode("latin-1"), "text"),
        (OCTET_STREAM, "", bytes(range(256)), None),
        ("text/plain", "x.txt", b"\x00\x01\x02\x03" * 100 + b"binary", None),
        ("text/rtf", "devis.rtf", b"{\\rtf1\\ansi Devis}", None),
        ("application/json", "data.json", b'{"a": 1}', None),
        ("application/pdf", "devis.pdf", b"not a pdf at all", "pdf"),
        (OCTET_STREAM, "devis.docx", make_docx(["x" * 2000])[:600], "docx"),
    ],
)
def test_document_kind_trusts_the_bytes_first(
    content_type: str, filename: str, content: bytes, kind: str | None
) -> None:
    assert document_kind(content_type, filename, content) == kind


def test_a_pdf_sent_as_octet_stream_is_read() -> None:
    assert extract(make_pdf([QUOTE]), OCTET_STREAM, "pièce jointe").text == QUOTE


def test_a_pdf_with_a_wrong_extension_and_type_is_read() -> None:
    word = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert extract(make_pdf([QUOTE]), word, "devis.docx").text == QUOTE


def test_an_office_kind_is_told_from_the_first_bytes_of_a_zip_cut_short() -> None:
    odt = make_odt([QUOTE])
    assert document_kind(OCTET_STREAM, "", odt[:200]) == "odt"


@pytest.mark.parametrize(
    ("content", "content_type", "filename", "detail"),
    [
        (PNG, "image/png", "scan.png", "PNG image (image/png, .png)"),
        (PNG, "application/pdf", "scan.pdf", "PNG image (application/pdf, .pdf)"),
        (make_zip({"a.txt": "x"}), "application/zip", "a.zip", "zip archive"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), OCTET_STREAM, "", "executable"),
        (b'{"a": 1}', "application/json", "a.json", "not a document kind we read"),
    ],
)
def test_what_is_not_a_document_is_unsupported(
    content: bytes, content_type: str, filename: str, detail: str
) -> None:
    result = extract(content, content_type, filename)
    assert (result.text, result.status) == ("", "unsupported")
    assert result.detail.startswith(detail)


# ---------------------------------------------------------------------------------------
# Normalised and cut
# ---------------------------------------------------------------------------------------


def test_spaces_collapse_line_breaks_stay_and_controls_go() -> None:
    raw = (
        "  Dévis\x00  n°\u00a02026\r\n\r\n\r\n\r\nré\u00adférence\x07\x1b\tFR  \r ligne\u2028fin  "
    )
    assert extract(raw.encode(), "text/plain; charset=utf-8").text == (
        "Dévis n° 2026\n\nréférence\tFR\nligne\nfin"
    )


def test_text_over_max_chars_is_cut_at_a_word_boundary() -> None:
    words = " ".join(f"mot{n}" for n in range(2000))
    result = extract_text(make_pdf([words]), content_type="", filename="", max_chars=100)
    assert result.status == "ok" and result.detail == TRUNCATED
    assert 90 <= len(result.text) <= 100
    assert words.startswith(result.text) and words[len(result.text)] == " "


def test_a_huge_single_piece_of_text_is_cut_without_normalising_all_of_it() -> None:
    text = ("Dévis " * 1_000_000).encode()  # 7 MB
    started = time.perf_counter()
    result = extract_text(text, content_type="text/plain", filename="", max_chars=1000)
    assert time.perf_counter() - started < 1.0
    assert (result.status, result.detail) == ("ok", TRUNCATED)
    assert result.text.endswith("Dévis") and len(result.text) <= 1000


def test_huge_html_is_rendered_only_as_far_as_needed() -> None:
    markup = ("<html><body>" + "<p style='margin:0'>Dévis écran</p>" * 200_000).encode()
    started = time.perf_counter()
    result = extract_text(markup, content_type="text/html", filename="", max_chars=1000)
    assert time.perf_counter() - started < 1.0
    assert (result.status, result.detail) == ("ok", TRUNCATED)
    assert 900 < len(result.text) <= 1000


def test_text_within_max_chars_is_not_marked_truncated() -> None:
    result = extract_text(make_docx([QUOTE]), content_type="", filename="", max_chars=len(QUOTE))
    assert result == Extracted(QUOTE, "ok")


def test_a_single_word_longer_than_max_chars_is_cut_inside() -> None:
    result = extract_text(b"x" * 500, content_type="text/plain", filename="", max_chars=50)
    assert (result.text, result.detail) == ("x" * 50, TRUNCATED)


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        extract_text(b"x", content_type="text/plain", filename="", max_chars=0)


# ---------------------------------------------------------------------------------------
# Empty, damaged, encrypted
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("pages", [[""], ["", "   "], []], ids=["blank", "blanks", "none"])
def test_a_pdf_without_text_is_empty(pages: list[str]) -> None:
    assert extract(make_pdf(pages)) == Extracted("", "empty")


@pytest.mark.parametrize(
    "content",
    [make_docx([""]), make_xlsx([]), make_pptx([]), make_odt([]), make_ods([[None]])],
    ids=["docx", "xlsx", "pptx", "odt", "ods"],
)
def test_office_documents_without_text_are_empty(content: bytes) -> None:
    assert extract(content) == Extracted("", "empty")


@pytest.mark.parametrize("content", [b" \n\t \r\n", b"\x00\x00"])
def test_plain_text_without_text_is_empty(content: bytes) -> None:
    assert extract(content, "text/plain", "vide.txt") == Extracted("", "empty")


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "text/plain", ""])
def test_an_empty_file_is_empty_whatever_its_type(content_type: str) -> None:
    assert extract(b"", content_type, "devis.pdf") == Extracted("", "empty")


@pytest.mark.parametrize(
    ("content", "content_type", "filename", "detail"),
    [
        (b"%PDF-1.4\n1 0 obj garbage\n%%EOF", OCTET_STREAM, "", "pdf: "),
        (b"this is not a pdf", "application/pdf", "devis.pdf", "pdf: "),
        (make_docx([QUOTE * 50])[:800], OCTET_STREAM, "devis.docx", "docx: "),
        (os.urandom(2000), "application/vnd.oasis.opendocument.text", "x.odt", "odt: "),
        (make_zip({"[Content_Types].xml": "<Types/>", "word/x": "y"}), "", "", "failed"),
        (make_zip({"[Content_Types].xml": "<Types/>", "xl/x": "y"}), "", "", "failed"),
        (make_zip({"mimetype": "application/vnd.oasis.opendocument.text"}), "", "", "failed"),
    ],
    ids=[
        "garbage pdf",
        "not a pdf",
        "truncated docx",
        "random odt",
        "no body",
        "no sheet",
        "no content",
    ],
)
def test_a_damaged_file_fails_without_raising(
    content: bytes, content_type: str, filename: str, detail: str
) -> None:
    result = extract(content, content_type, filename)
    assert (result.text, result.status) == ("", "failed")
    assert "\n" not in result.detail and len(result.detail) <= 160
    assert detail == "failed" or result.detail.startswith(detail)


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.99])
def test_a_pdf_cut_short_never_raises(cut: float) -> None:
    pdf = make_pdf([f"{QUOTE} page {n}" for n in range(5)])
    result = extract(pdf[: int(len(pdf) * cut)])
    assert result.status in ("ok", "empty", "failed")


def test_one_unreadable_pdf_page_does_not_hide_the_others() -> None:
    pdf = make_pdf(["Page lisible", "Page abîmée"], compress=True)
    second = pdf.rindex(b"stream\n") + len(b"stream\n")
    damaged = pdf[:second] + b"\xff" * 8 + pdf[second + 8 :]  # its Flate data broken
    result = extract(damaged)
    assert result.text.startswith("Page lisible")


def _encrypted(pdf: bytes, user_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_encrypted_pdf_without_a_user_password_is_read() -> None:
    assert extract(_encrypted(make_pdf([QUOTE]), "")).text == QUOTE


def test_an_encrypted_pdf_with_a_user_password_fails_and_says_so() -> None:
    result = extract(_encrypted(make_pdf([QUOTE]), "secret"))
    assert result == Extracted("", "failed", "encrypted PDF: a password is needed to open it")


_PASSWORD_PADDING = bytes.fromhex(
    "28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a"
)


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _aes_encrypted(pdf: bytes) -> bytes:
    """``pdf`` marked as encrypted with AES-128 (standard security handler, revision 4)
    and an empty user password that verifies; its streams are left as they are, so only
    reading them needs AES."""
    owner, permissions, file_id = b"o" * 32, (-4).to_bytes(4, "little", signed=True), b"i" * 16
    key = hashlib.md5(_PASSWORD_PADDING + owner + permissions + file_id).digest()  # noqa: S324
    for _ in range(50):
        key = hashlib.md5(key).digest()  # noqa: S324
    user = hashlib.md5(_PASSWORD_PADDING + file_id).digest()  # noqa: S324
    for i in range(20):
        user = _rc4(bytes(b ^ i for b in key), user)
    encrypt = (
        b"/Encrypt << /Filter /Standard /V 4 /R 4 /Length 128 /P -4"
        b" /CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >>"
        b" /StmF /StdCF /StrF /StdCF /O <%s> /U <%s> >> /ID [<%s> <%s>]"
        % (owner.hex().encode(), (user + bytes(16)).hex().encode(), file_id.hex().encode(),
           file_id.hex().encode())
    )  # fmt: skip
    return pdf.replace(b"/Root 1 0 R", b"/Root 1 0 R " + encrypt)


def test_an_aes_encrypted_pdf_fails_and_says_why() -> None:
    result = extract(_aes_encrypted(make_pdf([QUOTE])))
    assert (result.status, result.text) == ("failed", "")
    assert result.detail.startswith("encrypted PDF: ") and "AES" in result.detail


# ---------------------------------------------------------------------------------------
# Hostile office files
# ---------------------------------------------------------------------------------------

_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE w:document [\n<!ENTITY a "hahahahahahahahahaha">\n'
    + "".join(f'<!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">\n' for n in range(8))
    + "]>\n"
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&i;</w:t></w:r></w:p></w:body></w:document>"
)
_EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>"
)


@pytest.mark.parametrize(
    "document",
    [_LAUGHS.encode(), _EXTERNAL.encode(), _LAUGHS.encode("utf-16"), _LAUGHS.encode("utf-16-le")],
    ids=["entity expansion", "external entity", "utf-16", "utf-16 without bom"],
)
def test_an_xml_part_declaring_a_doctype_is_refused(document: bytes) -> None:
    parts: dict[str, bytes | str] = {**docx_parts([]), "word/document.xml": document}
    started = time.perf_counter()
    result = extract(make_zip(parts))
    assert time.perf_counter() - started < 1.0
    assert result == Extracted("", "failed", "word/document.xml declares a DOCTYPE (refused)")


@pytest.mark.parametrize(
    ("parts", "part"),
    [
        ({**xlsx_parts([["x"]])}, "xl/sharedStrings.xml"),
        ({**odt_parts(["x"])}, "content.xml"),
        ({**docx_parts(["x"], header="h")}, "word/header1.xml"),
    ],
)
def test_every_part_read_is_checked_for_a_doctype(parts: dict[str, str], part: str) -> None:
    evil = _LAUGHS.replace("w:document", "root")
    result = extract(make_zip({**parts, part: evil}))
    assert (result.status, result.detail) == ("failed", f"{part} declares a DOCTYPE (refused)")


def test_an_xml_part_in_utf16_without_a_doctype_is_read() -> None:
    parts: dict[str, bytes | str] = {**docx_parts([QUOTE])}
    parts["word/document.xml"] = (
        str(parts["word/document.xml"]).replace('encoding="UTF-8"', 'encoding="UTF-16"')
    ).encode("utf-16")
    assert extract(make_zip(parts)).text == QUOTE


def test_a_zip_bomb_is_refused_before_it_is_inflated() -> None:
    body = "<w:p><w:r><w:t>ha</w:t></w:r></w:p>" * (MAX_UNZIPPED_BYTES // 32)
    parts = docx_parts([])
    parts["word/document.xml"] = parts["word/document.xml"].replace("<w:body>", f"<w:body>{body}")
    bomb = make_zip(parts)
    assert len(bomb) < MAX_UNZIPPED_BYTES // 100  # it inflates over a hundred times
    started = time.perf_counter()
    result = extract(bomb, OCTET_STREAM, "devis.docx")
    assert time.perf_counter() - started < 0.5
    assert result.status == "too_large"
    assert result.detail == "over 50 MB uncompressed (at word/document.xml)"


def test_a_member_lying_about_its_size_is_inflated_no_further() -> None:
    bomb = bytearray(make_docx([QUOTE * 100]))
    # Its central directory entry says document.xml inflates to 100 bytes: zipfile stops
    # there, and its CRC check then fails.
    entry = bomb.index(b"word/document.xml", bomb.index(b"PK\x01\x02")) - 46
    bomb[entry + 24 : entry + 28] = (100).to_bytes(4, "little")
    result = extract(bytes(bomb))
    assert result.status == "failed"


def test_a_zip_with_too_many_members_is_refused() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in docx_parts([QUOTE]).items():
            archive.writestr(name, data)
        for n in range(MAX_ZIP_MEMBERS):
            archive.writestr(f"word/media/{n}", b"")
    result = extract(buffer.getvalue())
    assert result.status == "too_large"
    assert result.detail == f"{MAX_ZIP_MEMBERS + 3} zip members (at most {MAX_ZIP_MEMBERS})"


def test_a_pdf_flate_bomb_fails_at_pypdfs_limit() -> None:
    content = b"BT /F1 11 Tf 56 790 Td (x) Tj ET\n" + b" " * (80 * 1024 * 1024)
    squeezed = zlib.compress(content, 9)
    pdf = make_pdf(["placeholder"])
    start = pdf.index(b"<< /Length", pdf.index(b"5 0 obj"))
    end = pdf.index(b"endstream", start)
    stream = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(squeezed)
    result = extract(pdf[:start] + stream + squeezed + b"\n" + pdf[end:])
    assert (result.status, result.text) == ("failed", "")  # pypdf inflates at most 75 MB


# ---------------------------------------------------------------------------------------
# The pool of worker processes
# ---------------------------------------------------------------------------------------


def _sleep_then_succeed(seconds: float) -> Extracted:
    """Run in a worker by the pool tests: a file that takes ``seconds`` to read."""
    time.sleep(seconds)
    return Extracted(f"slept {seconds}", "ok")


def _die() -> Extracted:
    """Run in a worker by the pool tests: a parser that crashes its process."""
    os._exit(3)


async def test_the_pool_extracts_in_a_worker_process() -> None:
    pool = ExtractionPool(timeout_seconds=30)
    try:
        result = await pool.extract(make_pdf([QUOTE]), content_type="", filename="d.pdf")
        assert result == Extracted(QUOTE, "ok")
        assert await pool.extract(PNG, content_type="image/png", filename="") == Extracted(
            "", "unsupported", "PNG image (image/png)"
        )
    finally:
        await pool.close()


async def test_the_pool_refuses_a_file_over_max_bytes_without_starting_work() -> None:
    pool = ExtractionPool(max_bytes=100)
    result = await pool.extract(b"x" * 101, content_type="text/plain", filename="a.txt")
    assert result == Extracted("", "too_large", "101 bytes (at most 100 are read)")
    assert pool._executor is None
    await pool.close()


async def test_the_pool_applies_its_max_chars() -> None:
    pool = ExtractionPool(max_chars=20, timeout_seconds=30)
    try:
        result = await pool.extract(QUOTE.encode(), content_type="text/plain", filename="")
        assert result == Extracted("Dévis n° 2026-114 —", "ok", TRUNCATED)
    finally:
        await pool.close()


async def test_a_file_over_the_timeout_is_abandoned_and_its_worker_replaced() -> None:
    pool = ExtractionPool(timeout_seconds=1.0)
    try:
        started = time.perf_counter()
        result = await pool._run(_sleep_then_succeed, 60.0)
        assert result == Extracted("", "timeout", "over 1 s")
        assert time.perf_counter() - started < 5
        assert await pool._run(_sleep_then_succeed, 0.01) == Extracted("slept 0.01", "ok")
    finally:
        await pool.close()


async def test_a_crashed_worker_fails_its_file_and_is_replaced() -> None:
    pool = ExtractionPool(timeout_seconds=30)
    try:
        assert await pool._run(_die) == Extracted("", "failed", "the extraction process died")
        result = await pool.extract(make_docx([QUOTE]), content_type="", filename="")
        assert result.text == QUOTE
    finally:
        await pool.close()


async def test_a_file_whose_pool_is_killed_for_another_gets_a_new_try() -> None:
    pool = ExtractionPool(timeout_seconds=10)
    try:
        running = asyncio.ensure_future(pool._run(_sleep_then_succeed, 1.0))
        await asyncio.sleep(0.3)
        assert pool._executor is not None
        pool._kill(pool._executor)  # what another file's timeout does
        assert await running == Extracted("slept 1.0", "ok")
    finally:
        await pool.close()


async def test_closing_a_pool_twice_or_unused_is_harmless() -> None:
    pool = ExtractionPool()
    await pool.close()
    await pool.close()
