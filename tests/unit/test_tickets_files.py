"""tickets.domain.files: files sent from the web are decoded, checked and described as a
mail's are; the commands that carry them put them on their message."""

from __future__ import annotations

import base64
import hashlib

import pytest

from services.tickets.domain.commands import Comment, Create, Forward, Reply, create, decide
from services.tickets.domain.files import (
    base_name,
    content_type_of,
    describe,
    read_new_attachments,
)
from services.tickets.domain.mail_decisions import message_info
from shared.errors import InvalidInputError
from shared.events.ticket import AttachmentInfo
from shared.mail.parsing import ParsedAttachment
from shared.rpc.tickets import MAX_NEW_ATTACHMENTS, MAX_NEW_ATTACHMENTS_BYTES, NewAttachment
from tests.unit.factories import AGENT, context, parsed_mail, ticket

PDF = b"%PDF-1.4\n% devis\n"


def sent(content: bytes = PDF, filename: str = "devis.pdf", **changes: str) -> NewAttachment:
    encoded = base64.b64encode(content).decode("ascii")
    return NewAttachment(filename=filename, content_b64=encoded, **changes)


def test_a_file_is_decoded_with_its_name_and_type() -> None:
    [read] = read_new_attachments([sent(content_type="application/pdf")])
    assert read == ParsedAttachment("devis.pdf", "application/pdf", PDF)


def test_a_web_file_is_described_exactly_as_the_same_file_in_a_mail() -> None:
    [read] = read_new_attachments([sent(content_type="application/pdf")])
    from_mail = message_info(parsed_mail(attachments=(read,))).attachments
    assert from_mail == (describe(read),)
    assert describe(read) == AttachmentInfo(
        filename="devis.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=hashlib.sha256(PDF).hexdigest(),
    )


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("devis.pdf", "devis.pdf"),
        ("C:\\Users\\marc\\Documents\\devis final.pdf", "devis final.pdf"),
        ("../../etc/passwd", "passwd"),
        ("/tmp/offre.odt", "offre.odt"),
        ("  é tab\there.txt ", "é tabhere.txt"),
        ("dossier/", ""),
        ("..", ""),
    ],
)
def test_only_the_last_part_of_a_name_is_kept(given: str, kept: str) -> None:
    assert base_name(given) == kept


def test_a_name_that_names_no_file_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="file 2: 'dossier/' names no file"):
        read_new_attachments([sent(), sent(filename="dossier/")])


@pytest.mark.parametrize(
    ("declared", "kept"),
    [
        ("application/pdf", "application/pdf"),
        ("Image/PNG", "image/png"),
        ("text/plain; charset=utf-8", "text/plain"),
        ("application/vnd.ms-excel", "application/vnd.ms-excel"),
        ("", "application/octet-stream"),
        ("pdf", "application/octet-stream"),
        ("text/html\r\nX-Evil: 1", "application/octet-stream"),
    ],
)
def test_a_content_type_is_type_slash_subtype_or_unknown_bytes(declared: str, kept: str) -> None:
    assert content_type_of(declared) == kept


def test_the_default_type_is_unknown_bytes() -> None:
    [read] = read_new_attachments([sent()])
    assert read.content_type == "application/octet-stream"


def test_base64_with_line_breaks_is_read_and_anything_else_refused() -> None:
    wrapped = base64.encodebytes(PDF * 20).decode("ascii")  # 76-column lines
    [read] = read_new_attachments([NewAttachment(filename="a.pdf", content_b64=wrapped)])
    assert read.content == PDF * 20
    with pytest.raises(InvalidInputError, match="file 1: its content is not valid base64"):
        read_new_attachments([NewAttachment(filename="a.pdf", content_b64="pas du base64 !")])
    with pytest.raises(InvalidInputError, match="not valid base64"):
        read_new_attachments([NewAttachment(filename="a.pdf", content_b64="QUJ")])


def test_an_empty_file_is_a_file() -> None:
    [read] = read_new_attachments([sent(b"", filename="vide.txt")])
    assert (read.filename, read.content) == ("vide.txt", b"")


def test_more_files_than_allowed_are_refused() -> None:
    assert len(read_new_attachments([sent()] * MAX_NEW_ATTACHMENTS)) == MAX_NEW_ATTACHMENTS
    with pytest.raises(InvalidInputError, match=f"at most {MAX_NEW_ATTACHMENTS} files"):
        read_new_attachments([sent()] * (MAX_NEW_ATTACHMENTS + 1))


def test_the_files_may_weigh_the_limit_in_all_and_not_one_byte_more() -> None:
    half = MAX_NEW_ATTACHMENTS_BYTES // 2
    exactly = [sent(b"a" * half), sent(b"b" * (MAX_NEW_ATTACHMENTS_BYTES - half))]
    assert sum(len(f.content) for f in read_new_attachments(exactly)) == MAX_NEW_ATTACHMENTS_BYTES
    over = [sent(b"a" * half), sent(b"b" * (MAX_NEW_ATTACHMENTS_BYTES - half + 1))]
    with pytest.raises(InvalidInputError, match="25 MB in all"):
        read_new_attachments(over)


FILES = (
    AttachmentInfo(filename="devis.pdf", content_type="application/pdf", size=3, sha256="a" * 64),
)


@pytest.mark.parametrize("make", [Reply, Comment], ids=["reply", "comment"])
def test_a_reply_or_comment_carries_its_files_and_may_be_files_only(make: type) -> None:
    _, txn = decide(ticket(), make("", FILES), context())
    assert txn.message is not None
    assert (txn.message.text, txn.message.attachments) == ("", FILES)
    _, with_text = decide(ticket(), make("Ci-joint.", FILES), context())
    assert with_text.message is not None and with_text.message.attachments == FILES


def test_a_forward_carries_the_files_of_its_note() -> None:
    _, txn = decide(ticket(), Forward(("compta@example.org",), "Pour info", FILES), context())
    assert txn.message is not None and txn.message.attachments == FILES


def test_a_ticket_created_with_files_only_has_a_message_with_them() -> None:
    command = Create(queue="achats", subject="Devis", text="", attachments=FILES)
    _, txn = create(command, 7, context())
    assert txn.message is not None
    assert (txn.message.from_address, txn.message.attachments) == (AGENT, FILES)
    _, bare = create(Create(queue="achats", subject="Devis", text=""), 8, context())
    assert bare.message is None
