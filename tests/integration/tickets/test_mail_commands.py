"""Commands by mail, bounces and mail policies, through the real tickets service (real
RabbitMQ and FerretDB): what lands on the ticket, in which transactions, with which facts."""

from __future__ import annotations

from typing import Any

from services.tickets.service import TicketService
from shared.events.envelope import AnyEnvelope
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, envelope_of, queue_change
from tests.support import raw_mail

AGENT = "acheteur@example.org"
REQUESTOR = "demandeur@antenne.example.org"
SUPPLIER = "ventes@fournisseur.example.com"
STRANGER = "inconnu@ailleurs.example.com"


async def setup(service: TicketService, **queue: Any) -> None:
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=AGENT, privileged=True, password="x")
    )
    await service.upsert_queue(
        queue_change(custom_fields=(rpc.CustomFieldSpec(name="DEM LOG"),), **queue)
    )


async def mail(service: TicketService, raw: bytes, **extra: Any) -> None:
    sender = extra.pop("mail_from", "alice@example.net")
    await service.on_mail_received(envelope_of(raw, mail_from=sender, **extra))


async def requestor_opens(
    service: TicketService, tap: EventTap, subject: str = "Achat"
) -> AnyEnvelope:
    """Ticket #1, opened by the requestor's mail; its creation event."""
    await mail(service, raw_mail(sender=REQUESTOR, subject=subject), mail_from=REQUESTOR)
    [created] = await tap.wait_for(1)
    return created


async def ticket(service: TicketService, number: int) -> dict[str, Any]:
    return await service.get_ticket(rpc.TicketRef(actor=AGENT, id=number))


async def history(service: TicketService, number: int) -> list[dict[str, Any]]:
    return await service.history(rpc.TicketRef(actor=AGENT, id=number))


