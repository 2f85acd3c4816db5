"""Guichet and a vacation auto-responder answering each other, on the running stack: at
most one autoreply each, then silence. (Two Guichet instances are played out with the
same code in tests/unit/test_notify_loops.py.)"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from tests.e2e.conftest import make_mail, send, ticket_of, wait_until
from tests.e2e.mailboxes import SETTLE, STEP_TIMEOUT, Outbox, mail


@pytest.mark.parametrize("careful", [True, False], ids=["rfc3834-responder", "careless-responder"])
def test_a_vacation_responder_and_guichet_stop_after_one_autoreply_each(
    api: httpx.Client, careful: bool
) -> None:
    outbox = Outbox()
    away = f"absent-{uuid.uuid4().hex[:8]}@client.example.net"
    send(make_mail(away, "Demande de devis avant mes congés", "Bonjour, un devis svp."))
    ticket = wait_until(lambda: ticket_of(api, away), STEP_TIMEOUT, "the ticket", 0.25)
    [ack] = wait_until(lambda: outbox.mails_to(away) or None, STEP_TIMEOUT, "the autoreply")
    assert ack["Auto-Submitted"] == "auto-replied"

    # Their responder answers Guichet's autoreply (a careless one even though it says
    # Auto-Submitted, and without marking its own answer).
    answer = mail(
        away, f"Absent : {ack['Subject']}", "Je suis absent jusqu'au 12 mai.", answering=ack
    )
    if careful:
        answer["Auto-Submitted"] = "auto-replied"
    send(answer)

    def recorded() -> bool:  # the answer is the ticket's second transaction
        return bool(api.get(f"/api/v1/tickets/{ticket['id']}").json()["version"] == 2)

    wait_until(recorded, STEP_TIMEOUT, "the answer on the ticket", 0.25)
    time.sleep(SETTLE)
    # It was the requestor's own message: nothing goes back to them, and so on for ever.
    assert len(outbox.mails_to(away)) == 1
