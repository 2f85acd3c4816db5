"""Mail in, end to end through the running stack (SMTP → ingest → tickets → notify, the
catcher for what goes out, the REST API for what was recorded): replies by tag and by
References alone, the comment address, an Outlook reply with a mangled subject, a vacation
auto-reply that makes no loop, a bounce on its ticket, a forged command refused."""

from __future__ import annotations

import email.utils
import smtplib
import time
import uuid
from email.message import EmailMessage
from typing import Any

import httpx

from tests.e2e.conftest import SMTP_PORT, caught_for, make_mail, send, ticket_of, wait_until

QUEUE = "achats@tickets.example.org"
COMMENTS = "achats-comment@tickets.example.org"


def someone(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.net"


def history(api: httpx.Client, ticket: int) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = api.get(f"/api/v1/tickets/{ticket}/history").json()["data"]
    return data


def history_of_length(api: httpx.Client, ticket: int, length: int) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]] | None:
        found = history(api, ticket)
        return found if len(found) >= length else None

    found: list[dict[str, Any]] = wait_until(enough, 20, f"{length} transactions on #{ticket}")
    return found


def open_ticket(api: httpx.Client, requestor: str, subject: str) -> tuple[int, EmailMessage]:
    """A first mail, its ticket number and the autoreply it earned."""
    send(make_mail(requestor, subject, "Bonjour, voici ma demande."))
    ticket = wait_until(lambda: ticket_of(api, requestor), 20, "the ticket")
    [autoreply] = wait_until(lambda: caught_for(requestor), 20, "the autoreply")
    return int(ticket["id"]), autoreply


def reply(sender: str, subject: str, body: str, *, to: str = QUEUE, **headers: str) -> EmailMessage:
    msg = make_mail(sender, subject, body, to=to)
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    return msg


def test_replies_thread_by_tag_and_by_references_alone(api: httpx.Client) -> None:
    requestor = someone("alice")
    ticket, autoreply = open_ticket(api, requestor, "Demande de devis écran")

    send(reply(requestor, f"Re: [example #{ticket}] Demande de devis écran", "Par le tag."))
    # No tag at all: only the References name our autoreply.
    send(
        reply(
            requestor,
            "Autre chose",
            "Par les références.",
            In_Reply_To=autoreply["Message-ID"],
            References=autoreply["Message-ID"],
        )
    )
    steps = history_of_length(api, ticket, 3)
    assert [s["type"] for s in steps] == ["create", "correspond", "correspond"]
    assert {s["text"].strip() for s in steps[1:]} == {"Par le tag.", "Par les références."}
    assert ticket_of(api, requestor)["id"] == ticket  # one ticket, not three


def test_mail_to_the_comment_address_is_a_comment(api: httpx.Client) -> None:
    requestor = someone("bob")
    ticket, _ = open_ticket(api, requestor, "Commande de chaises")
    agent_note = reply(
        "admin@example.org", f"[example #{ticket}] note", "Fournisseur habituel.", to=COMMENTS
    )
    send(agent_note)
    steps = history_of_length(api, ticket, 2)
    assert steps[1]["type"] == "comment"
    assert steps[1]["text"].strip() == "Fournisseur habituel."


def test_an_outlook_reply_with_a_mangled_subject_finds_its_ticket(api: httpx.Client) -> None:
    requestor = someone("carol")
    ticket, _ = open_ticket(api, requestor, "Achat de portables")
    outlook = reply(
        requestor,
        f"RE: [EXTERNAL] TR: [ Example  #{ticket} ] Achat de portables",
        "Bonjour,\r\n\r\nMerci.\r\n\r\n-----Message d'origine-----\r\nDe : achats\r\n",
        Thread_Topic="Achat de portables",
        Thread_Index="AQHa1b2c3d4e5f6g7h8i9j0k==",
        X_Mailer="Microsoft Outlook 16.0",
    )
    send(outlook)
    steps = history_of_length(api, ticket, 2)
    assert steps[1]["type"] == "correspond"
    assert "subject tag" in (steps[1]["note"] or "")


