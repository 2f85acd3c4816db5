"""shared.mail.delivery_reports: bounces, and which of our mails they return."""

from __future__ import annotations

from email.message import EmailMessage

from shared.mail.delivery_reports import read_delivery_report

OURS = "<guichet.example.12.0f1e2d3c-aaaa-bbbb-cccc-000000000001.abcdef0123@tickets.example.org>"


def standard_report(returned: str, *, action: str = "failed") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.org\r\n"
        "To: achats@tickets.example.org\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nSorry.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; Ventes@Fournisseur.example.com\r\nAction: {action}\r\n"
        "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <ventes@fournisseur.example.com>:\r\n"
        "    Recipient address rejected\r\n\r\n"
        "Final-Recipient: rfc822; other@example.com\r\nAction: delivered\r\nStatus: 2.0.0\r\n"
        f"--B\r\n{returned}--B--\r\n"
    ).encode()


def test_a_standard_report_names_the_failed_recipients_and_our_message() -> None:
    returned = (
        "Content-Type: message/rfc822\r\n\r\n"
        f"From: achats@tickets.example.org\r\nSubject: [example #12] Devis\r\n"
        f"Message-ID: {OURS}\r\n\r\nLe devis.\r\n"
    )
    report = read_delivery_report(standard_report(returned), from_mailer_daemon=True)
    assert report is not None
    assert report.failed_recipients == ("ventes@fournisseur.example.com",)
    assert report.original_message_ids == (OURS,)
    assert report.original_subject == "[example #12] Devis"
    assert "5.1.1" in report.details[0]
    assert "Recipient address rejected" in report.details[0]  # folded lines unfolded


def test_returned_headers_alone_are_enough() -> None:
    returned = f"Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: {OURS}\r\nSubject: x\r\n"
    report = read_delivery_report(standard_report(returned), from_mailer_daemon=False)
    assert report is not None
    assert report.original_message_ids == (OURS,)


def test_a_delay_notice_is_a_report_without_failures() -> None:
    report = read_delivery_report(
        standard_report("Content-Type: text/plain\r\n\r\n...\r\n", action="delayed"),
        from_mailer_daemon=True,
    )
    assert report is not None
    assert report.failed_recipients == ()


def test_a_plain_text_bounce_from_a_daemon_quoting_our_message_id_is_one() -> None:
    msg = EmailMessage()
    msg["From"] = "Mail Delivery Subsystem <mailer-daemon@old.example.com>"
    msg["Subject"] = "failure notice"
    msg["X-Failed-Recipients"] = "ventes@fournisseur.example.com"
    copy = f"--- Below this line is a copy of the message.\nMessage-ID: {OURS}\n"
    msg.set_content(f"Hi. This is the qmail-send program.\n\n{copy}")
    report = read_delivery_report(msg.as_bytes(), from_mailer_daemon=True)
    assert report is not None
    assert report.failed_recipients == ("ventes@fournisseur.example.com",)
    assert report.original_message_ids == (OURS,)


def test_ordinary_mail_is_no_report() -> None:
    msg = EmailMessage()
    msg["From"] = "alice@example.net"
    msg["Subject"] = "Re: [example #12] Devis"
    msg["References"] = OURS  # a person's reply to our mail is not a bounce
    msg.set_content("Merci")
    assert read_delivery_report(msg.as_bytes(), from_mailer_daemon=False) is None


def test_a_daemon_mail_naming_nothing_of_ours_is_no_report() -> None:
    msg = EmailMessage()
    msg["From"] = "postmaster@example.com"
    msg.set_content("Your mailbox is almost full.")
    assert read_delivery_report(msg.as_bytes(), from_mailer_daemon=True) is None


def test_a_vacation_reply_naming_our_mail_in_its_headers_is_no_report() -> None:
    msg = EmailMessage()
    msg["From"] = "alice@example.net"  # Sieve sends it with an empty envelope sender
    msg["Subject"] = "Absent: [example #12] Devis"
    msg["Auto-Submitted"] = "auto-replied"
    msg["In-Reply-To"] = OURS
    msg["References"] = OURS
    msg.set_content("Je suis absente jusqu'au 3 janvier.")
    assert read_delivery_report(msg.as_bytes(), from_mailer_daemon=False) is None
