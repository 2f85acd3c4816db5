"""The purchasing office's two flows (DESIGN.md §1) by mail alone, on the running stack:
every mail Guichet sends is checked — who gets it, From and Reply-To, the subject tag,
the threading headers, Auto-Submitted — and the exact set of mails each person holds at
the end. Comments never reach a requestor or a Cc.

Agents act by mail with commands at the top of the body (``AddCc:``, ``Status:``…); each
person's address is new for every run, so the tests only ever see their own mail.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.message import EmailMessage

import httpx
import pytest

from shared.messaging import RpcClient
from shared.rpc import tickets as rpc
from shared.settings import BaseServiceSettings
from tests.e2e.conftest import ROOT, send, ticket_of, wait_until
from tests.e2e.mailboxes import (
    ACHATS,
    ACHATS_COMMENT,
    QUOTE_PDF,
    SETTLE,
    STEP_TIMEOUT,
    Outbox,
    mail,
    text_of,
)

pytestmark = pytest.mark.timeout(600)


@dataclass
class Person:
    """Someone in a flow, and the mails Guichet sent them, in the order they came."""

    role: str
    address: str
    outbox: Outbox
    received: list[EmailMessage] = field(default_factory=list)

    def wait_for(self, count: int) -> list[EmailMessage]:
        """Until they hold ``count`` mails in all; returns the new ones."""
        before = len(self.received)

        def enough() -> list[EmailMessage] | None:
            mails = self.outbox.mails_to(self.address)
            return mails if len(mails) >= count else None

        mails: list[EmailMessage] = wait_until(
            enough, STEP_TIMEOUT, f"{count} mail(s) for the {self.role}", 0.25
        )
        self.received = mails
        return mails[before:]

    def holds_exactly(self, count: int) -> None:
        assert len(self.outbox.mails_to(self.address)) == count, (
            f"the {self.role} should hold {count} mail(s): "
            + "; ".join(m["Subject"] for m in self.outbox.mails_to(self.address))
        )


def people(outbox: Outbox, **roles: str) -> dict[str, Person]:
    run = uuid.uuid4().hex[:8]
    return {role: Person(role, address.format(run=run), outbox) for role, address in roles.items()}


def check_sent(
    message: EmailMessage,
    *,
    ticket: int,
    answers: str | None,
    comment: bool = False,
    auto_submitted: str = "auto-generated",
) -> None:
    """What every mail from Guichet carries: from the queue (its comment address for a
    comment), replies to the same address, its ticket's tag, threading under the
    ticket's root and the mail it answers, RFC 3834's marker and our loop header."""
    address = ACHATS_COMMENT if comment else ACHATS
    assert message["X-Envelope-From"] == f"<{address}>"
    for header in ("From", "Reply-To"):
        (sender,) = message[header].addresses
        assert (sender.display_name, sender.addr_spec) == ("achats", address), header
    assert f"[example #{ticket}]" in message["Subject"]
    assert message["Subject"].count(f"#{ticket}]") == 1
    root = f"<guichet.example.{ticket}.0.root@tickets.example.org>"
    assert message["In-Reply-To"] == (answers or root)
    assert message["References"].split() == [root, *([answers] if answers else [])]
    assert message["Auto-Submitted"] == auto_submitted
    assert message["X-Guichet-Loop"] == "example"
    assert message["Message-ID"].startswith(f"<guichet.example.{ticket}.")
    assert message["Cc"] is None


def only_to(message: EmailMessage, person: Person) -> None:
    assert message.get_all("X-Envelope-To") == [f"<{person.address}>"]
    assert message["To"] == person.address


def guichet(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def ticket_number(api: httpx.Client, requestor: str) -> int:
    found = wait_until(lambda: ticket_of(api, requestor), STEP_TIMEOUT, "the new ticket", 0.25)
    return int(found["id"])


def custom_fields(ticket: int) -> dict[str, str]:
    """A ticket's custom fields, from the tickets service (the web API does not show them)."""

    async def get() -> dict[str, str]:
        client = RpcClient(BaseServiceSettings().broker_url, timeout=30, name="e2e")
        await client.start()
        try:
            found = await client.call(rpc.GET_TICKET, {"actor": rpc.SYSTEM_ACTOR, "id": ticket})
        finally:
            await client.stop()
        return dict(found["custom_fields"])

    return asyncio.run(get())


