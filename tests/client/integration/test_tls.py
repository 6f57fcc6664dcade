"""TLS against the real server: a pinned fingerprint is checked before anything is sent; a
CA file trusts the server's self-signed certificate; the system's CAs do not."""

from __future__ import annotations

import pytest

from cleverfox.client import Client, PinMismatch, TLSError, normalize_fingerprint
from tests.support.server import Partner, ServerProcess

WRONG_PIN = "00" * 32


def test_the_right_pin_connects(server: ServerProcess, partner: Partner) -> None:
    for spelling in (server.fingerprint, normalize_fingerprint(server.fingerprint)):
        with Client(server.url, partner.api_key, fingerprint=spelling) as client:
            assert next(client.partners.list()).id == partner.partner_id


def test_a_wrong_pin_refuses_to_connect(server: ServerProcess, partner: Partner) -> None:
    client = Client(server.url, partner.api_key, fingerprint=WRONG_PIN)
    with client, pytest.raises(PinMismatch) as caught:
        client.partners.get(partner.partner_id)
    assert caught.value.expected == WRONG_PIN
    assert caught.value.actual == normalize_fingerprint(server.fingerprint)
    assert caught.value.request_sent is False and caught.value.retryable is False


def test_a_ca_file_trusts_the_servers_certificate(server: ServerProcess, partner: Partner) -> None:
    certificate = server.data_dir / "tls" / "server.crt"
    with Client(server.url, partner.api_key, verify=str(certificate)) as client:
        assert next(client.partners.list()).id == partner.partner_id


def test_system_trust_refuses_a_self_signed_certificate(
    server: ServerProcess, partner: Partner
) -> None:
    client = Client(server.url, partner.api_key, retries=0)
    with client, pytest.raises(TLSError) as caught:
        client.partners.get(partner.partner_id)
    assert not isinstance(caught.value, PinMismatch)
