"""Realistic sample payloads for every event and RPC model (contract tests only).

Values are fixed (no ``now()``, no random ids) so that a failing comparison shows the same
data on every run. A new event in ``ALL_EVENTS`` or a new RPC model needs a sample here:
the tests say so when one is missing.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from pydantic import BaseModel

from shared.events import (
    TICKET_TXN_EVENTS,
    Envelope,
    EventPayload,
    LoopFacts,
    MailReceived,
    TicketTxnEvent,
)
from shared.events.notify import DeliveryFailed
from shared.events.ticket import (
    AttachmentInfo,
    AuthenticationInfo,
    MailCommandOutcome,
    MailFacts,
    MessageInfo,
    QueueInfo,
    TicketSnapshot,
    TransactionInfo,
)
from shared.rpc import notify as rpc_notify
from shared.rpc import search as rpc_search
from shared.rpc import tickets as rpc_tickets

RECEIVED_AT = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
CREATED_AT = datetime(2025, 3, 14, 9, 26, 54, 12000, tzinfo=UTC)
UPDATED_AT = datetime(2025, 3, 17, 16, 2, 5, 744000, tzinfo=UTC)

EVENT_ID = uuid.UUID("0b6f1d7e-3c1a-4a53-9d0e-6a2f6f4d9a01")
TXN_ID = "5e0c2a4b-8f7d-4b0e-9a51-2c3d4e5f6a7b"
CORRELATION_ID = "smtp-2f1e0d9c-8b7a-4c5d-9e6f-0a1b2c3d4e5f"

QUEUE_ADDRESS = "achats@guichet.example.org"
COMMENT_ADDRESS = "achats-comment@guichet.example.org"
REQUESTOR = "claire.dubois@example.com"

RAW_MAIL = (
    b"Return-Path: <claire.dubois@example.com>\r\n"
    b"From: =?utf-8?q?Claire_Dubois?= <claire.dubois@example.com>\r\n"
    b"To: Achats <achats@guichet.example.org>\r\n"
    b"Cc: compta@example.com\r\n"
    b"Subject: =?utf-8?q?Demande_d=27achat_=3A_=C3=A9cran_27_pouces?=\r\n"
    b"Date: Fri, 14 Mar 2025 10:26:41 +0100\r\n"
    b"Message-ID: <20250314102641.4f2a@mail.example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Bonjour,\r\n"
    b"\r\n"
    b"Pourriez-vous commander un \xc3\xa9cran 27 pouces pour le poste d'accueil ?\r\n"
    b"Budget : 350 \xe2\x82\xac HT.\r\n"
    b"\r\n"
    b"Merci,\r\n"
    b"Claire\r\n"
)
RAW_SHA256 = hashlib.sha256(RAW_MAIL).hexdigest()


def _mail_key(recipient: str) -> str:
    # The same formula as services.ingest.smtp_handler.mail_key.
    return hashlib.sha256(f"{RAW_SHA256}\0{recipient}".encode()).hexdigest()


# events -----------------------------------------------------------------------------------


def mail_received(**changes: Any) -> MailReceived:
    fields: dict[str, Any] = {
        "mail_key": _mail_key(QUEUE_ADDRESS),
        "raw_sha256": RAW_SHA256,
        "raw_size": len(RAW_MAIL),
        "raw_b64": base64.b64encode(RAW_MAIL).decode("ascii"),
        "spool_ref": f"spool:{RAW_SHA256}",
        "mail_from": REQUESTOR,
        "recipient": QUEUE_ADDRESS,
        "recipient_kind": "correspond",
        "queue": "achats",
        "all_recipients": (QUEUE_ADDRESS,),
        "peer": "192.0.2.25",
        "helo": "mail.example.com",
        "received_at": RECEIVED_AT,
        "loop": LoopFacts(),
    }
    return MailReceived(**{**fields, **changes})


def ticket_snapshot(**changes: Any) -> TicketSnapshot:
    fields: dict[str, Any] = {
        "id": 42,
        "queue": "achats",
        "subject": "Demande d'achat : écran 27 pouces",
        "status": "open",
        "owner": "marc.lefebvre@example.org",
        "requestors": (REQUESTOR,),
        "ccs": ("compta@example.com",),
        "admin_ccs": ("direction@example.org",),
        "priority": 20,
        "created": CREATED_AT,
        "updated": UPDATED_AT,
        "resolved": None,
        "version": 3,
    }
    return TicketSnapshot(**{**fields, **changes})


def queue_info() -> QueueInfo:
    return QueueInfo(
        name="achats",
        correspond_address=QUEUE_ADDRESS,
        comment_address=COMMENT_ADDRESS,
        rtname="guichet.example.org",
        language="fr",
    )


def message_info() -> MessageInfo:
    return MessageInfo(
        message_id="<20250317170158.91ab@mail.example.com>",
        subject="Re: [guichet.example.org #42] Demande d'achat : écran 27 pouces",
        from_address=REQUESTOR,
        to=(QUEUE_ADDRESS,),
        cc=("compta@example.com",),
        text="Voici le devis du fournisseur, en pièce jointe.\n",
        attachments=(
            AttachmentInfo(
                filename="devis-2025-0317.pdf",
                content_type="application/pdf",
                size=48213,
                sha256=hashlib.sha256(b"devis-2025-0317.pdf").hexdigest(),
            ),
        ),
    )


def ticket_txn(payload_type: type[TicketTxnEvent], **changes: Any) -> TicketTxnEvent:
    kind = payload_type.event_type.removeprefix("ticket.txn.")
    first = kind == "create"
    fields: dict[str, Any] = {
        "ticket": ticket_snapshot(
            status="new" if first else "open",
            owner="Nobody" if first else "marc.lefebvre@example.org",
            updated=CREATED_AT if first else UPDATED_AT,
            version=1 if first else 3,
        ),
        "transaction": TransactionInfo(
            id=TXN_ID,
            seq=1 if first else 3,
            type=kind,
            creator=REQUESTOR,
            created=CREATED_AT if first else UPDATED_AT,
            message=message_info(),
            old_value=None if first else "stalled",
            new_value=None if first else "open",
            note="new ticket: no ticket tag in the subject" if first else "subject tag #42",
            mail=MailFacts(
                sender=REQUESTOR,
                authentication=AuthenticationInfo(
                    verdict="pass", authserv_id="mx.example.org", dkim="pass", dmarc="pass"
                ),
                commands=(
                    MailCommandOutcome(
                        line="AddCc: ventes@fournisseur.example.com",
                        command="AddCc",
                        outcome="applied",
                    ),
                    MailCommandOutcome(
                        line="Owner: marc.lefebvre@example.org",
                        command="Owner",
                        outcome="refused",
                        reason="commands by mail are for agents only",
                    ),
                ),
                ccs_added=("compta@fournisseur.example.com",),
            ),
        ),
        "queue": queue_info(),
        "loop": LoopFacts(),
        "source_mail_key": _mail_key(QUEUE_ADDRESS),
    }
    return payload_type(**{**fields, **changes})


def delivery_failed() -> DeliveryFailed:
    return DeliveryFailed(
        ticket=42,
        queue="achats",
        transaction=TXN_ID,
        recipient="ventes@fournisseur.example.com",
        rule="on_correspond_notify_requestors_and_ccs",
        template="correspondence",
        message_id=f"<guichet.guichet.example.org.42.{TXN_ID}.3b2c1d0e9f@guichet.example.org>",
        smtp_code=550,
        error="550 5.1.1 <ventes@fournisseur.example.com>: Recipient address rejected",
        failed_at=UPDATED_AT,
    )


EVENT_SAMPLES: dict[type[EventPayload], Callable[[], EventPayload]] = {
    MailReceived: mail_received,
    **{cls: partial(ticket_txn, cls) for cls in TICKET_TXN_EVENTS.values()},
    DeliveryFailed: delivery_failed,
}


def event_sample(payload_type: type[EventPayload]) -> EventPayload:
    try:
        factory = EVENT_SAMPLES[payload_type]
    except KeyError:
        raise AssertionError(
            f"no sample for {payload_type.__name__} ({payload_type.event_type}): "
            "add one to tests/contract/samples.py"
        ) from None
    return factory()


def envelope(payload: EventPayload, *, producer: str = "tests") -> Envelope[Any]:
    return Envelope.wrap(
        payload,
        producer=producer,
        correlation_id=CORRELATION_ID,
        causation_id="3f9a1c2e-7b6d-4e5f-8a9b-0c1d2e3f4a5b",
        event_id=EVENT_ID,
        occurred_at=UPDATED_AT,
    )


# RPC models -------------------------------------------------------------------------------

_ACTOR = "marc.lefebvre@example.org"

RPC_SAMPLES: dict[type[BaseModel], Callable[[], BaseModel]] = {
    rpc_tickets.MailRoute: lambda: rpc_tickets.MailRoute(queue="achats", kind="correspond"),
    rpc_tickets.MailRoutes: lambda: rpc_tickets.MailRoutes(
        rtname="guichet.example.org",
        extra_rtnames=("helpdesk.example.org",),
        routes={
            QUEUE_ADDRESS: rpc_tickets.MailRoute(queue="achats", kind="correspond"),
            COMMENT_ADDRESS: rpc_tickets.MailRoute(queue="achats", kind="comment"),
        },
    ),
    rpc_tickets.TicketRef: lambda: rpc_tickets.TicketRef(actor=_ACTOR, id=42),
    rpc_tickets.TicketView: lambda: rpc_tickets.TicketView(
        actor=_ACTOR, id=42, known=12, known_digest="5d1c0e3f9a2b4c6d8e7f1a2b3c4d5e6f", desk=True
    ),
    rpc_tickets.TicketViewAnswer: lambda: rpc_tickets.TicketViewAnswer(
        ticket=ticket_snapshot().model_dump(mode="json"),
        history=[
            {
                "id": TXN_ID,
                "seq": 13,
                "type": "correspond",
                "creator": REQUESTOR,
                "created": UPDATED_AT.isoformat(),
                "old_value": None,
                "new_value": None,
                "note": None,
                "message": None,
                "mail": None,
                "text": "Merci, le devis nous convient.",
            }
        ],
        history_from=12,
        history_digest="0c8e1f2a3b4d5e6f7a8b9c0d1e2f3a4b",
        bookmarked=True,
        queues=[
            rpc_tickets.QueuePublic(
                name="achats",
                correspond_address=QUEUE_ADDRESS,
                comment_address=COMMENT_ADDRESS,
                custom_fields=(rpc_tickets.CustomFieldSpec(name="DEM LOG", type="text"),),
            ).model_dump(mode="json")
        ],
        responses=[
            rpc_tickets.OwnedItem(
                id="7c9e6679742540de944be07fc1f90ae7",
                owner=_ACTOR,
                groups=("achats-agents",),
                updated=UPDATED_AT,
                body={"name": "Devis reçu", "text": "Bonjour, nous avons bien reçu votre devis."},
            ).model_dump(mode="json")
        ],
    ),
    rpc_tickets.GrantChange: lambda: rpc_tickets.GrantChange(
        actor=_ACTOR, right="ModifyTicket", kind="group", name="achats-agents", queue="achats"
    ),
    rpc_tickets.ActorOnly: lambda: rpc_tickets.ActorOnly(actor=_ACTOR),
    rpc_tickets.BookmarkChange: lambda: rpc_tickets.BookmarkChange(
        actor=_ACTOR, action="add", ticket=42
    ),
    rpc_tickets.ReminderChange: lambda: rpc_tickets.ReminderChange(
        actor=_ACTOR, action="add", ticket=42, subject="Relancer le fournisseur", due="2026-12-01"
    ),
    rpc_tickets.CreateTicket: lambda: rpc_tickets.CreateTicket(
        command_id="web-2b7e151628aed2a6",
        actor=_ACTOR,
        queue="achats",
        subject="Demande de devis : 12 écrans",
        text="Bonjour, merci de nous faire une offre.",
        ccs=("fournisseur@supplier.example",),
        custom_fields={"DEM LOG": "2026-0042"},
    ),
    rpc_tickets.CustomFieldSpec: lambda: rpc_tickets.CustomFieldSpec(
        name="Fournisseur retenu", type="select", values=("Dell", "Lenovo")
    ),
    rpc_tickets.TicketCommand: lambda: rpc_tickets.TicketCommand(
        command_id="web-6f1c2a9e-5b0d-4c8e-9a47-1f2e3d4c5b6a",
        actor=_ACTOR,
        ticket=42,
        action="set_status",
        status="resolved",
        text="Commande livrée et réceptionnée.",
    ),
    rpc_tickets.CommandResult: lambda: rpc_tickets.CommandResult(
        ticket=ticket_snapshot().model_dump(mode="json"), transaction=TXN_ID
    ),
    rpc_tickets.ListTickets: lambda: rpc_tickets.ListTickets(
        actor=_ACTOR, requestor=REQUESTOR, queue="achats", status="open", limit=20, offset=40
    ),
    rpc_tickets.AttachmentRef: lambda: rpc_tickets.AttachmentRef(actor=_ACTOR, sha256="ab" * 32),
    rpc_tickets.AttachmentContent: lambda: rpc_tickets.AttachmentContent(
        sha256="ab" * 32,
        filename="devis-2026-118.pdf",
        content_type="application/pdf",
        content_b64="JVBERi0xLjQK",
    ),
    rpc_tickets.Credentials: lambda: rpc_tickets.Credentials(
        email=_ACTOR, password="correct horse battery staple"
    ),
    rpc_tickets.UserPublic: lambda: rpc_tickets.UserPublic(
        email=_ACTOR, name="Marc Lefebvre", privileged=True, is_admin=False, language="fr"
    ),
    rpc_tickets.SetInstance: lambda: rpc_tickets.SetInstance(
        actor=rpc_tickets.SYSTEM_ACTOR,
        rtname="guichet.example.org",
        extra_rtnames=("helpdesk.example.org",),
    ),
    rpc_tickets.UpsertQueue: lambda: rpc_tickets.UpsertQueue(
        actor=rpc_tickets.SYSTEM_ACTOR,
        name="achats",
        correspond_address=QUEUE_ADDRESS,
        comment_address=COMMENT_ADDRESS,
        language="fr",
        description="Demandes d'achat et devis",
    ),
    rpc_tickets.UpsertUser: lambda: rpc_tickets.UpsertUser(
        actor=rpc_tickets.SYSTEM_ACTOR,
        email=_ACTOR,
        name="Marc Lefebvre",
        password="correct horse battery staple",
        privileged=True,
        is_admin=False,
        language="fr",
    ),
    rpc_tickets.QueueScope: lambda: rpc_tickets.QueueScope(queues=("achats", "compta")),
    rpc_tickets.RightReach: lambda: _right_reach(),
    rpc_tickets.Visibility: lambda: rpc_tickets.Visibility(
        email=REQUESTOR,
        is_admin=False,
        show_ticket=_right_reach(),
        show_comments=rpc_tickets.RightReach(
            direct=rpc_tickets.QueueScope(),
            roles={"AdminCc": rpc_tickets.QueueScope(queues=("achats",))},
        ),
    ),
    rpc_tickets.ExportRequest: lambda: rpc_tickets.ExportRequest(
        actor=rpc_tickets.SYSTEM_ACTOR, reply_to="guichet.search.rebuild.3f9a1c2e", batch_size=500
    ),
    rpc_tickets.ExportStarted: lambda: rpc_tickets.ExportStarted(
        export_id=_EXPORT_ID, tickets=1843, transactions=12977
    ),
    rpc_tickets.ExportedMessage: lambda: _exported_message(),
    rpc_tickets.ExportBatch: lambda: rpc_tickets.ExportBatch(
        export_id=_EXPORT_ID,
        kind="messages",
        messages=[_exported_message()],
        sent_tickets=1843,
        sent_messages=501,
    ),
    rpc_notify.QueueRef: lambda: rpc_notify.QueueRef(
        actor=rpc_tickets.SYSTEM_ACTOR, queue="achats"
    ),
    rpc_notify.SetRule: lambda: rpc_notify.SetRule(
        actor=rpc_tickets.SYSTEM_ACTOR,
        queue="achats",
        rule="on_create_autoreply_to_requestors",
        enabled=False,
    ),
    rpc_notify.SetTemplate: lambda: rpc_notify.SetTemplate(
        actor=rpc_tickets.SYSTEM_ACTOR,
        queue="achats",
        template="autoreply",
        language="fr",
        subject="Bien reçu : {{ ticket.subject }}",
        body="Bonjour,\n\nVotre demande est enregistrée sous {{ tag }}.\n",
    ),
    rpc_notify.TemplateRef: lambda: rpc_notify.TemplateRef(
        actor=rpc_tickets.SYSTEM_ACTOR, queue="achats", template="autoreply", language="en"
    ),
    rpc_notify.SetOptions: lambda: rpc_notify.SetOptions(
        actor=rpc_tickets.SYSTEM_ACTOR, queue="achats", notify_actor=True
    ),
    rpc_notify.RulePublic: lambda: _notify_rule(),
    rpc_notify.TemplatePublic: lambda: _notify_template(),
    rpc_notify.QueueNotifications: lambda: rpc_notify.QueueNotifications(
        queue="achats",
        notify_actor=False,
        rules=(_notify_rule(),),
        templates=(_notify_template(),),
        variables=("tag: the ticket's [rtname #id]",),
    ),
    rpc_notify.ActorOnly: lambda: rpc_notify.ActorOnly(actor=rpc_tickets.SYSTEM_ACTOR),
    rpc_notify.FailingAddress: lambda: rpc_notify.FailingAddress(
        address="ventes@fournisseur.example.com",
        first_failed=CREATED_AT,
        last_failed=UPDATED_AT,
        tickets=(42, 57),
        reason="550 5.1.1 Recipient address rejected",
    ),
    rpc_tickets.TokenChange: lambda: rpc_tickets.TokenChange(
        actor=_ACTOR, action="create", name="relances du lundi"
    ),
    rpc_tickets.TokenPublic: lambda: rpc_tickets.TokenPublic(
        id="3f9a1c0b7e2d4a65",
        name="relances du lundi",
        created=CREATED_AT,
        last_used=UPDATED_AT,
        secret="gch_" + "A" * 43,
    ),
    rpc_tickets.TokenCredentials: lambda: rpc_tickets.TokenCredentials(token="gch_" + "A" * 43),
    rpc_tickets.QueuePublic: lambda: rpc_tickets.QueuePublic(
        name="achats",
        correspond_address=QUEUE_ADDRESS,
        comment_address=COMMENT_ADDRESS,
        description="Demandes d'achat et devis",
        custom_fields=(rpc_tickets.CustomFieldSpec(name="DEM_LOG", type="text"),),
        admin_ccs=("chef.achats@example.org",),
    ),
    rpc_tickets.UserRef: lambda: rpc_tickets.UserRef(actor=_ACTOR, email=REQUESTOR),
    rpc_tickets.UserDetails: lambda: rpc_tickets.UserDetails(
        email=_ACTOR,
        name="Marc Lefebvre",
        privileged=True,
        groups=("acheteurs",),
        has_password=True,
        signature="Marc Lefebvre\nService achats — poste 4127",
        home_layout=("mine", "reminders", "unowned", "saved_searches"),
    ),
    rpc_tickets.ListUsers: lambda: rpc_tickets.ListUsers(
        actor=_ACTOR, q="lefeb", limit=20, offset=40
    ),
    rpc_tickets.UserList: lambda: rpc_tickets.UserList(
        total=41,
        items=(
            rpc_tickets.UserDetails(
                email=_ACTOR,
                name="Marc Lefebvre",
                privileged=True,
                groups=("acheteurs",),
                has_password=True,
            ),
        ),
    ),
    rpc_tickets.GroupPublic: lambda: rpc_tickets.GroupPublic(
        name="acheteurs", members=(_ACTOR, "sophie.martin@example.org")
    ),
    rpc_tickets.PreferencesChange: lambda: rpc_tickets.PreferencesChange(
        actor=_ACTOR,
        language="en",
        home_layout=("mine", "bookmarks", "dashboard"),
    ),
    rpc_tickets.NewAttachment: lambda: rpc_tickets.NewAttachment(
        filename="devis-2026-118.pdf",
        content_type="application/pdf",
        content_b64="JVBERi0xLjQK",
    ),
    rpc_tickets.ResponseBody: lambda: _canned_response(),
    rpc_tickets.ResponseChange: lambda: rpc_tickets.ResponseChange(
        actor=_ACTOR, action="put", id="0e" * 16, body=_canned_response()
    ),
    rpc_tickets.SavedSearchBody: lambda: _saved_search(),
    rpc_tickets.Widget: lambda: rpc_tickets.Widget(
        kind="by_status", saved_search="0f" * 16, title="Mes demandes"
    ),
    rpc_tickets.DashboardBody: lambda: _dashboard(),
    rpc_tickets.SavedSearchChange: lambda: rpc_tickets.SavedSearchChange(
        actor=_ACTOR, action="put", body=_saved_search()
    ),
    rpc_tickets.DashboardChange: lambda: rpc_tickets.DashboardChange(
        actor=_ACTOR, action="put", id="0f" * 16, body=_dashboard()
    ),
    rpc_tickets.OwnedItem: lambda: rpc_tickets.OwnedItem(
        id="0f" * 16,
        owner=_ACTOR,
        groups=("acheteurs",),
        updated=UPDATED_AT,
        body=_saved_search().model_dump(mode="json"),
    ),
    rpc_search.Principal: lambda: rpc_search.Principal(email=_ACTOR),
    rpc_search.SearchTickets: lambda: rpc_search.SearchTickets(
        principal=rpc_search.Principal(email=_ACTOR),
        q="écran status:open queue:achats",
        limit=25,
        offset=0,
        sort=(rpc_search.SortKey(field="updated", order="desc"),),
    ),
    rpc_search.TextCondition: lambda: rpc_search.TextCondition(text="bon de commande", phrase=True),
    rpc_search.ExactCondition: lambda: rpc_search.ExactCondition(
        field="status", values=("new", "open")
    ),
    rpc_search.RangeCondition: lambda: rpc_search.RangeCondition(
        field="created", gte="2026-01-01", lt="now"
    ),
    rpc_search.HasCondition: lambda: rpc_search.HasCondition(what="attachment"),
    rpc_search.AllOf: lambda: _search_condition(),
    rpc_search.AnyOf: lambda: rpc_search.AnyOf(
        of=(
            rpc_search.ExactCondition(field="queue", values=("achats",)),
            rpc_search.ExactCondition(field="cf.DEM_LOG", values=("1234",)),
        )
    ),
    rpc_search.NotCondition: lambda: rpc_search.NotCondition(
        condition=rpc_search.ExactCondition(field="status", values=("resolved",))
    ),
    rpc_search.SortKey: lambda: rpc_search.SortKey(field="relevance"),
    rpc_search.AdvancedSearch: lambda: rpc_search.AdvancedSearch(
        principal=rpc_search.Principal(email=_ACTOR),
        query=_search_condition(),
        sort=(rpc_search.SortKey(field="created", order="asc"),),
        limit=50,
        search_after=("2026-05-04T09:30:00.000Z", 42),
    ),
    rpc_search.Highlight: lambda: _highlight(),
    rpc_search.SearchHit: lambda: _search_hit(),
    rpc_search.SearchResult: lambda: rpc_search.SearchResult(total=1, items=[_search_hit()]),
    rpc_search.SearchAttachments: lambda: rpc_search.SearchAttachments(
        principal=rpc_search.Principal(email=_ACTOR),
        text="écran 27 pouces",
        sender="ventes@fournisseur.example.com",
        queue="achats",
        file_type="pdf",
        sent_after="2026-01-01",
    ),
    rpc_search.AttachmentHit: lambda: _attachment_hit(),
    rpc_search.AttachmentResult: lambda: rpc_search.AttachmentResult(
        total=1, items=[_attachment_hit()]
    ),
    rpc_search.Aggregate: lambda: rpc_search.Aggregate(
        principal=rpc_search.Principal(email=_ACTOR), q="queue:achats", weeks=12
    ),
    rpc_search.Counts: lambda: rpc_search.Counts(q="queue:achats", weeks=4),
    rpc_search.QuickSearch: lambda: rpc_search.QuickSearch(q="owner:me status:active", limit=15),
    rpc_search.SearchMany: lambda: rpc_search.SearchMany(
        principal=rpc_search.Principal(email=_ACTOR),
        tickets=(
            rpc_search.QuickSearch(q="owner:me status:active", limit=15),
            rpc_search.QuickSearch(q="owner:nobody status:active", limit=15),
        ),
        counts=(rpc_search.Counts(q="status:active", weeks=4),),
    ),
    rpc_search.ManyResults: lambda: rpc_search.ManyResults(
        tickets=[rpc_search.SearchResult(total=0, items=[])],
        counts=[
            rpc_search.Aggregation(
                total=0,
                by_status=[],
                by_queue=[],
                by_owner=[],
                created_per_week=[],
                resolved_per_week=[],
                resolution_seconds={"50": None},
            )
        ],
    ),
    rpc_search.Bucket: lambda: rpc_search.Bucket(key="open", count=12),
    rpc_search.Aggregation: lambda: rpc_search.Aggregation(
        total=20,
        by_status=[rpc_search.Bucket(key="open", count=12), rpc_search.Bucket(key="new", count=8)],
        by_queue=[rpc_search.Bucket(key="achats", count=20)],
        by_owner=[rpc_search.Bucket(key=_ACTOR, count=5)],
        created_per_week=[rpc_search.Bucket(key="2026-11-23", count=7)],
        resolved_per_week=[rpc_search.Bucket(key="2026-11-23", count=3)],
        resolution_seconds={"50": 86400.0, "95": None},
    ),
}


_EXPORT_ID = "9c4e2b7a1d3f4e5a8b6c0d1e2f3a4b5c"


def _saved_search() -> rpc_tickets.SavedSearchBody:
    return rpc_tickets.SavedSearchBody(
        name="Devis en attente",
        q="devis status:stalled queue:achats",
        sort=({"field": "updated", "order": "desc"},),
        shared_with_groups=True,
    )


def _canned_response() -> rpc_tickets.ResponseBody:
    return rpc_tickets.ResponseBody(
        name="Devis reçu",
        text="Bonjour,\n\nNous avons bien reçu votre devis et revenons vers vous sous 48 h.",
        shared_with_groups=True,
    )


def _dashboard() -> rpc_tickets.DashboardBody:
    return rpc_tickets.DashboardBody(
        name="Achats",
        widgets=(
            rpc_tickets.Widget(kind="search", saved_search="0f" * 16),
            rpc_tickets.Widget(kind="created_resolved", title="Créés et résolus"),
        ),
    )


def _search_condition() -> rpc_search.AllOf:
    return rpc_search.AllOf(
        of=(
            rpc_search.TextCondition(text="écran"),
            rpc_search.ExactCondition(field="queue", values=("achats",)),
            rpc_search.NotCondition(
                condition=rpc_search.ExactCondition(field="status", values=("resolved",))
            ),
        )
    )


def _highlight() -> rpc_search.Highlight:
    return rpc_search.Highlight(
        where="attachment",
        fragments=("Offre de prix : <mark>écran</mark> 27 pouces",),
        transaction=TXN_ID,
        filename="devis.pdf",
    )


def _search_hit() -> rpc_search.SearchHit:
    return rpc_search.SearchHit(
        id=42,
        subject="Demande d'achat : écran 27 pouces",
        status="open",
        queue="achats",
        owner=_ACTOR,
        requestors=(REQUESTOR,),
        priority=2,
        created=CREATED_AT,
        updated=UPDATED_AT,
        highlights=(_highlight(),),
        sort=(3.5, 42),
    )


def _attachment_hit() -> rpc_search.AttachmentHit:
    return rpc_search.AttachmentHit(
        ticket=42,
        transaction=TXN_ID,
        filename="devis.pdf",
        content_type="application/pdf",
        size=204_800,
        sha256="a" * 64,
        sender="ventes@fournisseur.example.com",
        sent=UPDATED_AT,
        extraction="ok",
        fragments=("<mark>écran</mark> 27 pouces",),
        sort=(1764064800000, TXN_ID),
    )


def _right_reach() -> rpc_tickets.RightReach:
    """A user's reach: the queue of their group, and the tickets they request or are Cc on."""
    return rpc_tickets.RightReach(
        direct=rpc_tickets.QueueScope(queues=("achats",)),
        roles={
            "Requestor": rpc_tickets.QueueScope(every_queue=True),
            "Cc": rpc_tickets.QueueScope(every_queue=True),
        },
    )


def _exported_message() -> rpc_tickets.ExportedMessage:
    event = ticket_txn(TICKET_TXN_EVENTS["ticket.txn.correspond"])
    return rpc_tickets.ExportedMessage(ticket=event.ticket.id, transaction=event.transaction)


def _notify_rule() -> rpc_notify.RulePublic:
    return rpc_notify.RulePublic(
        name="on_create_autoreply_to_requestors",
        description="On create, acknowledge to the requestors",
        template="autoreply",
        enabled=True,
        default_enabled=True,
    )


def _notify_template() -> rpc_notify.TemplatePublic:
    return rpc_notify.TemplatePublic(
        name="autoreply",
        language="fr",
        subject="{{ ticket.subject }}",
        body="Bonjour,\n\nVotre demande est enregistrée sous {{ tag }}.\n",
        customised=True,
    )


def rpc_sample(model: type[BaseModel]) -> BaseModel:
    try:
        factory = RPC_SAMPLES[model]
    except KeyError:
        raise AssertionError(
            f"no sample for RPC model {model.__module__}.{model.__name__}: "
            "add one to tests/contract/samples.py"
        ) from None
    return factory()