def settle_then_check(everyone: Iterable[Person], counts: dict[str, int]) -> None:
    time.sleep(SETTLE)
    for person in everyone:
        person.holds_exactly(counts[person.role])


# --- quote request ----------------------------------------------------------------------------


def test_quote_request_the_supplier_named_by_command_gets_it_and_answers_with_a_quote(
    api: httpx.Client,
) -> None:
    outbox = Outbox()
    p = people(
        outbox,
        agent="acheteur-{run}@example.org",
        supplier="ventes-{run}@fournisseur.example.com",
        chief="chef-achats-{run}@example.org",
    )
    agent, supplier, chief = p["agent"], p["supplier"], p["chief"]
    guichet("admin", "user", agent.address, "--privileged", "--name", "Acheteur")
    subject = f"Demande de devis {uuid.uuid4().hex[:6]} : 12 écrans 27 pouces"

    # 1. The agent mails the queue; the commands name the supplier and the chief.
    request = mail(
        agent.address,
        subject,
        f"AddCc: {supplier.address}\nAddAdminCc: {chief.address}\n\n"
        "Bonjour,\nmerci de nous faire une offre pour 12 écrans 27 pouces.\n",
    )
    send(request)
    ticket = ticket_number(api, agent.address)
    [ack] = agent.wait_for(1)
    check_sent(ack, ticket=ticket, answers=request["Message-ID"], auto_submitted="auto-replied")
    only_to(ack, agent)
    [asked] = supplier.wait_for(1)  # not in the mail's Cc, yet an observer from the start
    check_sent(asked, ticket=ticket, answers=request["Message-ID"])
    only_to(asked, supplier)
    assert "merci de nous faire une offre" in text_of(asked)
    assert "AddCc" not in text_of(asked)  # the commands are not part of the message
    assert chief.address not in asked.as_string()  # an AdminCc's address stays hidden
    [chief_create] = chief.wait_for(1)
    check_sent(chief_create, ticket=ticket, answers=request["Message-ID"])

    # 2. The supplier just replies, with the quote: the agent (requestor) and the chief
    # get it with the file; the supplier gets no copy of their own mail.
    quote = mail(
        supplier.address,
        f"RE: {asked['Subject']}",
        "Bonjour,\nveuillez trouver notre devis : 4 200 € HT.\n",
        answering=asked,
        attachment=("devis-4200.pdf", QUOTE_PDF),
    )
    send(quote)
    [copy] = agent.wait_for(2)
    [chief_copy] = chief.wait_for(2)
    for received in (copy, chief_copy):
        check_sent(received, ticket=ticket, answers=quote["Message-ID"])
        [attached] = list(received.iter_attachments())
        assert attached.get_filename() == "devis-4200.pdf"
        assert attached.get_content() == QUOTE_PDF
    assert "4 200 €" in text_of(copy)

    # 3. An internal comment, by mail to the comment address: to the chief only.
    comment_text = f"Trop cher, négocier ({uuid.uuid4().hex[:6]})."
    comment = mail(agent.address, f"[example #{ticket}] {subject}", comment_text, to=ACHATS_COMMENT)
    send(comment)
    [chief_comment] = chief.wait_for(3)
    check_sent(chief_comment, ticket=ticket, answers=comment["Message-ID"], comment=True)
    assert comment_text in text_of(chief_comment)

    # 4. Negotiation: the agent answers the supplier, the supplier agrees.
    counter = mail(
        agent.address, f"RE: {copy['Subject']}", "Pouvez-vous faire 3 900 € ?\n", answering=copy
    )
    send(counter)
    [offer] = supplier.wait_for(2)
    check_sent(offer, ticket=ticket, answers=counter["Message-ID"])
    chief.wait_for(4)
    agreed = mail(
        supplier.address, f"RE: {offer['Subject']}", "D'accord pour 3 900 €.\n", answering=offer
    )
    send(agreed)
    [deal] = agent.wait_for(3)
    check_sent(deal, ticket=ticket, answers=agreed["Message-ID"])
    chief.wait_for(5)

    # 5. Resolved by a command in the agent's last mail.
    closing = mail(
        agent.address,
        f"RE: {deal['Subject']}",
        "Status: resolved\n\nMerci, la commande est passée.\n",
        answering=deal,
    )
    send(closing)
    [thanks] = supplier.wait_for(3)
    check_sent(thanks, ticket=ticket, answers=closing["Message-ID"])
    assert text_of(thanks).startswith("Merci, la commande est passée.")
    chief.wait_for(6)
    wait_until(
        lambda: api.get(f"/api/v1/tickets/{ticket}").json()["status"] == "resolved",
        STEP_TIMEOUT,
        "the ticket resolved",
    )

    # The agent resolved it and is the requestor: no notice to themselves.
    settle_then_check(p.values(), {"agent": 3, "supplier": 3, "chief": 6})
    for received in (*supplier.received, *agent.received):
        assert comment_text not in received.as_string()
        assert "[Commentaire]" not in received["Subject"]


