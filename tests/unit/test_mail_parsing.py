"""shared.mail.parsing: raw bytes → what a ticket records, whatever the mail looks like."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage

import pytest

from shared.mail import parsing
from shared.mail.charsets import codec_for, decode_bytes, decode_encoded_words
from shared.mail.flowed import unflow
from shared.mail.parsing import ParsedMail, decode_header_text, html_to_text, parse_mail
from tests.unit.factories import ACHATS, ALICE, email_message

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01"


def raw(*header_lines: str, body: bytes = b"corps\n") -> bytes:
    """A hand-written mail: header lines as given (ASCII), a blank line, then ``body``."""
    return ("\n".join(header_lines) + "\n\n").encode("ascii") + body


def multipart(*parts: bytes, subtype: str = "mixed", boundary: str = "XYZ") -> bytes:
    head = (
        "From: alice@client.example.net\nSubject: pj\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'
    ).encode()
    sep = f"--{boundary}\n".encode()
    return head + b"".join(sep + p + b"\n" for p in parts) + f"--{boundary}--\n".encode()


# --- subjects ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Subject: =?utf-8?q?Caf=C3=A9_cr=C3=A8me?=", "Café crème"),
        ("Subject: =?UTF-8?B?Q2Fmw6kgY3LDqG1l?=", "Café crème"),
        ("Subject: =?iso-8859-1?q?Caf=E9_cr=E8me?=", "Café crème"),
        ("Subject: =?ISO-8859-1?B?Q2Fm6SBjcuhtZQ==?=", "Café crème"),
        ("Subject: =?utf-8?q?Caf=C3=A9?= =?utf-8?q?_cr=C3=A8me?=", "Café crème"),
        ("Subject: Re: =?utf-8?q?Devis_n=C2=B0_12?= urgent", "Re: Devis n° 12 urgent"),
        ("Subject: =?windows-1252?q?=93Devis=94?=", "“Devis”"),
        ("Subject: une ligne\n  repliee\ten deux", "une ligne repliee en deux"),
        ("Subject: plain ASCII", "plain ASCII"),
    ],
)
def test_subject_is_decoded_and_unfolded(header: str, expected: str) -> None:
    assert parse_mail(raw("From: a@b.example", header)).subject == expected


def test_subject_written_by_a_mail_client_round_trips() -> None:
    msg = email_message(subject="Réclamation « urgente » n°42 — café")
    assert parse_mail(msg.as_bytes()).subject == "Réclamation « urgente » n°42 — café"


def test_undeclared_latin1_subject_is_decoded_like_the_body() -> None:
    assert parse_mail(b"Subject: Caf\xe9 cr\xe8me\n\ncorps\n").subject == "Café crème"


# --- bodies and charsets -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        pytest.param((), b"Caf\xe9 cr\xe8me\n", "Café crème", id="undeclared-8bit-latin1"),
        pytest.param(
            ("Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"),
            b"Caf\xe9 cr\xe8me\n",
            "Café crème",
            id="text-plain-without-charset-latin1",
        ),
        pytest.param(
            ("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"),
            b"Caf\xe9 cr\xe8me\n",
            "Café crème",
            id="latin1-bytes-labelled-utf8",
        ),
        pytest.param(
            ("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"),
            "Café crème\n".encode(),
            "Café crème",
            id="utf8",
        ),
        pytest.param((), b"\x93Devis\x94 \x80\n", "“Devis” €", id="undeclared-cp1252"),
        pytest.param(
            ("Content-Type: text/plain; charset=iso-8859-15",),
            b"Prix : 12 \xa4\n",
            "Prix : 12 €",
            id="declared-iso-8859-15",
        ),
        pytest.param(
            ("Content-Type: text/plain; charset=x-no-such-charset",),
            b"Caf\xe9\n",
            "Café",
            id="unknown-charset-label-falls-back",
        ),
        pytest.param(
            (
                "Content-Type: text/plain; charset=utf-8",
                "Content-Transfer-Encoding: quoted-printable",
            ),
            b"Caf=C3=A9 cr=C3=A8me, une tr=C3=A8s longue =\nligne\n",
            "Café crème, une très longue ligne",
            id="quoted-printable-soft-break",
        ),
        pytest.param(
            ("Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"),
            b"Q2Fmw6kgY3LDqG1l\n",
            "Café crème",
            id="base64",
        ),
    ],
)
def test_body_is_decoded_whatever_its_charset_says(
    headers: tuple[str, ...], body: bytes, expected: str
) -> None:
    assert parse_mail(raw("From: a@b.example", "Subject: s", *headers, body=body)).text == expected


@pytest.mark.parametrize(
    "mail",
    [
        b"Subject: s\r\nFrom: a@b.example\r\n\r\nline 1\r\nline 2\r\n\r\nline 4\r\n",
        b"Subject: s\nFrom: a@b.example\n\nline 1\rline 2\r\rline 4\r",
        b"Subject: s\nFrom: a@b.example\n\nline 1\r\nline 2\n\rline 4\n",
    ],
    ids=["crlf", "lone-cr", "mixed"],
)
def test_line_endings_are_normalised_to_lf(mail: bytes) -> None:
    text = parse_mail(mail).text
    assert "\r" not in text
    assert text == "line 1\nline 2\n\nline 4"


def test_several_text_parts_are_joined_with_a_blank_line() -> None:
    mail = multipart(
        b"Content-Type: text/plain\n\npremier\n",
        b"Content-Type: text/plain\n\n\n",
        b"Content-Type: text/plain\n\nsecond\n",
    )
    assert parse_mail(mail).text == "premier\n\nsecond"


# --- HTML ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>Bonjour</p><p>Au revoir</p>", "Bonjour\n\nAu revoir"),
        ("ligne 1<br>ligne 2<BR/>ligne 3<br />fin", "ligne 1\nligne 2\nligne 3\nfin"),
        ("Caf&eacute; &amp; cr&egrave;me &lt;3 &#8364; &#x41;", "Café & crème <3 € A"),
        ("a&nbsp;&nbsp;b \t  c", "a b c"),
        ("<ul><li>un</li><li>deux</li></ul>", "- un\n- deux"),
        ("<div>x</div>\n\n\n\n<div>y</div>", "x\ny"),
        ("<html><head><title>T</title></head><body>corps</body></html>", "corps"),
        ("<style>p { color: red }</style><p>vu</p>", "vu"),
        ("<SCRIPT type='x'>alert(1)</SCRIPT>visible", "visible"),
        ('<a href="https://example.org">lien</a> <b>gras</b>', "lien (https://example.org) gras"),
        ("<h1>Titre</h1><table><tr><td>a</td></tr><tr><td>b</td></tr></table>", "Titre\n\na\nb"),
        ("<blockquote>cité</blockquote>réponse", "> cité\nréponse"),
        ("", ""),
    ],
)
def test_html_is_rendered_as_text(markup: str, expected: str) -> None:
    assert html_to_text(markup) == expected


def test_html_only_mail_gets_a_text_rendering_and_keeps_its_html() -> None:
    msg = email_message(body=None)
    msg.set_content("<p>Bonjour,</p><p>Voici le <b>devis</b>&nbsp;n&deg;3.</p>", subtype="html")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.text == "Bonjour,\n\nVoici le devis n°3."
    assert parsed.html is not None
    assert "<b>devis</b>" in parsed.html
    assert parsed.attachments == ()


def test_multipart_alternative_prefers_the_plain_part_and_keeps_the_html() -> None:
    msg = email_message(body="la version texte\n")
    msg.add_alternative("<p>la version <i>HTML</i></p>", subtype="html")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.text == "la version texte"
    assert parsed.html is not None
    assert "<i>HTML</i>" in parsed.html
    assert parsed.attachments == ()


# --- attachments -----------------------------------------------------------------------------


def test_pdf_attachment_keeps_its_exact_bytes_name_and_type() -> None:
    msg = email_message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="devis-2026.pdf")
    parsed = parse_mail(msg.as_bytes())
    (pdf,) = parsed.attachments
    assert (pdf.filename, pdf.content_type, pdf.content) == (
        "devis-2026.pdf",
        "application/pdf",
        PDF,
    )
    assert pdf.sha256 == hashlib.sha256(PDF).hexdigest()
    assert not pdf.inline
    assert pdf.content_id is None
    assert parsed.text == "Bonjour,\nil nous faut des stylos."


def test_inline_image_with_content_id_is_an_inline_attachment() -> None:
    msg = email_message(body="texte\n")
    msg.add_alternative('<p>logo <img src="cid:logo@client"></p>', subtype="html")
    html_part = list(msg.iter_parts())[1]
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(
        PNG, maintype="image", subtype="png", cid="<logo@client>", filename="logo.png"
    )
    parsed = parse_mail(msg.as_bytes())
    (image,) = parsed.attachments
    assert image.content_type == "image/png"
    assert image.content == PNG
    assert image.content_id == "<logo@client>"
    assert image.filename == "logo.png"
    assert parsed.text == "texte"


def test_inline_disposition_is_recorded() -> None:
    msg = email_message()
    msg.add_attachment(PNG, maintype="image", subtype="png", cid="<i1@x>", disposition="inline")
    (image,) = parse_mail(msg.as_bytes()).attachments
    assert image.inline
    assert image.content_id == "<i1@x>"


def test_attachment_without_a_name_gets_a_numbered_one() -> None:
    mail = multipart(
        b"Content-Type: text/plain\n\ncorps\n",
        b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nAAEC\n",
        b"Content-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlh\n",
    )
    names = [(a.filename, a.content) for a in parse_mail(mail).attachments]
    assert names == [("part-1", b"\x00\x01\x02"), ("part-2.gif", b"GIF89a")]


def test_named_text_part_is_an_attachment_not_body_text() -> None:
    msg = email_message(body="corps\n")
    msg.add_attachment("a;b\n1;2\n", subtype="csv", filename="lignes.csv")
    msg.add_attachment("notes du fournisseur\n", filename="notes.txt")
    parsed = parse_mail(msg.as_bytes())
    assert parsed.text == "corps"
    assert [a.filename for a in parsed.attachments] == ["lignes.csv", "notes.txt"]


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ("attachment; filename*=utf-8''devis%20n%C2%B01.pdf", "devis n°1.pdf"),
        ("attachment; filename*=iso-8859-1''d%E9vis.pdf", "dévis.pdf"),
        ("attachment; filename*0*=iso-8859-1''d%E9vis; filename*1=.pdf", "dévis.pdf"),
        ("attachment; filename*0=bon-de-; filename*1=commande.pdf", "bon-de-commande.pdf"),
        ('attachment; filename="=?utf-8?q?R=C3=A9sum=C3=A9.pdf?="', "Résumé.pdf"),
        ('attachment; filename="plain name.pdf"', "plain name.pdf"),
    ],
)
def test_attachment_filenames_are_decoded(disposition: str, expected: str) -> None:
    part = (
        f"Content-Type: application/pdf\nContent-Disposition: {disposition}\n"
        "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n"
    ).encode()
    (attachment,) = parse_mail(multipart(b"Content-Type: text/plain\n\nx\n", part)).attachments
    assert attachment.filename == expected
    assert attachment.content == b"%PDF-1.4\n"


def test_non_ascii_filename_written_by_a_mail_client_round_trips() -> None:
    msg = email_message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="Bon de commande é.pdf")
    (attachment,) = parse_mail(msg.as_bytes()).attachments
    assert attachment.filename == "Bon de commande é.pdf"


def _forward() -> bytes:
    inner = email_message(
        subject="Devis 2026-114",
        sender=f"Bob <{'bob@supplier.example.com'}>",
        body="Le texte du message transféré.\n",
    )
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="devis.pdf")
    outer = email_message(subject="TR: Devis 2026-114", body="Voir le devis ci-joint.\n")
    outer.add_attachment(inner)
    return outer.as_bytes()


def test_forwarded_message_keeps_the_forwarders_own_text() -> None:
    assert parse_mail(_forward()).text.startswith("Voir le devis ci-joint.")


def test_forwarded_message_is_kept_whole_as_one_attachment() -> None:
    parsed = parse_mail(_forward())
    assert parsed.text == "Voir le devis ci-joint."
    assert [a.content_type for a in parsed.attachments] == ["message/rfc822"]
    assert b"Le texte du message transf" in parsed.attachments[0].content


# --- identifiers and addresses ---------------------------------------------------------------


def test_message_id_in_reply_to_and_references_are_extracted() -> None:
    mail = raw(
        "From: a@b.example",
        "Message-ID:  <20260504.1@client.example.net>  ",
        "In-Reply-To: <guichet.example.7.t.d@example.org> (Alice's message of Monday)",
        "References: <a1@x.example>\n <a2@y.example>\n\t<guichet.example.7.t.d@example.org>"
        " <a1@x.example>",
    )
    parsed = parse_mail(mail)
    assert parsed.message_id == "<20260504.1@client.example.net>"
    assert parsed.in_reply_to == ("<guichet.example.7.t.d@example.org>",)
    assert parsed.references == (
        "<a1@x.example>",
        "<a2@y.example>",
        "<guichet.example.7.t.d@example.org>",
    )


def test_message_ids_set_by_a_mail_client_round_trip() -> None:
    msg = email_message(
        message_id="<m2@client.example.net>",
        in_reply_to="<m1@example.org>",
        references="<m0@example.org> <m1@example.org>",
    )
    parsed = parse_mail(msg.as_bytes())
    assert parsed.message_id == "<m2@client.example.net>"
    assert parsed.in_reply_to == ("<m1@example.org>",)
    assert parsed.references == ("<m0@example.org>", "<m1@example.org>")


@pytest.mark.parametrize(
    ("cc_headers", "expected"),
    [
        (["Bob <Bob@Supplier.Example.COM>"], ("bob@supplier.example.com",)),
        (
            ['"Dupont, Jean" <jean@x.example>, carla@y.example'],
            ("jean@x.example", "carla@y.example"),
        ),
        (["=?utf-8?q?Dupont=2C_J=C3=A9r=C3=B4me?= <jd@x.example>"], ("jd@x.example",)),
        (["a@x.example, A@X.example, <a@x.example>"], ("a@x.example",)),
        (["a@x.example", "b@y.example, a@x.example"], ("a@x.example", "b@y.example")),
        (["compta: c1@x.example, c2@x.example;"], ("c1@x.example", "c2@x.example")),
        (["undisclosed-recipients:;"], ()),
        (["pas une adresse"], ()),
        (["x@y.example (commentaire)"], ("x@y.example",)),
    ],
)
def test_cc_list_is_parsed_normalised_and_deduplicated(
    cc_headers: list[str], expected: tuple[str, ...]
) -> None:
    mail = raw("From: a@b.example", *(f"Cc: {v}" for v in cc_headers))
    assert parse_mail(mail).cc == expected


def test_to_and_reply_to_are_parsed_like_cc() -> None:
    mail = raw(
        "From: a@b.example",
        "To: Achats <ACHATS@example.org>, other@example.org",
        "Reply-To: Secretariat <Sec@Client.example.net>",
    )
    parsed = parse_mail(mail)
    assert parsed.to == (ACHATS, "other@example.org")
    assert parsed.reply_to == ("sec@client.example.net",)


@pytest.mark.parametrize(
    ("from_header", "address", "name"),
    [
        ("Alice Martin <Alice@Client.Example.NET>", ALICE, "Alice Martin"),
        ('"Martin, Alice" <alice@client.example.net>', ALICE, "Martin, Alice"),
        (
            "=?utf-8?q?J=C3=A9r=C3=B4me_B=C3=A9ranger?= <jb@x.example>",
            "jb@x.example",
            "Jérôme Béranger",
        ),
        ("<alice@client.example.net>", ALICE, ""),
        ("alice@client.example.net", ALICE, ""),
    ],
)
def test_sender_address_is_normalised_and_its_name_decoded(
    from_header: str, address: str, name: str
) -> None:
    parsed = parse_mail(raw(f"From: {from_header}"))
    assert (parsed.from_address, parsed.from_name) == (address, name)


@pytest.mark.parametrize(
    ("date_header", "expected", "defect"),
    [
        (
            "Date: Mon, 04 May 2026 11:30:00 +0200",
            datetime(2026, 5, 4, 11, 30, tzinfo=timezone(timedelta(hours=2))),
            False,
        ),
        ("Date: Mon, 4 May 2026 09:30:00 GMT", datetime(2026, 5, 4, 9, 30, tzinfo=UTC), False),
        ("Date: la semaine derniere", None, True),
        ("X-No-Date: 1", None, False),
    ],
)
def test_date_is_parsed_and_a_bad_one_is_recorded_as_a_defect(
    date_header: str, expected: datetime | None, defect: bool
) -> None:
    parsed = parse_mail(raw("From: a@b.example", date_header))
    assert parsed.date == expected
    assert ("InvalidDateHeader" in parsed.defects) is defect


def test_headers_are_kept_with_lower_case_names() -> None:
    parsed = parse_mail(raw("From: a@b.example", "X-Mailer: Outlook", "AUTO-SUBMITTED: no"))
    assert parsed.headers["x-mailer"] == "Outlook"
    assert parsed.headers["auto-submitted"] == "no"
    assert all(name == name.lower() for name in parsed.headers)


# --- missing and broken input ----------------------------------------------------------------


@pytest.mark.parametrize(
    "mail",
    [b"", b"\n", b"\n\njuste un corps\n", b"X-Only: header\n\n"],
    ids=["empty", "blank-line", "body-only", "no-useful-header"],
)
def test_mail_without_the_usual_headers_parses_to_empty_values(mail: bytes) -> None:
    parsed = parse_mail(mail)
    assert (parsed.subject, parsed.from_address, parsed.from_name) == ("", "", "")
    assert (parsed.to, parsed.cc, parsed.reply_to) == ((), (), ())
    assert (parsed.message_id, parsed.in_reply_to, parsed.references) == (None, (), ())
    assert parsed.date is None
    assert parsed.html is None
    assert parsed.attachments == ()


GARBAGE = [
    b"\x00\xff\xfe\x80\x81 garbage\r\n\r\n\xff\x00",
    bytes(range(256)) * 4,
    b"Subject: =?utf-8?q?=FF=FE?=\nFrom: =?x-bad?b?!!!?= <a@b.example>\n\n\xff",
    b"Content-Type: multipart/mixed; boundary=Q\n\n--Q\nContent-Type: text/plain\n\nsans fin\n",
    b"Content-Type: multipart/mixed\n\npas de boundary\n",
    b"Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!pas du base64###\n",
    b'Content-Type: text/plain; charset="\xff"\n\nx',
    b"Content-Type: ;;;\nContent-Disposition: attachment; filename*=bogus''%ZZ\n\nx",
    b"Message-ID: <[>\nSubject: s\n\nx",
    b"To: a@\nSubject: s\n\nx",
    b'From: "unterminated <a@b.example>\nCc: \x80\x81@\xff\n\nx',
    b"Date: Mon, 99 Foo 9999 99:99:99 +9999\n\nx",
    b"Subject: " + b"x" * 20_000 + b"\n\n" + b"y" * 100_000,
]


@pytest.mark.parametrize("mail", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_never_raises_and_still_yields_text(mail: bytes) -> None:
    parsed = parse_mail(mail)
    assert isinstance(parsed, ParsedMail)
    assert isinstance(parsed.subject, str)
    assert isinstance(parsed.text, str)
    assert "\r" not in parsed.text
    assert all(isinstance(d, str) for d in parsed.defects)


@pytest.mark.parametrize(
    ("mail", "defect"),
    [
        (b"\x00\xff\xfe\x80\x81 garbage\r\n\r\n\xff", "MissingHeaderBodySeparatorDefect"),
        (GARBAGE[3], "CloseBoundaryNotFoundDefect"),
        (GARBAGE[4], "NoBoundaryInMultipartDefect"),
        (GARBAGE[8], "Message-ID"),
        (GARBAGE[9], "header To"),
        (GARBAGE[11], "InvalidDateHeader"),
    ],
)
def test_defects_of_a_broken_mail_are_recorded(mail: bytes, defect: str) -> None:
    assert any(defect in d for d in parse_mail(mail).defects)


def test_a_well_formed_mail_has_no_defects() -> None:
    msg = email_message(cc="Bob <bob@supplier.example.com>", message_id="<m@x.example>")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="devis.pdf")
    assert parse_mail(msg.as_bytes()).defects == ()


@pytest.mark.parametrize("bad_header", ["Message-ID: <[>", "To: a@"])
def test_subject_is_still_decoded_after_a_lenient_reparse(bad_header: str) -> None:
    parsed = parse_mail(raw(bad_header, "Subject: =?utf-8?q?Caf=C3=A9?=", f"From: {ALICE}"))
    assert parsed.subject == "Café"


def test_lenient_reparse_still_reads_the_sender_and_body() -> None:
    parsed = parse_mail(raw("Message-ID: <[>", f"From: {ALICE}", body=b"Caf\xe9\n"))
    assert parsed.from_address == ALICE
    assert parsed.text == "Café"


def test_message_built_by_emailmessage_has_its_own_fields() -> None:
    msg = EmailMessage()
    msg["From"] = "Carla <carla@x.example>"
    msg["To"] = ACHATS
    msg["Subject"] = "Bonjour"
    msg.set_content("un\ndeux\n")
    parsed = parse_mail(msg.as_bytes())
    assert (parsed.from_address, parsed.to, parsed.text) == (
        "carla@x.example",
        (ACHATS,),
        "un\ndeux",
    )


# --- charsets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ('"utf-8"', "utf-8"),
        ("iso-8859-1", "cp1252"),  # read as the Windows superset, as browsers do
        ("us-ascii", "cp1252"),
        ("latin1", "cp1252"),
        ("windows-1252", "cp1252"),
        ("win-1252", "cp1252"),
        ("windows1252", "cp1252"),
        ("cp-1252", "cp1252"),
        ("x-cp1252", "cp1252"),
        ("iso-8859-15", "iso8859-15"),
        ("iso-8859-8-i", "iso8859-8"),
        ("gb2312", "gb18030"),
        ("ks_c_5601-1987", "cp949"),
        ("shift_jis", "cp932"),
        ("x-mac-roman", "mac-roman"),
        ("utf-8*fr", "utf-8"),
        ("x-unknown", None),
        ("unknown-8bit", None),
        ("no-such-charset", None),
        ("unicode_escape", None),  # a Python codec, not a charset: it would rewrite the text
        ("base64", None),
        ("", None),
        (None, None),
    ],
)
def test_charset_labels_name_the_codec_that_reads_them(
    label: str | None, codec: str | None
) -> None:
    assert codec_for(label) == codec


@pytest.mark.parametrize(
    ("raw", "declared", "expected"),
    [
        ("Café".encode(), "iso-8859-1", "Café"),
        ("Café".encode(), "us-ascii", "Café"),
        ("Café".encode(), "koi8-r", "Café"),
        ("Café".encode("latin-1"), "utf-8", "Café"),
        ("Café".encode("latin-1"), None, "Café"),
        ("l’été".encode("cp1252"), "iso-8859-1", "l’été"),
        ("“€”".encode("cp1252"), "us-ascii", "“€”"),
        ("Счёт".encode("koi8-r"), "koi8-r", "Счёт"),
        ("镕铭".encode("gbk"), "gb2312", "镕铭"),
        ("お見積り".encode("iso2022_jp"), "iso-2022-jp", "お見積り"),
        ("\ufeffCafé".encode(), "utf-8", "Café"),
        ("Caf\u00e9 et th".encode() + b"\xe9", "utf-8", "Café et thé"),
        (b"\\u0041", "unicode_escape", "\\u0041"),
        (
            bytes(range(256)),
            "utf-8",
            bytes(range(256)).decode("latin-1"),  # not cp1252: 0x81 is undefined there
        ),
    ],
    ids=[
        "utf8-as-latin1",
        "utf8-as-ascii",
        "utf8-as-koi8r",
        "latin1-as-utf8",
        "latin1-undeclared",
        "cp1252-as-latin1",
        "cp1252-as-ascii",
        "koi8r",
        "gbk-as-gb2312",
        "iso-2022-jp",
        "bom",
        "utf8-with-a-stray-latin1-byte",
        "no-escape-codec",
        "every-byte",
    ],
)
def test_bytes_are_read_as_the_sender_meant(
    raw: bytes, declared: str | None, expected: str
) -> None:
    assert decode_bytes(raw, declared) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("=?utf-8?Q?Caf=E9?=", "Café"),  # a latin-1 byte in a word labelled utf-8
        ("=?iso-8859-1?Q?Caf=C3=A9?=", "Café"),  # UTF-8 in a word labelled latin-1
        ("=?x-unknown?Q?Caf=E9?=", "Café"),
        ("=?utf-8?Q?a?= =?utf-8?Q?b?=", "ab"),
        ("=?utf-8?Q?a?=\n =?utf-8?Q?b?=", "ab"),
        ("=?utf-8?Q?a?= b =?utf-8?Q?c?=", "a b c"),
        ("Re: =?utf-8?B?w6k=?= x", "Re: é x"),
        ("=?utf-8?B?w6k?=", "é"),  # missing padding
        ("=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="),  # undecodable: kept as written
        ("=?UTF-8?Q?caf=C3=A9 cr=C3=A8me?=", "café crème"),  # a space inside a word
        ("Caf\udce9", "Café"),  # raw 8-bit, as the email package leaves it
    ],
)
def test_header_words_are_decoded_whatever_their_label(header: str, expected: str) -> None:
    assert decode_header_text(header) == expected


def test_text_without_encoded_words_is_left_alone() -> None:
    assert decode_encoded_words("=? pas un mot ?=") == "=? pas un mot ?="


def test_a_subject_in_the_wrong_charset_beside_a_right_one_reads_right() -> None:
    mail = raw(
        "From: a@b.example",
        "Subject: =?utf-8?Q?R=E9servation?= =?iso-8859-1?Q?_caf=C3=A9?= =?koi8-r?B?88/L?=",
    )
    assert parse_mail(mail).subject == "Réservation caféСок"


# --- format=flowed ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flowed", "delsp", "expected"),
    [
        ("un paragraphe \ncoupé en \ntrois\nfin", False, "un paragraphe coupé en trois\nfin"),
        ("mot-  \nsuite", True, "mot- suite"),
        ("mot \nsuite", True, "motsuite"),
        ("> cité \n> suite\nréponse", False, "> cité suite\nréponse"),
        (">> deux \n>> niveaux\n> un", False, ">> deux niveaux\n> un"),
        ("> fin de citation \nréponse", False, "> fin de citation \nréponse"),
        ("merci\n-- \nAlice", False, "merci\n-- \nAlice"),
        (" >pas une citation\n  deux espaces", False, ">pas une citation\n deux espaces"),
        (">\n> ", False, ">\n>"),
        ("", False, ""),
    ],
)
def test_flowed_text_is_joined_back_into_paragraphs(
    flowed: str, delsp: bool, expected: str
) -> None:
    assert unflow(flowed, delsp=delsp) == expected


def test_a_flowed_part_is_read_as_paragraphs() -> None:
    mail = raw(
        "From: a@b.example",
        "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes",
        body="Une ligne tr\xc3\xa8s  \nlongue.\n".encode("latin-1"),
    )
    assert parse_mail(mail).text == "Une ligne très longue."


# --- what becomes an attachment ---------------------------------------------------------------


def test_an_inline_nameless_calendar_is_kept_as_invite_ics() -> None:
    mail = multipart(
        b"Content-Type: text/plain\n\nInvitation\n",
        b"Content-Type: text/calendar; method=REQUEST; charset=utf-8\n\nBEGIN:VCALENDAR\n",
        subtype="alternative",
    )
    parsed = parse_mail(mail)
    assert parsed.text == "Invitation"
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("invite.ics", "text/calendar", b"BEGIN:VCALENDAR\n")
    ]


@pytest.mark.parametrize(
    ("content_type", "filename"),
    [
        ("application/ms-tnef", "winmail.dat"),
        ("application/vnd.ms-tnef", "winmail.dat"),
        ("application/pkcs7-signature", "smime.p7s"),
        ("application/pkcs7-mime; smime-type=enveloped-data", "smime.p7m"),
        ("application/pgp-signature", "signature.asc"),
        ("application/pgp-encrypted", "pgp-version.txt"),
        ("message/delivery-status", "delivery-status.txt"),
        ("text/rfc822-headers", "returned-headers.txt"),
        ("image/png", "part-1.png"),
        ("application/x-thing", "part-1"),
    ],
)
def test_nameless_parts_get_a_name_that_says_what_they_are(
    content_type: str, filename: str
) -> None:
    mail = multipart(
        b"Content-Type: text/plain\n\nx\n", f"Content-Type: {content_type}\n\ndata\n".encode()
    )
    (attachment,) = parse_mail(mail).attachments
    assert attachment.filename == filename


def test_a_signed_mail_reads_its_text_from_the_signed_part_and_keeps_the_signature() -> None:
    mail = multipart(
        b"Content-Type: text/plain; charset=utf-8\n\nsigned text\n",
        b"Content-Type: application/pkcs7-signature; name=smime.p7s\n"
        b"Content-Transfer-Encoding: base64\n\nMIIBCgYJKoZIhvcNAQcC\n",
        subtype='signed; protocol="application/pkcs7-signature"; micalg=sha-256',
    )
    parsed = parse_mail(mail)
    assert parsed.text == "signed text"
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("smime.p7s", "application/pkcs7-signature")
    ]


def test_an_encrypted_mail_has_no_text_and_keeps_its_encrypted_parts() -> None:
    mail = multipart(
        b"Content-Type: application/pgp-encrypted\n\nVersion: 1\n",
        b'Content-Type: application/octet-stream; name="encrypted.asc"\n\n'
        b"-----BEGIN PGP MESSAGE-----\nhQEMA\n-----END PGP MESSAGE-----\n",
        subtype='encrypted; protocol="application/pgp-encrypted"',
    )
    parsed = parse_mail(mail)
    assert parsed.text == ""
    assert parsed.blocks == ()
    assert [a.filename for a in parsed.attachments] == ["pgp-version.txt", "encrypted.asc"]


def test_an_attached_mail_is_kept_byte_for_byte_and_named_by_its_subject() -> None:
    inner = (
        b"From: Bob <bob@supplier.example.com>\nSubject: =?utf-8?Q?Offre_n=C2=B0_7?=\n"
        b"X-Long: " + b"x" * 300 + b"\n\nCaf\xc3\xa9\n"
    )
    mail = multipart(
        b"Content-Type: text/plain\n\nci-joint\n", b"Content-Type: message/rfc822\n\n" + inner
    )
    (attachment,) = parse_mail(mail).attachments
    assert (attachment.filename, attachment.content_type) == ("Offre n° 7.eml", "message/rfc822")
    assert attachment.content == inner


def test_an_attached_mails_subject_makes_a_safe_file_name() -> None:
    inner = b"Subject: RE: devis 2026/114 <urgent>\n\ntexte\n"
    mail = multipart(
        b"Content-Type: text/plain\n\nx\n", b"Content-Type: message/rfc822\n\n" + inner
    )
    assert parse_mail(mail).attachments[0].filename == "RE_ devis 2026_114 _urgent_.eml"


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('attachment; filename="../../etc/passwd"', "passwd"),
        ('attachment; filename="C:\\Users\\bob\\devis.pdf"', "devis.pdf"),
        ('attachment; filename="dev\x01is.pdf"', "devis.pdf"),
        ('attachment; filename=".."', "part-1"),
    ],
)
def test_file_names_lose_their_path_and_control_characters(disposition: str, expected: str) -> None:
    part = f"Content-Type: application/octet-stream\nContent-Disposition: {disposition}\n\nx\n"
    (attachment,) = parse_mail(
        multipart(b"Content-Type: text/plain\n\nx\n", part.encode())
    ).attachments
    assert attachment.filename == expected


def test_related_images_are_inline_unless_declared_attachments() -> None:
    mail = multipart(
        b"Content-Type: text/html\n\n<p>logo <img src=cid:a@x></p>\n",
        b"Content-Type: image/png\nContent-ID: <a@x>\n\npng\n",
        b"Content-Type: image/png\nContent-ID: <b@x>\nContent-Disposition: attachment\n\npng\n",
        subtype="related",
    )
    parsed = parse_mail(mail)
    assert parsed.text == "logo"
    assert [(a.content_id, a.inline) for a in parsed.attachments] == [
        ("<a@x>", True),
        ("<b@x>", False),
    ]


def test_html_pieces_around_an_image_are_all_kept() -> None:
    mail = multipart(
        b"Content-Type: text/html\n\n<div>avant</div>\n",
        b"Content-Type: image/jpeg\nContent-Disposition: inline; filename=photo.jpg\n\njpg\n",
        b"Content-Type: text/html\n\n<div>apr\xc3\xa8s</div>\n",
    )
    parsed = parse_mail(mail)
    assert parsed.text == "avant\n\naprès"
    assert parsed.html is not None and "avant" in parsed.html and "après" in parsed.html
    assert [a.filename for a in parsed.attachments] == ["photo.jpg"]


def test_an_html_part_without_charset_reads_its_meta_charset() -> None:
    mail = raw(
        "From: a@b.example",
        "Content-Type: text/html",
        body=b'<meta charset="koi8-r"><p>\xf3\xcf\xcb</p>',
    )
    assert parse_mail(mail).text == "Сок"


def test_nesting_deeper_than_any_client_writes_is_kept_as_one_part() -> None:
    body = b"Content-Type: text/plain\n\nfond\n"
    for depth in range(80):
        body = f'Content-Type: multipart/mixed; boundary="b{depth}"\n\n--b{depth}\n'.encode() + body
        body += f"\n--b{depth}--\n".encode()
    parsed = parse_mail(b"From: a@b.example\n" + body)
    assert [a.content_type for a in parsed.attachments] == ["application/octet-stream"]
    assert b"fond" in parsed.attachments[0].content
    assert any("too deep" in d for d in parsed.defects)


# --- defects, blocks and the last resort -----------------------------------------------------


def test_payload_decoding_defects_are_recorded() -> None:
    mail = raw(
        "From: a@b.example",
        "Content-Type: text/plain",
        "Content-Transfer-Encoding: base64",
        body=b"Q2Fm!w6k\n",
    )
    parsed = parse_mail(mail)
    assert parsed.text == "Café"
    assert "InvalidBase64CharactersDefect" in parsed.defects


def test_nul_bytes_are_dropped_from_the_text_and_noted() -> None:
    parsed = parse_mail(b"From: a@b.example\nSubject: a\x00b\n\nc\x00d\n")
    assert (parsed.subject, parsed.text) == ("ab", "cd")
    assert any("NUL" in d for d in parsed.defects)


def test_blocks_are_computed_from_the_text() -> None:
    parsed = parse_mail(raw("From: a@b.example", body=b"Oui.\n\n> Question ?\n"))
    assert [(b.kind, b.text) for b in parsed.blocks] == [
        ("body", "Oui.\n"),
        ("quote", "> Question ?"),
    ]


def test_a_bug_of_ours_still_keeps_the_mail_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(raw: bytes) -> ParsedMail:
        raise RuntimeError("a bug")

    monkeypatch.setattr(parsing, "_parse_mail", broken)
    parsed = parse_mail(b"Subject: s\r\n\r\nle corps \xe9\r\n")
    assert parsed.text == "le corps é"
    assert parsed.defects == ("unparsed: RuntimeError('a bug')",)