async def test_quote_request_by_mail_names_the_supplier_as_cc_of_the_creation(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    body = (
        f"AddCc: {SUPPLIER}\nCF.{{DEM LOG}}: DL-2026-7\n\nBonjour, merci de nous chiffrer 3 écrans."
    )
    await mail(service, raw_mail(sender=AGENT, subject="Devis écrans", body=body), mail_from=AGENT)
    [created] = await tap.wait_for(1)
    assert created.type == "ticket.txn.create"
    snapshot = created.payload["ticket"]
    assert snapshot["ccs"] == [SUPPLIER]  # in the creation itself: the supplier gets it
    assert snapshot["custom_fields"] == {"DEM LOG": "DL-2026-7"}
    assert snapshot["version"] == 1
    txn = created.payload["transaction"]
    assert txn["message"]["text"].startswith("Bonjour, merci")  # the block is not the message
    assert [(c["command"], c["outcome"]) for c in txn["mail"]["commands"]] == [
        ("AddCc", "applied"),
        ("CF.{DEM LOG}", "applied"),
    ]


async def test_commands_on_a_reply_are_transactions_around_the_message(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    await requestor_opens(service, tap, "Achat portables")
    body = f"ajoutcc : {SUPPLIER}\nStatut: résolu\n\nCommande passée, merci."
    reply = raw_mail(sender=AGENT, subject="Re: [example #1] Achat portables", body=body)
    await mail(service, reply, mail_from=AGENT)
    events = await tap.wait_for(4)
    assert [e.type for e in events] == [
        "ticket.txn.create",
        "ticket.txn.add_watcher",  # before the message: the new Cc receives it
        "ticket.txn.correspond",
        "ticket.txn.status",  # after it: the status the mail sets is the one that stays
    ]
    final = await ticket(service, 1)
    assert final["ccs"] == [SUPPLIER]
    assert final["status"] == "resolved"
    message = events[2].payload["transaction"]
    assert message["message"]["text"].strip() == "Commande passée, merci."
    assert [c["outcome"] for c in message["mail"]["commands"]] == ["applied", "applied"]

    # The MTA delivers the same reply again: nothing runs twice.
    await mail(service, reply, mail_from=AGENT)
    assert len(await history(service, 1)) == 4


async def test_a_requestors_commands_are_refused_and_the_mail_still_recorded(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    await requestor_opens(service, tap)
    forged = raw_mail(
        sender=REQUESTOR,
        subject="Re: [example #1] Achat",
        body=f"Owner: {REQUESTOR}\nStatus: resolved\nFrobnicate: yes\n\nC'est urgent.",
    )
    await mail(service, forged, mail_from=REQUESTOR)
    events = await tap.wait_for(2)
    assert [e.type for e in events] == ["ticket.txn.create", "ticket.txn.correspond"]
    outcomes = [
        (c["line"], c["outcome"]) for c in events[1].payload["transaction"]["mail"]["commands"]
    ]
    assert outcomes == [
        (f"Owner: {REQUESTOR}", "refused"),
        ("Status: resolved", "refused"),
        ("Frobnicate: yes", "unknown"),
    ]
    assert (await ticket(service, 1))["status"] == "new"
    assert events[1].payload["transaction"]["message"]["text"].startswith("C'est urgent.")


async def test_an_unauthenticated_agent_mail_cannot_command_where_the_queue_requires_it(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service, commands_need_authentication=True)
    spoofed = raw_mail(
        sender=AGENT, subject="Urgent", body=f"AddCc: {STRANGER}\n\nVoir ci-dessous."
    )
    await mail(service, spoofed, mail_from=AGENT)
    [created] = await tap.wait_for(1)
    facts = created.payload["transaction"]["mail"]
    assert facts["authentication"]["verdict"] == "none"
    assert facts["commands"][0]["outcome"] == "refused"
    assert created.payload["ticket"]["ccs"] == []


async def test_a_reply_from_someone_not_on_the_ticket_is_flagged_or_made_a_comment(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service, unknown_sender="comment")
    await requestor_opens(service, tap)
    intruder = raw_mail(sender=STRANGER, subject="Re: [example #1] Achat", body="Moi aussi.")
    await mail(service, intruder, mail_from=STRANGER)
    events = await tap.wait_for(2)
    assert events[1].type == "ticket.txn.comment"
    assert events[1].payload["transaction"]["mail"]["sender_on_ticket"] is False
    assert "not on the ticket" in events[1].payload["transaction"]["note"]


async def test_ccs_of_replies_become_watchers_only_where_the_queue_says_so(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service, ccs_from_replies=True)
    await requestor_opens(service, tap)
    reply = raw_mail(
        sender=REQUESTOR,
        subject="Re: [example #1] Achat",
        cc=f"{SUPPLIER}, achats-comment@tickets.example.org",
    )
    await mail(service, reply, mail_from=REQUESTOR)
    events = await tap.wait_for(2)
    assert events[1].payload["ticket"]["ccs"] == [SUPPLIER]
    assert events[1].payload["transaction"]["mail"]["ccs_added"] == [SUPPLIER]


def delivery_report(original_message_id: str, failed: str) -> bytes:
    """A Postfix-like DSN returning the headers of one of our notifications."""
    return (
        "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\r\n"
        "To: achats@tickets.example.org\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <dsn-1@mx.example.org>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
        "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: achats <achats@tickets.example.org>\r\nTo: {failed}\r\n"
        f"Subject: [example #1] Achat\r\nMessage-ID: {original_message_id}\r\n"
        "--B--\r\n"
    ).encode()


async def test_a_bounce_of_our_notification_is_attached_to_its_ticket(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    created = await requestor_opens(service, tap)
    ours = (
        f"<guichet.example.1.{created.payload['transaction']['id']}.abcdef0123@tickets.example.org>"
    )
    await mail(service, delivery_report(ours, REQUESTOR), mail_from="")
    events = await tap.wait_for(2)
    assert events[1].type == "ticket.txn.bounce"
    assert events[1].payload["transaction"]["new_value"] == REQUESTOR
    assert events[1].payload["transaction"]["mail"]["failed_recipients"] == [REQUESTOR]
    assert (await service.list_tickets(rpc.ListTickets(actor=AGENT)))["count"] == 1


async def test_a_bounce_of_mail_not_ours_opens_no_ticket(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    await mail(service, delivery_report("<someone-else@example.net>", STRANGER), mail_from="")
    assert (await service.list_tickets(rpc.ListTickets(actor=AGENT)))["count"] == 0
    assert tap.events == []


async def test_a_mail_the_smarthost_refused_is_shown_on_its_ticket_once(
    wired: tuple[TicketService, EventTap],
) -> None:
    from datetime import UTC, datetime

    from shared.events.envelope import Envelope
    from shared.events.notify import DeliveryFailed

    service, tap = wired
    await setup(service)
    created = await requestor_opens(service, tap)
    failure = Envelope.wrap(
        DeliveryFailed(
            ticket=1,
            queue="achats",
            transaction=created.payload["transaction"]["id"],
            recipient=REQUESTOR,
            rule="on_create_autoreply",
            template="autoreply",
            message_id="<guichet.example.1.x.abc@tickets.example.org>",
            smtp_code=550,
            error="5.1.1 mailbox unavailable",
            failed_at=datetime.now(UTC),
        ),
        producer="notify",
        correlation_id="notify-1",
    )
    await service.on_delivery_failed(failure)
    await service.on_delivery_failed(failure)  # redelivered: recorded once
    events = await tap.wait_for(2)
    assert [e.type for e in events] == ["ticket.txn.create", "ticket.txn.bounce"]
    txn = events[1].payload["transaction"]
    assert (txn["new_value"], txn["creator"]) == (REQUESTOR, "notify")
    assert "550" in txn["note"] and "mailbox unavailable" in txn["note"]
    assert len(await history(service, 1)) == 2


async def test_a_reply_redelivered_later_does_not_undo_what_happened_since(
    wired: tuple[TicketService, EventTap],
) -> None:
    from tests.integration.tickets.support import ticket_command

    service, tap = wired
    await setup(service)
    await requestor_opens(service, tap)
    reply = raw_mail(sender=AGENT, subject="Re: [example #1] Achat", body="Priority: 5\n\nUrgent.")
    await mail(service, reply, mail_from=AGENT)
    await service.execute(ticket_command(1, "set_priority", AGENT, priority=7))
    await mail(service, reply, mail_from=AGENT)  # the MTA's copy, long after
    assert (await ticket(service, 1))["priority"] == 7
    assert [h["type"] for h in await history(service, 1)] == ["create", "correspond", "set", "set"]