# --- purchase request --------------------------------------------------------------------------


def test_purchase_request_from_dem_log_to_delivery_by_mail(api: httpx.Client) -> None:
    outbox = Outbox()
    p = people(
        outbox,
        requestor="demandeur-{run}@antenne.example.org",
        agent="acheteur-{run}@example.org",
        chief="chef-achats-{run}@example.org",
        tech="resp-technique-{run}@example.org",
        validator="validateur-{run}@example.org",
        supplier="ventes-{run}@fournisseur.example.com",
        freight="fret-{run}@example.org",
        forwarder="transitaire-{run}@transport.example.com",
    )
    requestor, agent, chief = p["requestor"], p["agent"], p["chief"]
    tech, validator, supplier = p["tech"], p["validator"], p["supplier"]
    freight, forwarder = p["freight"], p["forwarder"]
    guichet("admin", "user", agent.address, "--privileged", "--name", "Acheteur")
    dem_log = f"DL-{uuid.uuid4().hex[:6]}"

    # 1. The requestor asks, with the DEM LOG number; Guichet acknowledges.
    asking = mail(
        requestor.address,
        f"Achat de 3 portables pour l'antenne ({dem_log})",
        f"Bonjour,\ndemande saisie dans CODA sous le numéro {dem_log}.\n",
    )
    send(asking)
    ticket = ticket_number(api, requestor.address)
    [ack] = requestor.wait_for(1)
    check_sent(ack, ticket=ticket, answers=asking["Message-ID"], auto_submitted="auto-replied")
    assert f"[example #{ticket}]" in text_of(ack)

    def agent_writes(body: str, answering: EmailMessage) -> EmailMessage:
        sent = mail(agent.address, f"RE: {answering['Subject']}", body, answering=answering)
        send(sent)
        return sent

    def requestor_writes(body: str, answering: EmailMessage) -> EmailMessage:
        sent = mail(requestor.address, f"RE: {answering['Subject']}", body, answering=answering)
        send(sent)
        return sent

    # 2. The agent takes it, makes the chief AdminCc, records the DEM LOG, and asks.
    question = agent_writes(
        f"Owner: {agent.address}\nAddAdminCc: {chief.address}\nCF.{{DEM LOG}}: {dem_log}\n\n"
        "Quels modèles souhaitez-vous ?\n",
        ack,
    )
    [asked] = requestor.wait_for(2)
    check_sent(asked, ticket=ticket, answers=question["Message-ID"])
    assert text_of(asked).startswith("Quels modèles souhaitez-vous ?")
    chief.wait_for(1)

    # 3. The requestor answers: to the owner and the chief.
    answer = requestor_writes("Des 14 pouces, merci.\n", asked)
    [to_owner] = agent.wait_for(1)
    check_sent(to_owner, ticket=ticket, answers=answer["Message-ID"])
    assert "Des 14 pouces" in text_of(to_owner)
    chief.wait_for(2)

    # 4. The technical lead joins as Cc, then the financial validator, then the supplier.
    lead_in = agent_writes(
        f"AddCc: {tech.address}\n\nJe mets le responsable technique en copie.\n", to_owner
    )
    [tech_first] = tech.wait_for(1)
    check_sent(tech_first, ticket=ticket, answers=lead_in["Message-ID"])
    requestor.wait_for(3)
    chief.wait_for(3)
    order = f"CL-{uuid.uuid4().hex[:6]}"
    validate = agent_writes(
        f"CF.{{COM LOG}}: {order}\nAddCc: {validator.address}\n\n"
        f"Merci de valider la commande {order}.\n",
        tech_first,
    )
    [to_validate] = validator.wait_for(1)
    check_sent(to_validate, ticket=ticket, answers=validate["Message-ID"])
    tech.wait_for(2)
    requestor.wait_for(4)
    chief.wait_for(4)
    ordering = agent_writes(
        f"AddCc: {supplier.address}\n\nVeuillez trouver notre commande {order}.\n", to_validate
    )
    [the_order] = supplier.wait_for(1)
    check_sent(the_order, ticket=ticket, answers=ordering["Message-ID"])
    for person, count in ((requestor, 5), (tech, 3), (validator, 2), (chief, 5)):
        person.wait_for(count)

    # 5. An internal comment by mail: the chief only (the owner wrote it).
    comment_text = f"Fournisseur prévenu, livraison sous trois semaines ({order})."
    send(mail(agent.address, f"[example #{ticket}] note", comment_text, to=ACHATS_COMMENT))
    [noted] = chief.wait_for(6)
    assert noted["X-Envelope-From"] == f"<{ACHATS_COMMENT}>"

    # 6. Delivered: the supplier goes, the freight people come.
    shipping = agent_writes(
        f"DelCc: {supplier.address}\nAddCc: {freight.address}\nAddCc: {forwarder.address}\n\n"
        "Le matériel est à expédier à Dakar.\n",
        the_order,
    )
    for person, count in ((freight, 1), (forwarder, 1), (requestor, 6), (tech, 4)):
        [shipped] = person.wait_for(count)
        check_sent(shipped, ticket=ticket, answers=shipping["Message-ID"])
    validator.wait_for(3)
    chief.wait_for(7)

    # 7. The requestor reports receipt; the agent resolves the ticket by mail.
    received = requestor_writes("Matériel bien reçu, merci.\n", requestor.received[-1])
    [receipt] = agent.wait_for(2)
    check_sent(receipt, ticket=ticket, answers=received["Message-ID"])
    for person, count in ((tech, 5), (validator, 4), (freight, 2), (forwarder, 2), (chief, 8)):
        person.wait_for(count)
    closing = agent_writes(
        "Status: resolved\n\nLivré et réceptionné, je clos la demande.\n", receipt
    )
    closing_mails = requestor.wait_for(8)  # the last message, and the resolution notice
    notice = next(m for m in closing_mails if "Résolu" in m["Subject"])
    last = next(m for m in closing_mails if m is not notice)
    check_sent(last, ticket=ticket, answers=closing["Message-ID"])
    check_sent(notice, ticket=ticket, answers=None)
    assert notice["Subject"].startswith(f"[example #{ticket}] Résolu : ")
    for person, count in ((tech, 6), (validator, 5), (freight, 3), (forwarder, 3), (chief, 9)):
        person.wait_for(count)

    final = api.get(f"/api/v1/tickets/{ticket}").json()
    assert final["status"] == "resolved"
    assert final["owner"] == agent.address
    assert final["ccs"] == [tech.address, validator.address, freight.address, forwarder.address]
    assert custom_fields(ticket) == {"DEM LOG": dem_log, "COM LOG": order}

    settle_then_check(
        p.values(),
        {
            "requestor": 8, "agent": 2, "chief": 9, "tech": 6, "validator": 5, "supplier": 1,
            "freight": 3, "forwarder": 3,
        },
    )  # fmt: skip
    outsiders = (requestor, tech, validator, supplier, freight, forwarder)
    for person in outsiders:
        for received_mail in person.received or person.outbox.mails_to(person.address):
            assert comment_text not in received_mail.as_string()
            assert received_mail["X-Envelope-From"] == f"<{ACHATS}>"