def test_a_vacation_auto_reply_is_recorded_and_answered_by_nothing(api: httpx.Client) -> None:
    requestor = someone("dave")
    ticket, autoreply = open_ticket(api, requestor, "Demande urgente")
    vacation = reply(
        requestor,
        f"Absence du bureau : [example #{ticket}] Demande urgente",
        "Je suis absent jusqu'au 3 janvier.",
        Auto_Submitted="auto-replied",
        In_Reply_To=autoreply["Message-ID"],
    )
    send(vacation)
    steps = history_of_length(api, ticket, 2)
    assert steps[1]["type"] == "correspond"
    time.sleep(3)  # long enough for notify to have answered, had it wanted to
    assert len(caught_for(requestor)) == 1  # still only the first autoreply: no loop


def delivery_report(returned: EmailMessage, failed: str) -> bytes:
    """What a receiving MTA sends back when our mail could not be delivered (RFC 3464)."""
    returned_bytes = returned.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        + f"To: {QUEUE}\r\n".encode()
        + b"Subject: Undelivered Mail Returned to Sender\r\n"
        + f"Message-ID: {email.utils.make_msgid(domain='mx.example.net')}\r\n".encode()
        + b"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        + b'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn"\r\n'
        + b"\r\n--dsn\r\nContent-Type: text/plain\r\n\r\n"
        + b"This is the mail system at host mx.example.net.\r\n"
        + b"--dsn\r\nContent-Type: message/delivery-status\r\n\r\n"
        + b"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        + f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n".encode()
        + b"Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        + b"--dsn\r\nContent-Type: message/rfc822\r\n\r\n"
        + returned_bytes
        + b"\r\n--dsn--\r\n"
    )


def test_a_bounce_of_our_autoreply_lands_on_its_ticket_and_opens_none(
    api: httpx.Client,
) -> None:
    requestor = someone("erin")
    ticket, autoreply = open_ticket(api, requestor, "Demande de câbles")
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=30) as smtp:
        smtp.sendmail("", [QUEUE], delivery_report(autoreply, requestor))  # MAIL FROM:<>
    steps = history_of_length(api, ticket, 2)
    assert steps[1]["type"] == "bounce"
    assert steps[1]["new_value"] == requestor
    assert ticket_of(api, "mailer-daemon@mx.example.net") is None


def test_a_forged_command_is_refused_with_one_error_mail(api: httpx.Client) -> None:
    requestor = someone("frank")
    ticket, _ = open_ticket(api, requestor, "Achat de bureaux")
    forged = reply(
        requestor,
        f"Re: [example #{ticket}] Achat de bureaux",
        "Status: resolved\nOwner: admin@example.org\n\nMerci de clore.",
    )
    send(forged)
    steps = history_of_length(api, ticket, 2)
    outcomes = [(c["line"], c["outcome"]) for c in steps[1]["mail"]["commands"]]
    assert outcomes == [
        ("Status: resolved", "refused"),
        ("Owner: admin@example.org", "refused"),
    ]
    assert steps[1]["text"].strip() == "Merci de clore."
    assert api.get(f"/api/v1/tickets/{ticket}").json()["status"] == "new"

    def error_mail() -> list[EmailMessage] | None:
        mails = caught_for(requestor)
        return mails if len(mails) >= 2 else None

    mails = wait_until(error_mail, 20, "the error mail")
    time.sleep(2)
    assert len(caught_for(requestor)) == 2  # the autoreply and one error mail, in any order
    [error] = [
        m
        for m in mails
        if str(m["Subject"]).startswith("[example #")
        and "Commandes non appliquées" in str(m["Subject"])
    ]
    body = error.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "Status: resolved" in body and "Owner: admin@example.org" in body
