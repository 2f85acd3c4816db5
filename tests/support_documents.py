"""Documents made from text, for the tests and benchmarks of text extraction.

Each maker returns the bytes of a small but valid file, written from scratch here (no
office library): ``make_pdf`` (PDF 1.4), ``make_docx``, ``make_xlsx``, ``make_pptx``
(Office Open XML), ``make_odt``, ``make_ods``, ``make_odp`` (OpenDocument). LibreOffice
and the usual readers open them. Text is given as plain strings: in a paragraph, ``\\t``
is a tab and ``\\n`` a line break; for slides, each line is a paragraph. The ``*_parts``
functions give the members of a file before it is zipped, so a test can swap one part
for a hostile one and zip the lot with ``make_zip``.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Collection, Mapping, Sequence
from xml.sax.saxutils import escape

Cell = str | int | float | None
Rows = Sequence[Sequence[Cell]]

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def make_zip(
    members: Mapping[str, bytes | str], *, stored: Collection[str] = ("mimetype",)
) -> bytes:
    """A zip of ``members`` in their order, deflated except the names in ``stored``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            compression = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------
# PDF
# ---------------------------------------------------------------------------------------

_PDF_LINE_HEIGHT = 13
_PDF_TOP = 790


def _pdf_string(line: str) -> bytes:
    """A PDF literal string in WinAnsiEncoding (cp1252; other characters become "?")."""
    out = bytearray(b"(")
    for byte in line.encode("cp1252", "replace"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte > 0x7E:
            out += b"\\%03o" % byte  # octal escapes keep the file ASCII when not compressed
        else:
            out.append(byte)
    return bytes(out + b")")


def _pdf_page_content(text: str) -> bytes:
    lines = [b"BT", b"/F1 11 Tf", b"%d TL" % _PDF_LINE_HEIGHT, b"56 %d Td" % _PDF_TOP]
    for number, line in enumerate(text.split("\n")):
        if number:
            lines.append(b"T*")  # next line
        if line:
            lines.append(_pdf_string(line) + b" Tj")
    lines.append(b"ET")
    return b"\n".join(lines) + b"\n"


def make_pdf(pages: Sequence[str], *, compress: bool = True) -> bytes:
    """A PDF 1.4 with one A4 page per string of ``pages`` (none: a document without
    pages), each line drawn in Helvetica 11 pt with WinAnsiEncoding, so French accents,
    « », — and € show (other characters become "?"). Lines are not wrapped; a page of
    more than about 60 lines runs off its bottom, the text still being there. Page
    contents are FlateDecode-compressed when ``compress``."""
    count = len(pages)
    kids = b" ".join(b"%d 0 R" % (4 + 2 * i) for i in range(count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, text in enumerate(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
            b" /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        content = _pdf_page_content(text)
        if compress:
            content = zlib.compress(content)
            dictionary = b"<< /Length %d /Filter /FlateDecode >>" % len(content)
        else:
            dictionary = b"<< /Length %d >>" % len(content)
        objects.append(dictionary + b"\nstream\n" + content + b"\nendstream")
    return assemble_pdf(objects)


def assemble_pdf(objects: list[bytes]) -> bytes:
    """A PDF file of ``objects`` (numbered from 1, the first the catalog): header, the
    objects, the cross-reference table and the trailer."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # binary comment: "this is binary"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# ---------------------------------------------------------------------------------------
# Office Open XML (docx, xlsx, pptx)
# ---------------------------------------------------------------------------------------

_RELS_CT = "application/vnd.openxmlformats-package.relationships+xml"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_OOXML_CT = "application/vnd.openxmlformats-officedocument"


def _content_types(overrides: Mapping[str, str]) -> str:
    rows = "".join(
        f'<Override PartName="/{part}" ContentType="{kind}"/>' for part, kind in overrides.items()
    )
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="{_RELS_CT}"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{rows}</Types>"
    )


def _relationships(targets: Sequence[tuple[str, str]]) -> str:
    """A relationships part: (type, target) pairs, with ids rId1, rId2…"""
    rows = "".join(
        f'<Relationship Id="rId{n}" Type="{_OFFICE_REL}/{kind}" Target="{target}"/>'
        for n, (kind, target) in enumerate(targets, start=1)
    )
    return (
        f"{_XML}<Relationships "
        f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rows}'
        "</Relationships>"
    )


def _word_runs(text: str) -> str:
    """A paragraph's runs: ``\\t`` becomes a tab, ``\\n`` a line break."""
    pieces = []
    for token in re.split(r"(\t|\n)", text):
        if token == "\t":
            pieces.append("<w:tab/>")
        elif token == "\n":
            pieces.append("<w:br/>")
        elif token:
            pieces.append(f'<w:t xml:space="preserve">{escape(token)}</w:t>')
    return f"<w:r>{''.join(pieces)}</w:r>" if pieces else ""


def _word_paragraph(text: str) -> str:
    return f"<w:p>{_word_runs(text)}</w:p>"


def _word_table(rows: Rows) -> str:
    width = max((len(row) for row in rows), default=0)
    grid = '<w:gridCol w:w="2400"/>' * width
    body = "".join(
        "<w:tr>"
        + "".join(
            '<w:tc><w:tcPr><w:tcW w:w="2400" w:type="dxa"/></w:tcPr>'
            f"{_word_paragraph('' if cell is None else str(cell))}</w:tc>"
            for cell in row
        )
        + "</w:tr>"
        for row in rows
    )
    borders = "".join(
        f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="auto"/>'
        for side in ("top", "left", "bottom", "right", "insideH", "insideV")
    )
    return (
        f'<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/><w:tblBorders>{borders}'
        f"</w:tblBorders></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{body}</w:tbl>"
    )


def docx_parts(
    paragraphs: Sequence[str], *, table: Rows = (), header: str | None = None
) -> dict[str, str]:
    """The parts of a Word document: ``paragraphs``, then ``table`` (rows of cells) if
    any, and a page ``header`` if given."""
    body = "".join(_word_paragraph(text) for text in paragraphs)
    if table:
        body += _word_table(table) + "<w:p/>"  # Word wants a paragraph after a table
    header_reference = '<w:headerReference w:type="default" r:id="rId1"/>' if header else ""
    section = (
        f'<w:sectPr>{header_reference}<w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1417" w:right="1417" w:bottom="1417" w:left="1417" w:header="708"'
        ' w:footer="708" w:gutter="0"/></w:sectPr>'
    )
    overrides = {"word/document.xml": f"{_OOXML_CT}.wordprocessingml.document.main+xml"}
    parts = {
        "_rels/.rels": _relationships([("officeDocument", "word/document.xml")]),
        "word/document.xml": (
            f'{_XML}<w:document xmlns:w="{_W}" xmlns:r="{_OFFICE_REL}"><w:body>{body}'
            f"{section}</w:body></w:document>"
        ),
    }
    if header:
        overrides["word/header1.xml"] = f"{_OOXML_CT}.wordprocessingml.header+xml"
        parts["word/_rels/document.xml.rels"] = _relationships([("header", "header1.xml")])
        parts["word/header1.xml"] = f'{_XML}<w:hdr xmlns:w="{_W}">{_word_paragraph(header)}</w:hdr>'
    return {"[Content_Types].xml": _content_types(overrides), **parts}


def make_docx(paragraphs: Sequence[str], *, table: Rows = (), header: str | None = None) -> bytes:
    """A Word document (.docx): see ``docx_parts``."""
    return make_zip(docx_parts(paragraphs, table=table, header=header))


def _column_name(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = chr(ord("A") + remainder) + name
    return name


def _sheet(rows: Rows, shared: dict[str, int] | None) -> str:
    """A worksheet; strings go to ``shared`` (value → index), or inline if it is None."""
    xml_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{_column_name(c)}{r}"
            if value is None:
                continue
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            elif shared is None:
                cells.append(
                    f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(value)}'
                    "</t></is></c>"
                )
            else:
                index = shared.setdefault(value, len(shared))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    return f'{_XML}<worksheet xmlns="{_S}"><sheetData>{"".join(xml_rows)}</sheetData></worksheet>'


def xlsx_parts(
    rows: Rows, *, more_sheets: Sequence[Rows] = (), inline_strings: bool = False
) -> dict[str, str]:
    """The parts of an Excel workbook: one sheet of ``rows`` (cells: text, numbers or
    None for an empty cell), then ``more_sheets``; text in the shared strings as Excel
    writes it, or in the cells when ``inline_strings``."""
    shared: dict[str, int] | None = None if inline_strings else {}
    sheets = [_sheet(sheet, shared) for sheet in (rows, *more_sheets)]
    overrides = {"xl/workbook.xml": f"{_OOXML_CT}.spreadsheetml.sheet.main+xml"}
    targets = []
    for n in range(1, len(sheets) + 1):
        overrides[f"xl/worksheets/sheet{n}.xml"] = f"{_OOXML_CT}.spreadsheetml.worksheet+xml"
        targets.append(("worksheet", f"worksheets/sheet{n}.xml"))
    entries = "".join(
        f'<sheet name="Feuille{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, len(sheets) + 1)
    )
    parts = {
        "_rels/.rels": _relationships([("officeDocument", "xl/workbook.xml")]),
        "xl/workbook.xml": (
            f'{_XML}<workbook xmlns="{_S}" xmlns:r="{_OFFICE_REL}"><sheets>{entries}</sheets>'
            "</workbook>"
        ),
    }
    parts |= {f"xl/worksheets/sheet{n}.xml": xml for n, xml in enumerate(sheets, start=1)}
    if shared is not None:
        overrides["xl/sharedStrings.xml"] = f"{_OOXML_CT}.spreadsheetml.sharedStrings+xml"
        targets.append(("sharedStrings", "sharedStrings.xml"))
        items = "".join(f'<si><t xml:space="preserve">{escape(s)}</t></si>' for s in shared)
        parts["xl/sharedStrings.xml"] = (
            f'{_XML}<sst xmlns="{_S}" count="{len(shared)}" uniqueCount="{len(shared)}">'
            f"{items}</sst>"
        )
    parts["xl/_rels/workbook.xml.rels"] = _relationships(targets)
    return {"[Content_Types].xml": _content_types(overrides), **parts}


def make_xlsx(
    rows: Rows, *, more_sheets: Sequence[Rows] = (), inline_strings: bool = False
) -> bytes:
    """An Excel workbook (.xlsx): see ``xlsx_parts``."""
    return make_zip(xlsx_parts(rows, more_sheets=more_sheets, inline_strings=inline_strings))


_PML_NS = f'xmlns:a="{_A}" xmlns:r="{_OFFICE_REL}" xmlns:p="{_P}"'
_EMPTY_TREE = (
    '<p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/></p:nvGrpSpPr><p:grpSpPr/>'
)
_SCHEME_COLOURS = (
    ("dk1", "000000"), ("lt1", "FFFFFF"), ("dk2", "1F497D"), ("lt2", "EEECE1"),
    ("accent1", "4F81BD"), ("accent2", "C0504D"), ("accent3", "9BBB59"),
    ("accent4", "8064A2"), ("accent5", "4BACC6"), ("accent6", "F79646"),
    ("hlink", "0000FF"), ("folHlink", "800080"),
)  # fmt: skip


def _theme() -> str:
    colours = "".join(f'<a:{n}><a:srgbClr val="{v}"/></a:{n}>' for n, v in _SCHEME_COLOURS)
    font = '<a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/>'
    fill = '<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>'
    line = f'<a:ln w="9525">{fill}</a:ln>'
    effect = "<a:effectStyle><a:effectLst/></a:effectStyle>"
    return (
        f'{_XML}<a:theme xmlns:a="{_A}" name="Guichet"><a:themeElements>'
        f'<a:clrScheme name="Guichet">{colours}</a:clrScheme>'
        f'<a:fontScheme name="Guichet"><a:majorFont>{font}</a:majorFont>'
        f"<a:minorFont>{font}</a:minorFont></a:fontScheme>"
        f'<a:fmtScheme name="Guichet"><a:fillStyleLst>{fill * 3}</a:fillStyleLst>'
        f"<a:lnStyleLst>{line * 3}</a:lnStyleLst>"
        f"<a:effectStyleLst>{effect * 3}</a:effectStyleLst>"
        f"<a:bgFillStyleLst>{fill * 3}</a:bgFillStyleLst></a:fmtScheme>"
        "</a:themeElements></a:theme>"
    )


def _slide(text: str) -> str:
    paragraphs = "".join(
        f'<a:p><a:r><a:rPr lang="fr-FR"/><a:t>{escape(line)}</a:t></a:r></a:p>'
        if line
        else "<a:p/>"
        for line in text.split("\n")
    )
    return (
        f"{_XML}<p:sld {_PML_NS}><p:cSld><p:spTree>{_EMPTY_TREE}"
        '<p:sp><p:nvSpPr><p:cNvPr id="2" name="Texte 1"/><p:cNvSpPr txBox="1"/><p:nvPr/>'
        '</p:nvSpPr><p:spPr><a:xfrm><a:off x="457200" y="457200"/>'
        '<a:ext cx="8229600" cy="5943600"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/>'
        '</a:prstGeom></p:spPr><p:txBody><a:bodyPr wrap="square"/><a:lstStyle/>'
        f"{paragraphs}</p:txBody></p:sp></p:spTree></p:cSld>"
        "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sld>"
    )


def pptx_parts(slides: Sequence[str]) -> dict[str, str]:
    """The parts of a PowerPoint presentation: one slide per string, one text box per
    slide, one paragraph per line."""
    overrides = {
        "ppt/presentation.xml": f"{_OOXML_CT}.presentationml.presentation.main+xml",
        "ppt/slideMasters/slideMaster1.xml": f"{_OOXML_CT}.presentationml.slideMaster+xml",
        "ppt/slideLayouts/slideLayout1.xml": f"{_OOXML_CT}.presentationml.slideLayout+xml",
        "ppt/theme/theme1.xml": f"{_OOXML_CT}.theme+xml",
    }
    numbers = range(1, len(slides) + 1)
    overrides |= {
        f"ppt/slides/slide{n}.xml": f"{_OOXML_CT}.presentationml.slide+xml" for n in numbers
    }
    slide_ids = "".join(f'<p:sldId id="{255 + n}" r:id="rId{n + 1}"/>' for n in numbers)
    colour_map = " ".join(
        f'{n}="{v}"' for n, v in (("bg1", "lt1"), ("tx1", "dk1"), ("bg2", "lt2"), ("tx2", "dk2"))
    ) + "".join(f' {n}="{n}"' for n, _ in _SCHEME_COLOURS[4:])
    parts = {
        "_rels/.rels": _relationships([("officeDocument", "ppt/presentation.xml")]),
        "ppt/presentation.xml": (
            f"{_XML}<p:presentation {_PML_NS}>"
            '<p:sldMasterIdLst><p:sldMasterId id="2147483648" r:id="rId1"/></p:sldMasterIdLst>'
            f"<p:sldIdLst>{slide_ids}</p:sldIdLst>"
            '<p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" cy="9144000"/>'
            "</p:presentation>"
        ),
        "ppt/_rels/presentation.xml.rels": _relationships(
            [
                ("slideMaster", "slideMasters/slideMaster1.xml"),
                *(("slide", f"slides/slide{n}.xml") for n in numbers),
                ("theme", "theme/theme1.xml"),
            ]
        ),
        "ppt/slideMasters/slideMaster1.xml": (
            f"{_XML}<p:sldMaster {_PML_NS}><p:cSld><p:spTree>{_EMPTY_TREE}</p:spTree>"
            f"</p:cSld><p:clrMap {colour_map}/>"
            '<p:sldLayoutIdLst><p:sldLayoutId id="2147483649" r:id="rId1"/></p:sldLayoutIdLst>'
            "</p:sldMaster>"
        ),
        "ppt/slideMasters/_rels/slideMaster1.xml.rels": _relationships(
            [("slideLayout", "../slideLayouts/slideLayout1.xml"), ("theme", "../theme/theme1.xml")]
        ),
        "ppt/slideLayouts/slideLayout1.xml": (
            f'{_XML}<p:sldLayout {_PML_NS} preserve="1"><p:cSld name="Vide"><p:spTree>'
            f"{_EMPTY_TREE}</p:spTree></p:cSld>"
            "<p:clrMapOvr><a:masterClrMapping/></p:clrMapOvr></p:sldLayout>"
        ),
        "ppt/slideLayouts/_rels/slideLayout1.xml.rels": _relationships(
            [("slideMaster", "../slideMasters/slideMaster1.xml")]
        ),
        "ppt/theme/theme1.xml": _theme(),
    }
    for n, text in zip(numbers, slides, strict=True):
        parts[f"ppt/slides/slide{n}.xml"] = _slide(text)
        parts[f"ppt/slides/_rels/slide{n}.xml.rels"] = _relationships(
            [("slideLayout", "../slideLayouts/slideLayout1.xml")]
        )
    return {"[Content_Types].xml": _content_types(overrides), **parts}


def make_pptx(slides: Sequence[str]) -> bytes:
    """A PowerPoint presentation (.pptx): see ``pptx_parts``."""
    return make_zip(pptx_parts(slides))


# ---------------------------------------------------------------------------------------
# OpenDocument (odt, ods, odp)
# ---------------------------------------------------------------------------------------

_ODF = "application/vnd.oasis.opendocument"
_ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'office:version="1.2"'
)


def _odf_text(text: str) -> str:
    """Paragraph content: tabs, line breaks and runs of spaces as OpenDocument writes them
    (XML would collapse the spaces)."""
    pieces = []
    for token in re.split(r"(\t|\n| {2,})", text):
        if token == "\t":
            pieces.append("<text:tab/>")
        elif token == "\n":
            pieces.append("<text:line-break/>")
        elif token.startswith("  "):
            pieces.append(f' <text:s text:c="{len(token) - 1}"/>')
        else:
            pieces.append(escape(token))
    return "".join(pieces)


def _odf_parts(kind: str, body: str, styles: str = "") -> dict[str, str]:
    manifest = (
        f"{_XML}<manifest:manifest "
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" '
        f'manifest:media-type="{_ODF}.{kind}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        + (
            '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>'
            if styles
            else ""
        )
        + "</manifest:manifest>"
    )
    parts = {
        "mimetype": f"{_ODF}.{kind}",  # first and stored, as OpenDocument requires
        "META-INF/manifest.xml": manifest,
        "content.xml": (
            f"{_XML}<office:document-content {_ODF_NS}><office:body>{body}</office:body>"
            "</office:document-content>"
        ),
    }
    if styles:
        parts["styles.xml"] = (
            f"{_XML}<office:document-styles {_ODF_NS}>{styles}</office:document-styles>"
        )
    return parts


def odt_parts(paragraphs: Sequence[str]) -> dict[str, str]:
    """The parts of an OpenDocument text: one paragraph per string."""
    body = "".join(f"<text:p>{_odf_text(text)}</text:p>" for text in paragraphs)
    return _odf_parts("text", f"<office:text>{body}</office:text>")


def make_odt(paragraphs: Sequence[str]) -> bytes:
    """An OpenDocument text (.odt): see ``odt_parts``."""
    return make_zip(odt_parts(paragraphs))


def _ods_cell(value: Cell) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, int | float):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value!r}">'
            f"<text:p>{value!r}</text:p></table:table-cell>"
        )
    return (
        '<table:table-cell office:value-type="string">'
        f"<text:p>{_odf_text(value)}</text:p></table:table-cell>"
    )


