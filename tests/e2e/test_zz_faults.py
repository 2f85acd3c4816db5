"""Faults on the real stack (run last: they stop parts of it, and restore them).

- tickets down: mail is still accepted (250) and becomes a ticket when tickets returns;
- RabbitMQ down: ingest answers 451, never 250; once it is back, mail flows again.
"""

from __future__ import annotations

import smtplib
import uuid

import httpx

from tests.e2e.conftest import (
    SMTP_PORT,
    local_script,
    make_mail,
    ready,
    send,
    ticket_of,
    wait_all_ready,
    wait_until,
)


def test_mail_sent_while_tickets_is_down_becomes_a_ticket_when_it_returns(
    api: httpx.Client,
) -> None:
    requestor = f"carol-{uuid.uuid4().hex[:8]}@example.net"
    local_script("services.sh", "hold", "tickets")
    try:
        wait_until(lambda: not ready("tickets"), 30, "tickets stopped")
        send(make_mail(requestor, "Pendant la panne", "Le service des tickets est arrêté."))
    finally:
        local_script("services.sh", "release", "tickets")
    wait_until(lambda: ready("tickets"), 60, "tickets back")
    ticket = wait_until(lambda: ticket_of(api, requestor), 30, "the ticket after restart")
    assert ticket["subject"] == "Pendant la panne"


def test_ingest_answers_451_while_rabbitmq_is_down_then_recovers(api: httpx.Client) -> None:
    local_script("rabbitmq.sh", "stop")
    try:
        with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=60) as smtp:
            smtp.ehlo()
            smtp.mail("dave@example.net")
            code, _ = smtp.rcpt("achats@tickets.example.org")
            assert code == 250  # addresses are known from the last refresh
            code, reply = smtp.data(
                make_mail("dave@example.net", "Pendant la panne", "x").as_bytes()
            )
            assert (code, reply[:5]) == (451, b"4.3.0")
    finally:
        local_script("rabbitmq.sh", "start")
    wait_all_ready(120)
    requestor = f"erin-{uuid.uuid4().hex[:8]}@example.net"

    def accepted_and_recorded() -> dict | None:  # type: ignore[type-arg]
        return ticket_of(api, requestor)

    send(make_mail(requestor, "Après la panne", "Tout remarche."))
    ticket = wait_until(accepted_and_recorded, 60, "the ticket after RabbitMQ's return")
    assert ticket["subject"] == "Après la panne"
