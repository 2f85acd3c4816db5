"""Ingest: the allow-list of sending hosts, and the listener settings read from the
environment (LMTP port, STARTTLS files, allowed peers)."""

from __future__ import annotations

import os
from ipaddress import ip_network
from pathlib import Path

import pydantic
import pytest

from services.ingest.domain.peers import parse_networks, peer_allowed
from services.ingest.settings import IngestSettings

pytestmark = pytest.mark.unit

RELAYS = parse_networks("192.0.2.0/24, 198.51.100.7 2001:db8::/32")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no GUICHET_* variable of the machine running the tests."""
    for name in list(os.environ):
        if name.upper().startswith("GUICHET_"):
            monkeypatch.delenv(name)


def test_networks_are_separated_by_commas_or_spaces_and_a_bare_address_is_one_host() -> None:
    parsed = parse_networks("192.0.2.0/24, 198.51.100.7 2001:db8::/32")
    assert parsed == (
        ip_network("192.0.2.0/24"),
        ip_network("198.51.100.7/32"),
        ip_network("2001:db8::/32"),
    )
    assert parse_networks("") == ()


def test_a_network_with_host_bits_set_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="host bits set"):
        parse_networks("192.0.2.25/24")


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("192.0.2.25", True),
        ("198.51.100.7", True),
        ("198.51.100.8", False),
        ("2001:db8::25", True),
        ("::ffff:192.0.2.25", True),  # an IPv4 peer on a dual-stack socket
        ("fe80::1%eth0", False),
        ("127.0.0.1", False),
        ("", False),  # not an IP peer
    ],
)
def test_only_peers_in_the_list_may_send(host: str, allowed: bool) -> None:
    assert peer_allowed(host, RELAYS) is allowed


def test_an_empty_list_lets_every_host_send() -> None:
    assert peer_allowed("203.0.113.9", ()) and peer_allowed("", ())


def test_lmtp_listens_on_2424_by_default_and_0_or_empty_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IngestSettings().lmtp_port == 2424
    for off in ("0", ""):
        monkeypatch.setenv("GUICHET_INGEST_LMTP_PORT", off)
        assert IngestSettings().lmtp_port is None


def test_allowed_peers_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert IngestSettings().allowed_peers == ()
    monkeypatch.setenv("GUICHET_INGEST_ALLOWED_PEERS", "10.0.0.0/8, 192.0.2.25")
    assert IngestSettings().allowed_peers == (ip_network("10.0.0.0/8"), ip_network("192.0.2.25"))
    monkeypatch.setenv("GUICHET_INGEST_ALLOWED_PEERS", "10.0.0.1/8")
    with pytest.raises(pydantic.ValidationError, match="host bits set"):
        IngestSettings()


def test_tls_needs_both_files_and_required_tls_needs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert IngestSettings().tls_cert is None
    monkeypatch.setenv("GUICHET_INGEST_TLS_CERT", "/etc/guichet/cert.pem")
    with pytest.raises(pydantic.ValidationError, match="go together"):
        IngestSettings()
    monkeypatch.setenv("GUICHET_INGEST_TLS_KEY", "/etc/guichet/key.pem")
    settings = IngestSettings()
    assert (settings.tls_cert, settings.tls_key, settings.require_tls) == (
        Path("/etc/guichet/cert.pem"),
        Path("/etc/guichet/key.pem"),
        False,
    )
    monkeypatch.setenv("GUICHET_INGEST_TLS_CERT", "")
    monkeypatch.setenv("GUICHET_INGEST_TLS_KEY", "")
    monkeypatch.setenv("GUICHET_INGEST_REQUIRE_TLS", "true")
    with pytest.raises(pydantic.ValidationError, match="REQUIRE_TLS needs"):
        IngestSettings()