def ods_parts(rows: Rows) -> dict[str, str]:
    """The parts of an OpenDocument spreadsheet: one sheet of ``rows`` (cells: text,
    numbers or None for an empty cell)."""
    width = max((len(row) for row in rows), default=1)
    body = "".join(
        f"<table:table-row>{''.join(_ods_cell(v) for v in row)}</table:table-row>" for row in rows
    )
    table = (
        f'<table:table table:name="Feuille1"><table:table-column '
        f'table:number-columns-repeated="{max(width, 1)}"/>{body}</table:table>'
    )
    return _odf_parts("spreadsheet", f"<office:spreadsheet>{table}</office:spreadsheet>")


def make_ods(rows: Rows) -> bytes:
    """An OpenDocument spreadsheet (.ods): see ``ods_parts``."""
    return make_zip(ods_parts(rows))


_ODP_STYLES = (
    "<office:automatic-styles>"
    '<style:page-layout style:name="PM1"><style:page-layout-properties fo:page-width="28cm"'
    ' fo:page-height="21cm" style:print-orientation="landscape"/></style:page-layout>'
    "</office:automatic-styles><office:master-styles>"
    '<style:master-page style:name="Standard" style:page-layout-name="PM1"/>'
    "</office:master-styles>"
)


def odp_parts(slides: Sequence[str]) -> dict[str, str]:
    """The parts of an OpenDocument presentation: one page per string, one text box per
    page, one paragraph per line."""
    pages = "".join(
        f'<draw:page draw:name="page{n}" draw:master-page-name="Standard">'
        '<draw:frame svg:width="25cm" svg:height="17cm" svg:x="1.5cm" svg:y="2cm">'
        "<draw:text-box>"
        + "".join(f"<text:p>{_odf_text(line)}</text:p>" for line in text.split("\n"))
        + "</draw:text-box></draw:frame></draw:page>"
        for n, text in enumerate(slides, start=1)
    )
    return _odf_parts(
        "presentation", f"<office:presentation>{pages}</office:presentation>", _ODP_STYLES
    )


def make_odp(slides: Sequence[str]) -> bytes:
    """An OpenDocument presentation (.odp): see ``odp_parts``."""
    return make_zip(odp_parts(slides))
