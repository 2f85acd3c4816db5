"""One mail becomes a ticket, end to end: SMTP → ingest → tickets → notify → search → web."""

from __future__ import annotations

import time
import uuid

import httpx

from tests.e2e.conftest import WEB, caught_for, make_mail, send, ticket_of, wait_until


def test_a_mail_becomes_a_ticket_with_autoreply_history_and_search(api: httpx.Client) -> None:
    requestor = f"alice-{uuid.uuid4().hex[:8]}@example.net"
    word = f"zorglub{uuid.uuid4().hex[:8]}"
    mail = make_mail(requestor, "Demande de devis écran", f"Bonjour, un écran {word} svp.")
    started = time.monotonic()
    send(mail)

    ticket = wait_until(lambda: ticket_of(api, requestor), 2.0, "ticket in the API", 0.02)
    assert time.monotonic() - started < 2.0
    got = api.get(f"/api/v1/tickets/{ticket['id']}").json()
    for field in (
        "id",
        "queue",
        "subject",
        "status",
        "owner",
        "requestors",
        "ccs",
        "admin_ccs",
        "created",
        "updated",
    ):
        assert field in got
    assert got["queue"] == "achats"
    assert got["subject"] == "Demande de devis écran"
    assert got["status"] == "new"
    assert got["owner"] == "Nobody"
    assert got["requestors"] == [requestor]

    history = api.get(f"/api/v1/tickets/{ticket['id']}/history").json()
    assert history["count"] == 1
    [create] = history["data"]
    assert create["type"] == "create" and create["creator"] == requestor
    assert word in create["text"] and create["created"]

    [autoreply] = wait_until(lambda: caught_for(requestor), 10, "the autoreply")
    assert f"[example #{ticket['id']}]" in autoreply["Subject"]
    assert autoreply["Auto-Submitted"] == "auto-replied"
    assert autoreply["X-Envelope-From"] == "<achats@tickets.example.org>"
    assert "achats@tickets.example.org" in autoreply["From"]
    assert autoreply["In-Reply-To"] == mail["Message-ID"]

    def found() -> dict | None:  # type: ignore[type-arg]
        result = api.get("/api/v1/search", params={"q": word}).json()
        return result if result["total"] else None

    result = wait_until(found, 10, "the ticket in search")
    assert result["total"] == 1
    [hit] = result["items"]
    assert (hit["id"], hit["subject"], hit["status"], hit["queue"]) == (
        ticket["id"],
        "Demande de devis écran",
        "new",
        "achats",
    )
    assert hit["requestors"] == [requestor]


def test_the_api_requires_authentication() -> None:
    response = httpx.get(f"{WEB}/api/v1/tickets/1")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Basic")
    wrong = httpx.get(f"{WEB}/api/v1/tickets/1", auth=("admin@example.org", "wrong"))
    assert wrong.status_code == 401


def test_a_reply_by_tag_lands_in_its_ticket(api: httpx.Client) -> None:
    requestor = f"bob-{uuid.uuid4().hex[:8]}@example.net"
    send(make_mail(requestor, "Commande de câbles", "Bonjour"))
    ticket = wait_until(lambda: ticket_of(api, requestor), 5, "ticket")
    send(
        make_mail(requestor, f"RE: [example #{ticket['id']}] Commande de câbles", "Voici le devis")
    )

    def two() -> list | None:  # type: ignore[type-arg]
        data = api.get(f"/api/v1/tickets/{ticket['id']}/history").json()["data"]
        return data if len(data) == 2 else None

    history = wait_until(two, 5, "the reply in the history")
    assert [h["type"] for h in history] == ["create", "correspond"]
    assert api.get("/api/v1/tickets", params={"requestor": requestor}).json()["count"] == 1


def test_every_service_serves_health_readiness_and_metrics() -> None:
    for port in (8101, 8102, 8103, 8104, 8000):
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics")
        assert metrics.status_code == 200 and "python_info" in metrics.text
