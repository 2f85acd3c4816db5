"""STARTTLS (with a certificate made for the test) and the allow-list of sending hosts, on
both listeners, over a real socket."""

from __future__ import annotations

import pytest

from services.ingest.domain.peers import parse_networks
from tests.integration.ingest.transcript import (
    ACCEPTED,
    TLS_HOSTNAME,
    Certificate,
    Protocol,
    StartIngest,
    queued,
)
from tests.support import raw_mail

PROTOCOLS: list[Protocol] = ["smtp", "lmtp"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_starttls_is_offered_and_mail_flows_over_it(
    start_ingest: StartIngest, certificate: Certificate, protocol: Protocol
) -> None:
    ingest = await start_ingest(tls=certificate.server_context())
    s = await ingest.session(protocol)
    assert "250-STARTTLS" in (await s.hello()).splitlines()
    await s.starttls(certificate.client_context(), TLS_HOSTNAME)  # the name is checked
    after = (await s.hello()).splitlines()
    assert after[0].startswith("250")
    assert not [line for line in after if "STARTTLS" in line or "AUTH" in line]
    assert (await s.cmd("MAIL FROM:<alice@example.net>")).startswith("250")
    assert (await s.cmd("RCPT TO:<achats@tickets.example.org>")).startswith("250")
    assert await s.data(raw_mail()) == ACCEPTED
    assert len(await queued(ingest.vhost)) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_with_tls_required_mail_waits_for_starttls(
    start_ingest: StartIngest, certificate: Certificate, protocol: Protocol
) -> None:
    ingest = await start_ingest(tls=certificate.server_context(), require_tls=True)
    s = await ingest.session(protocol)  # EHLO and LHLO are answered before TLS
    reply = await s.cmd("MAIL FROM:<alice@example.net>")
    assert reply == "530 5.7.0 Must issue a STARTTLS command first"
    await s.starttls(certificate.client_context(), TLS_HOSTNAME)
    await s.hello()
    assert (await s.cmd("MAIL FROM:<alice@example.net>")).startswith("250")


async def test_without_a_certificate_starttls_is_not_offered(start_ingest: StartIngest) -> None:
    ingest = await start_ingest()
    s = await ingest.smtp()
    assert "STARTTLS" not in await s.hello()
    assert await s.cmd("STARTTLS") == "454 TLS not available"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_host_outside_the_allowed_peers_is_refused_at_mail_with_550_5_7_1(
    start_ingest: StartIngest, protocol: Protocol
) -> None:
    ingest = await start_ingest(allowed_peers=parse_networks("192.0.2.0/24, 2001:db8::/32"))
    s = await ingest.session(protocol)
    reply = await s.cmd("MAIL FROM:<alice@example.net>")
    assert reply == "550 5.7.1 Client host [127.0.0.1] is not allowed to send mail here"
    assert (await s.cmd("RCPT TO:<achats@tickets.example.org>")).startswith("503")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_host_in_the_allowed_peers_sends_as_usual(
    start_ingest: StartIngest, protocol: Protocol
) -> None:
    ingest = await start_ingest(allowed_peers=parse_networks("192.0.2.0/24 127.0.0.0/8"))
    s = await ingest.session(protocol)
    assert (await s.cmd("MAIL FROM:<alice@example.net>")).startswith("250")
    assert (await s.cmd("RCPT TO:<achats@tickets.example.org>")).startswith("250")
    assert await s.data(raw_mail()) == ACCEPTED
