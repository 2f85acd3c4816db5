"""The purchasing office's two flows (DESIGN.md §1), played through commands against the
real stores and broker: every step is a transaction, with its event, in order."""

from __future__ import annotations

import uuid
from typing import Any

from services.tickets.service import TicketService
from shared.rpc import tickets as rpc
from tests.integration.tickets.support import EventTap, queue_change, ticket_command

AGENT = "acheteur@example.org"
REQUESTOR = "demandeur@antenne.example.org"
TECH_LEAD = "resp.technique@example.org"
VALIDATOR = "validateur.financier@example.org"
SUPPLIER = "ventes@fournisseur.example.com"
FREIGHT = ("fret@example.org", "transitaire@transport.example.com")


async def setup(service: TicketService) -> None:
    await service.upsert_user(
        rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=AGENT, privileged=True, password="x")
    )
    await service.upsert_queue(
        queue_change(
            custom_fields=(rpc.CustomFieldSpec(name="DEM LOG"), rpc.CustomFieldSpec(name="COM LOG"))
        )
    )
    await service.upsert_user(rpc.UpsertUser(actor=rpc.SYSTEM_ACTOR, email=REQUESTOR))


def act(ticket: int, action: str, actor: str = AGENT, **params: Any) -> rpc.TicketCommand:
    return ticket_command(ticket, action, actor, **params)


async def open_ticket(service: TicketService, actor: str, **fields: Any) -> dict[str, Any]:
    return await service.create(
        rpc.CreateTicket(command_id=f"flow-{uuid.uuid4()}", actor=actor, queue="achats", **fields)
    )


async def test_purchase_request_from_dem_log_to_delivery(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    created = await open_ticket(
        service,
        REQUESTOR,
        subject="Achat de 3 portables pour l'antenne",
        text="Demande saisie dans CODA.",
        custom_fields={"DEM LOG": "DL-2026-118"},
    )
    ticket = created["ticket"]["id"]
    assert created["ticket"]["requestors"] == [REQUESTOR]
    steps = [
        act(ticket, "reply", text="Quels modèles souhaitez-vous ?"),
        act(ticket, "reply", actor=REQUESTOR, text="Des 14 pouces."),
        act(ticket, "add_watcher", role="Cc", email=TECH_LEAD),
        act(ticket, "set_custom_field", field="COM LOG", value="CL-2026-077"),
        act(ticket, "add_watcher", role="Cc", email=VALIDATOR),
        act(ticket, "reply", text="Merci de valider la commande CL-2026-077."),
        act(ticket, "add_watcher", role="Cc", email=SUPPLIER),
        act(ticket, "reply", text="Veuillez trouver notre commande."),
        act(ticket, "remove_watcher", role="Cc", email=SUPPLIER),
        *(act(ticket, "add_watcher", role="Cc", email=f) for f in FREIGHT),
        act(ticket, "reply", text="Le matériel est à expédier à Dakar."),
        act(ticket, "reply", actor=REQUESTOR, text="Matériel bien reçu, merci."),
        act(ticket, "set_status", status="resolved", text="Livré et réceptionné."),
    ]
    for step in steps:
        result = await service.execute(step)
    final = result["ticket"]
    assert final["status"] == "resolved"
    assert final["ccs"] == [TECH_LEAD, VALIDATOR, *FREIGHT]
    assert final["custom_fields"] == {"DEM LOG": "DL-2026-118", "COM LOG": "CL-2026-077"}
    assert final["version"] == len(steps) + 1

    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket))
    assert [h["type"] for h in history] == [
        "create", "correspond", "correspond", "add_watcher", "set", "add_watcher",
        "correspond", "add_watcher", "correspond", "del_watcher", "add_watcher",
        "add_watcher", "correspond", "correspond", "status",
    ]  # fmt: skip
    assert [h["seq"] for h in history] == list(range(1, len(steps) + 2))
    events = await tap.wait_for(len(steps) + 1)
    mine = [e for e in events if e.payload["ticket"]["id"] == ticket]
    assert [e.payload["ticket"]["version"] for e in mine] == list(range(1, len(steps) + 2))
    assert mine[1].payload["ticket"]["status"] == "open"  # the agent's first answer opens it


async def test_quote_request_the_supplier_is_an_observer_and_answers(
    wired: tuple[TicketService, EventTap],
) -> None:
    service, tap = wired
    await setup(service)
    created = await open_ticket(
        service,
        AGENT,
        subject="Demande de devis : 12 écrans 27 pouces",
        text="Bonjour, merci de nous faire une offre.",
        ccs=(SUPPLIER,),
    )
    ticket = created["ticket"]["id"]
    assert created["ticket"]["ccs"] == [SUPPLIER]
    # The supplier (an unprivileged observer) sees the ticket and answers with the quote.
    seen = await service.get_ticket(rpc.TicketRef(actor=SUPPLIER, id=ticket))
    assert seen["id"] == ticket
    quote = await service.execute(
        act(ticket, "reply", actor=SUPPLIER, text="Devis joint : 4 200 €")
    )
    assert quote["ticket"]["status"] == "new"  # an observer's answer does not open it
    await service.execute(act(ticket, "comment", text="Trop cher, négocier."))
    await service.execute(act(ticket, "reply", text="Pouvez-vous faire 3 900 € ?"))
    await service.execute(act(ticket, "reply", actor=SUPPLIER, text="D'accord pour 3 900 €."))
    final = await service.execute(act(ticket, "set_status", status="resolved"))
    assert final["ticket"]["status"] == "resolved"
    history = await service.history(rpc.TicketRef(actor=AGENT, id=ticket))
    assert [(h["type"], h["creator"]) for h in history] == [
        ("create", AGENT),
        ("correspond", SUPPLIER),
        ("comment", AGENT),
        ("correspond", AGENT),
        ("correspond", SUPPLIER),
        ("status", AGENT),
    ]
    events = await tap.wait_for(6)
    assert [e.type for e in events][-1] == "ticket.txn.status"
    # The supplier never sees the internal comment.
    theirs = await service.history(rpc.TicketRef(actor=SUPPLIER, id=ticket))
    assert "comment" not in [h["type"] for h in theirs]
    assert len(theirs) == 5
