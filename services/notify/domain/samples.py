"""A transaction with every field set (pure data): what an administrator's template is
checked against before it is saved."""

from __future__ import annotations

from datetime import UTC, datetime

from services.notify.domain.forwarding import HistoryEntry
from shared.events.ticket import (
    AttachmentInfo,
    MailCommandOutcome,
    MailFacts,
    MessageInfo,
    QueueInfo,
    TicketCorresponded,
    TicketSnapshot,
    TransactionInfo,
)

_WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
_QUOTE = AttachmentInfo(
    filename="devis.pdf", content_type="application/pdf", size=48_213, sha256="0" * 64
)

SAMPLE_EVENT = TicketCorresponded(
    ticket=TicketSnapshot(
        id=42,
        queue="achats",
        subject="Demande de devis : 12 écrans",
        status="open",
        owner="acheteur@example.org",
        requestors=("demandeur@example.net",),
        ccs=("ventes@fournisseur.example.com",),
        admin_ccs=("chef@example.org",),
        custom_fields={"DEM LOG": "DL-2026-118"},
        due="2026-03-31",
        created=_WHEN,
        updated=_WHEN,
        version=3,
    ),
    transaction=TransactionInfo(
        id="00000000-0000-4000-8000-000000000042",
        seq=3,
        type="correspond",
        creator="ventes@fournisseur.example.com",
        created=_WHEN,
        message=MessageInfo(
            message_id="<devis-42@fournisseur.example.com>",
            subject="RE: [example #42] Demande de devis : 12 écrans",
            from_address="ventes@fournisseur.example.com",
            to=("achats@example.org",),
            text="Bonjour,\nveuillez trouver notre devis ci-joint.",
            html="<p>Bonjour,<br>veuillez trouver notre devis ci-joint.</p>",
            attachments=(_QUOTE,),
        ),
        old_value="new",
        new_value="open",
        note="subject tag #42",
        mail=MailFacts(
            sender="ventes@fournisseur.example.com",
            commands=(
                MailCommandOutcome(
                    line="Status: resolved",
                    command="Status",
                    outcome="refused",
                    reason="commands by mail are for agents only",
                ),
            ),
        ),
    ),
    queue=QueueInfo(
        name="achats",
        correspond_address="achats@example.org",
        comment_address="achats-comment@example.org",
        rtname="example",
    ),
)

SAMPLE_HISTORY = (
    HistoryEntry(_WHEN, "acheteur@example.org", "create", "Merci de nous faire une offre."),
    HistoryEntry(_WHEN, "ventes@fournisseur.example.com", "correspond", "Devis joint.", (_QUOTE,)),
)
