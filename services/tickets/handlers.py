"""FastStream wiring of the tickets service: the mail consumer and the RPC endpoints."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.rabbit import RabbitBroker
from pydantic import BaseModel

from services.tickets.service import TicketService
from shared.events.envelope import AnyEnvelope, Envelope, EventPayload
from shared.events.mail import MailReceived
from shared.events.notify import DeliveryFailed
from shared.events.ticket import TICKET_TXN_EVENTS
from shared.messaging import register_consumer, register_rpc
from shared.rpc import tickets as rpc
from shared.topology import EVENTS_EXCHANGE, TICKETS_DELIVERIES, TICKETS_MAIL, ConsumerQueue


def _endpoint(
    model: type[BaseModel], method: Callable[[Any], Awaitable[Any]]
) -> Callable[[dict[str, Any]], Awaitable[Any]]:
    async def handle(body: dict[str, Any]) -> Any:
        return await method(model.model_validate(body))

    return handle


def register(
    broker: RabbitBroker, service: TicketService | None, *, publish_timeout: float
) -> None:
    """Subscribe every handler; ``service`` may be None when only documenting (AsyncAPI)."""

    consumers: list[tuple[ConsumerQueue, type[EventPayload], str, str]] = [
        (TICKETS_MAIL, MailReceived, "on_mail_received", "Records each received mail on a "
         "new or existing ticket."),
        (TICKETS_DELIVERIES, DeliveryFailed, "on_delivery_failed", "Records on its ticket "
         "each mail the smarthost refused for good."),
    ]  # fmt: skip
    for queue, payload_type, method_name, description in consumers:

        async def consume(
            envelope: AnyEnvelope,
            payload_type: type[EventPayload] = payload_type,
            method_name: str = method_name,
        ) -> None:
            assert service is not None
            await getattr(service, method_name)(envelope.decode(payload_type))

        register_consumer(
            broker,
            queue,
            consume,
            service="tickets",
            publish_timeout=publish_timeout,
            description=description,
        )

    def call(name: str) -> Callable[..., Awaitable[Any]]:
        async def method(*args: Any) -> Any:
            assert service is not None
            return await getattr(service, name)(*args)

        return method

    async def mail_routes(_: dict[str, Any]) -> Any:
        return await call("mail_routes")()

    endpoints: list[tuple[str, Callable[[dict[str, Any]], Awaitable[Any]], str]] = [
        (rpc.MAIL_ROUTES, mail_routes, "Queue addresses ingest accepts, and the rtname."),
        (rpc.GET_TICKET, _endpoint(rpc.TicketRef, call("get_ticket")), "One ticket, if visible."),
        (rpc.LIST_TICKETS, _endpoint(rpc.ListTickets, call("list_tickets")), "Tickets, filtered."),
        (rpc.CREATE_TICKET, _endpoint(rpc.CreateTicket, call("create")), "Open a ticket."),
        (rpc.BOOKMARKS, _endpoint(rpc.BookmarkChange, call("bookmarks")), "Bookmarks."),
        (rpc.REMINDERS, _endpoint(rpc.ReminderChange, call("reminders")), "Reminders."),
        (rpc.TICKET_COMMAND, _endpoint(rpc.TicketCommand, call("execute")), "Act on a ticket."),
        (rpc.GET_HISTORY, _endpoint(rpc.TicketRef, call("history")), "A ticket's transactions."),
        (
            rpc.TICKET_VIEW,
            _endpoint(rpc.TicketView, call("view")),
            "A ticket as its page shows it; of the history, only what the caller lacks.",
        ),
        (rpc.GET_ATTACHMENT, _endpoint(rpc.AttachmentRef, call("attachment")), "A file's bytes."),
        (rpc.AUTHENTICATE, _endpoint(rpc.Credentials, call("authenticate")), "Check a password."),
        (
            rpc.AUTHENTICATE_TOKEN,
            _endpoint(rpc.TokenCredentials, call("authenticate_token")),
            "Check an API token: the user it acts for.",
        ),
        (
            rpc.SAVED_SEARCHES,
            _endpoint(rpc.SavedSearchChange, call("saved_searches")),
            "Saved searches: one's own, and those shared with one's groups.",
        ),
        (
            rpc.DASHBOARDS,
            _endpoint(rpc.DashboardChange, call("dashboards")),
            "Dashboards: boxes of saved searches and charts.",
        ),
        (
            rpc.RESPONSES,
            _endpoint(rpc.ResponseChange, call("responses")),
            "Canned responses: texts to put into a reply or a comment, one's own and those "
            "shared with one's groups.",
        ),
        (rpc.LIST_QUEUES, _endpoint(rpc.ActorOnly, call("queues")), "The queues one may see."),
        (rpc.GET_USER, _endpoint(rpc.UserRef, call("get_user")), "A user (oneself, or admin)."),
        (
            rpc.LIST_USERS,
            _endpoint(rpc.ListUsers, call("list_users")),
            "A page of users, found by a piece of their address or name (administrators).",
        ),
        (
            rpc.GROUPS,
            _endpoint(rpc.ActorOnly, call("groups")),
            "Every group users name, with its members (administrators).",
        ),
        (
            rpc.USER_PREFERENCES,
            _endpoint(rpc.PreferencesChange, call("preferences")),
            "A user changes their own language, signature and home layout.",
        ),
        (
            rpc.API_TOKENS,
            _endpoint(rpc.TokenChange, call("tokens")),
            "A user's API tokens: create (the secret shown once), list, revoke.",
        ),
        (rpc.ADMIN_SET_INSTANCE, _endpoint(rpc.SetInstance, call("set_instance")), "Set rtname."),
        (rpc.ADMIN_UPSERT_QUEUE, _endpoint(rpc.UpsertQueue, call("upsert_queue")), "Edit a queue."),
        (rpc.ADMIN_UPSERT_USER, _endpoint(rpc.UpsertUser, call("upsert_user")), "Edit a user."),
        (rpc.ADMIN_GRANT, _endpoint(rpc.GrantChange, call("grant")), "Grant a right."),
        (rpc.ADMIN_REVOKE, _endpoint(rpc.GrantChange, call("revoke")), "Revoke a right."),
        (rpc.ADMIN_LIST_GRANTS, _endpoint(rpc.ActorOnly, call("list_grants")), "List grants."),
        (
            rpc.VISIBILITY,
            _endpoint(rpc.ActorOnly, call("visibility")),
            "Where a user may see tickets and comments: whole queues, and queues where a role "
            "held on a ticket shows it (the search service's filters).",
        ),
        (
            rpc.EXPORT,
            _endpoint(rpc.ExportRequest, call("export")),
            "Stream every ticket, then every transaction with a message, to the caller's queue "
            "as ExportBatch messages (to rebuild the search index); answers at once.",
        ),
    ]
    for name, handler, description in endpoints:
        register_rpc(broker, name, handler, description=description)

    for event_type, payload_type in TICKET_TXN_EVENTS.items():
        broker.publisher(
            exchange=EVENTS_EXCHANGE,
            routing_key=event_type,
            persist=True,
            title=event_type,
            description="One transaction of a ticket's history, with the ticket after it.",
            schema=Envelope[payload_type],  # type: ignore[valid-type]
        )
