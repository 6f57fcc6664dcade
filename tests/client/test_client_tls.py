"""TLS against a real local HTTPS server: pinning is checked before the key is sent."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cleverfox.client import (
    AsyncClient,
    Client,
    PinMismatch,
    TLSError,
    normalize_fingerprint,
    ssl_context,
)


@dataclass
class TLSServer:
    url: str
    fingerprint: str  # lower-case hex, no colons
    cert_file: Path
    seen: list[dict[str, str]] = field(default_factory=list)


def make_certificate(directory: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cleverfox test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file, cert.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSServer]:
    cert_file, key_file, der = make_certificate(tmp_path_factory.mktemp("tls"))
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, "auth": self.headers.get("Authorization", "")})
            body = json.dumps({"data": {"PlanId": 1, "Name": "Small Plan"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Request-Id", "tls-1")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server = TLSServer(
        f"https://localhost:{httpd.server_address[1]}",
        hashlib.sha256(der).hexdigest(),
        cert_file,
        seen,
    )
    yield server
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _forget_requests(tls_server: TLSServer) -> None:
    tls_server.seen.clear()


def colons(fingerprint: str) -> str:
    """The form a server prints: AB:CD:…"""
    return ":".join(fingerprint[i : i + 2] for i in range(0, 64, 2)).upper()


def test_the_right_pin_connects(tls_server: TLSServer) -> None:
    with Client(tls_server.url, "k", fingerprint=colons(tls_server.fingerprint), retries=0) as c:
        assert c.plans.get(1).name == "Small Plan"
    assert tls_server.seen[0]["path"] == "/api/plans/1"


def test_a_wrong_pin_refuses_and_sends_nothing(tls_server: TLSServer) -> None:
    wrong = hashlib.sha256(b"another certificate").hexdigest()
    client = Client(tls_server.url, "secret", fingerprint=wrong, retries=3)
    with client, pytest.raises(PinMismatch) as raised:
        client.plans.get(1)
    assert raised.value.expected == wrong
    assert raised.value.actual == tls_server.fingerprint
    assert not raised.value.retryable
    assert tls_server.seen == []  # the key never left the client


def test_system_trust_refuses_a_self_signed_certificate(tls_server: TLSServer) -> None:
    with Client(tls_server.url, "k", retries=0) as c, pytest.raises(TLSError) as raised:
        c.plans.get(1)
    assert not isinstance(raised.value, PinMismatch)
    assert tls_server.seen == []


def test_a_ca_file_is_trusted(tls_server: TLSServer) -> None:
    with Client(tls_server.url, "k", verify=str(tls_server.cert_file), retries=0) as c:
        assert c.plans.get(1).plan_id == 1


def test_verify_false_connects_to_anything(tls_server: TLSServer) -> None:
    with Client(tls_server.url, "k", verify=False, retries=0) as c:
        assert c.plans.get(1).plan_id == 1


@pytest.mark.anyio
async def test_async_pinning(tls_server: TLSServer) -> None:
    async with AsyncClient(tls_server.url, "k", fingerprint=tls_server.fingerprint) as right:
        assert (await right.plans.get(1)).name == "Small Plan"
    wrong = hashlib.sha256(b"x").hexdigest()
    async with AsyncClient(tls_server.url, "k", fingerprint=wrong, retries=0) as refused:
        with pytest.raises(PinMismatch):
            await refused.plans.get(1)
    assert len(tls_server.seen) == 1


def test_fingerprint_forms() -> None:
    digits = "ab" * 32
    assert normalize_fingerprint(colons(digits)) == digits
    assert normalize_fingerprint("SHA256:" + digits.upper()) == digits
    for bad in ("ab" * 31, "zz" * 32, ""):
        with pytest.raises(ValueError, match="fingerprint"):
            normalize_fingerprint(bad)


def test_fingerprint_and_verify_together_are_refused() -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        ssl_context(verify=False, fingerprint="ab" * 32)


def test_tls_below_1_2_is_refused_by_the_client() -> None:
    assert ssl_context().minimum_version == ssl.TLSVersion.TLSv1_2
    assert ssl_context(fingerprint="ab" * 32).minimum_version == ssl.TLSVersion.TLSv1_2
