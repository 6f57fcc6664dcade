"""How the server process serves: TLS, certificates, workers, shutdown (spec README §1).

Most tests run ``serve()`` in a real subprocess (``python -c``) with the stand-in app of
``standin_app.py`` on a free port in a temporary data directory, and talk to it over real
sockets. The helpers of ``runner`` and ``tls`` that need no server are tested in-process.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import queue
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from cleverfox.server.kit.tls import (
    CertificatePair,
    TlsConfigurationError,
    ensure_certificate,
    fingerprint_sha256,
    server_ssl_context,
)
from cleverfox.server.runner import mask_password, settings_to_env, startup_facts
from cleverfox.settings import Settings

HERE = Path(__file__).resolve().parent
START_TIMEOUT = 60.0
STOP_TIMEOUT = 60.0
FINGERPRINT_LINE = "TLS certificate SHA-256 fingerprint: "

SERVE_SCRIPT = """
import json, sys
from cleverfox.server.runner import serve
from cleverfox.settings import Settings

def announce(lines):
    print("\\n".join(lines), flush=True)
    print("READY", flush=True)

options, factory = json.loads(sys.argv[1]), sys.argv[2]
sys.exit(serve(Settings(**options), app_factory=factory, on_ready=announce))
"""

pytestmark = pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")


# --- a server in a subprocess ---------------------------------------------------------------


@dataclass
class RunningServer:
    """A ``serve()`` subprocess and the start-up facts it printed."""

    process: subprocess.Popen[str]
    data_dir: Path
    stderr_path: Path
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self._fact("URL: ")

    @property
    def port(self) -> int:
        return int(self.url.rstrip("/").rpartition(":")[2])

    @property
    def fingerprint(self) -> str:
        return self._fact(FINGERPRINT_LINE)

    def _fact(self, prefix: str) -> str:
        return next(line.removeprefix(prefix) for line in self.lines if line.startswith(prefix))

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum`` and return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout=STOP_TIMEOUT)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def launch(
    tmp_path: Path, factory: str = "standin_app:create_app_from_env", **options: Any
) -> RunningServer:
    """Start ``serve()`` in a subprocess; wait for READY, or for the process to end."""
    data_dir = tmp_path / "data"
    settings = {"data_dir": str(data_dir), "host": "127.0.0.1", "port": 0, **options}
    stderr_path = tmp_path / f"server-{time.monotonic_ns()}.stderr"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_SCRIPT, json.dumps(settings), factory],
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            env=_server_environment(),
        )
    server = RunningServer(process, data_dir, stderr_path)
    server.lines = _read_until_ready(process)
    return server


def start_server(tmp_path: Path, **options: Any) -> RunningServer:
    """``launch`` that insists the server came up."""
    server = launch(tmp_path, **options)
    if "READY" not in server.lines:
        server.stop(signal.SIGKILL)
        pytest.fail(f"server did not start:\n{server.stderr()}")
    return server


def _server_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLEVERFOX_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p)
    return env


def _read_until_ready(process: subprocess.Popen[str]) -> list[str]:
    """The stdout lines up to READY (included), or all of them if the process ended first."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while (line := lines.get(timeout=max(0.1, deadline - time.monotonic()))) is not None:
        seen.append(line)
        if line == "READY":
            break
    return seen


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One TLS server with a self-signed certificate, shared by the read-only tests."""
    running = start_server(tmp_path_factory.mktemp("tls-server"))
    yield running
    assert running.stop() == 0, running.stderr()


# --- clients --------------------------------------------------------------------------------


def client_context(
    *,
    cafile: Path | None = None,
    minimum: ssl.TLSVersion | None = None,
    maximum: ssl.TLSVersion | None = None,
) -> ssl.SSLContext:
    """A client context trusting ``cafile`` (or anything, without one), limited to versions."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cafile is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.load_verify_locations(cafile)
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    return context


def legacy_context(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that speaks ``version`` (TLS 1.0 or 1.1) and nothing newer."""
    context = client_context(minimum=ssl.TLSVersion.TLSv1, maximum=version)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def https_get(
    port: int, path: str, context: ssl.SSLContext, server_hostname: str = "localhost"
) -> tuple[str, bytes, bytes]:
    """``(TLS version, status line, peer certificate DER)`` of one HTTP/1.1 GET over TLS."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as conn,
    ):
        version, der = str(conn.version()), conn.getpeercert(True) or b""
        conn.sendall(
            f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        return version, _read_all(conn).split(b"\r\n", 1)[0], der


def _read_all(conn: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except (ConnectionResetError, TimeoutError, ssl.SSLError):
        pass
    return b"".join(chunks)


def colon_hex(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


def permissive_tls_server(cert: Path, key: Path) -> int:
    """A one-shot local server that accepts TLS 1.0 and newer: proof the legacy client works."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_one() -> None:
        with listener, listener.accept()[0] as raw:
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.recv(1)
            except OSError:
                pass

    threading.Thread(target=accept_one, daemon=True).start()
    return int(listener.getsockname()[1])


# --- the self-signed certificate --------------------------------------------------------------


def test_self_signed_certificate_is_made_once_and_reused(tmp_path: Path) -> None:
    first = start_server(tmp_path)
    assert first.stop() == 0, first.stderr()
    cert_path, key_path = (
        first.data_dir / "tls" / "server.crt",
        first.data_dir / "tls" / "server.key",
    )
    cert_pem, key_pem = cert_path.read_bytes(), key_path.read_bytes()
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert first.fingerprint == fingerprint_sha256(cert_pem)

    second = start_server(tmp_path)
    assert second.stop() == 0, second.stderr()
    assert second.fingerprint == first.fingerprint
    assert (cert_path.read_bytes(), key_path.read_bytes()) == (cert_pem, key_pem)


def test_printed_fingerprint_is_the_certificate_on_the_wire(tls_server: RunningServer) -> None:
    _, status, der = https_get(tls_server.port, "/ping", client_context())

    assert status == b"HTTP/1.1 200 OK"
    assert colon_hex(hashlib.sha256(der).digest()) == tls_server.fingerprint


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1"])
def test_self_signed_certificate_verifies_for_local_names(
    tls_server: RunningServer, name: str
) -> None:
    """A client that trusts (pins) the certificate file verifies it with hostname checks on."""
    trusting = client_context(cafile=tls_server.data_dir / "tls" / "server.crt")

    _, status, _ = https_get(tls_server.port, "/ping", trusting, server_hostname=name)

    assert status == b"HTTP/1.1 200 OK"


# --- protocol versions and plain HTTP ---------------------------------------------------------


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_older_than_1_2_is_refused(tls_server: RunningServer, version: ssl.TLSVersion) -> None:
    tls_dir = tls_server.data_dir / "tls"
    control_port = permissive_tls_server(tls_dir / "server.crt", tls_dir / "server.key")
    assert https_get(control_port, "/", legacy_context(version))[0] == version_name(version)

    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        https_get(tls_server.port, "/ping", legacy_context(version))


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_served(tls_server: RunningServer, version: ssl.TLSVersion) -> None:
    context = client_context(minimum=version, maximum=version)

    negotiated, status, _ = https_get(tls_server.port, "/ping", context)

    assert (negotiated, status) == (version_name(version), b"HTTP/1.1 200 OK")


def version_name(version: ssl.TLSVersion) -> str:
    return {
        ssl.TLSVersion.TLSv1: "TLSv1",
        ssl.TLSVersion.TLSv1_1: "TLSv1.1",
        ssl.TLSVersion.TLSv1_2: "TLSv1.2",
        ssl.TLSVersion.TLSv1_3: "TLSv1.3",
    }[version]


def test_plain_http_gets_no_http_answer(tls_server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as conn:
        conn.sendall(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = _read_all(conn)

    assert b"HTTP/" not in answer


# --- shutdown and workers ---------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_lets_the_request_in_flight_finish_then_exits_0(tmp_path: Path, signum: int) -> None:
    running = start_server(tmp_path)
    marker = running.data_dir / "slow-request-started"
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(
            httpx.get, f"{running.url}slow?seconds=2", verify=client_context(), timeout=30
        )
        _wait_for(marker.exists)
        running.process.send_signal(signum)

        assert response.result().json() == {"slept": 2.0}
    assert running.process.wait(timeout=STOP_TIMEOUT) == 0, running.stderr()


def test_two_workers_serve_with_the_same_settings_and_tls_floor(tmp_path: Path) -> None:
    running = start_server(tmp_path, workers=2, rate_limit="0")
    try:
        with httpx.Client(verify=client_context(), timeout=10) as client:
            answers = [client.get(f"{running.url}ping").json() for _ in range(4)]
        with pytest.raises((ssl.SSLError, ConnectionResetError)):
            https_get(running.port, "/ping", legacy_context(ssl.TLSVersion.TLSv1_1))
    finally:
        exit_code = running.stop()

    assert exit_code == 0, running.stderr()
    assert all(a["pid"] != running.process.pid for a in answers)
    assert {(a["data_dir"], tuple(a["rate_limit"])) for a in answers} == {
        (str(running.data_dir), (0, 0))
    }


def _wait_for(condition: Any, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- the operator's certificate ---------------------------------------------------------------


def make_operator_certificate(directory: Path) -> tuple[Path, Path]:
    """An RSA certificate and key, as an operator might bring from their own CA."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "backup.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "operator.crt", directory / "operator.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_operators_certificate_and_key_are_used(tmp_path: Path) -> None:
    cert_path, key_path = make_operator_certificate(tmp_path)
    running = start_server(tmp_path, tls_cert=str(cert_path), tls_key=str(key_path))
    try:
        _, status, der = https_get(running.port, "/ping", client_context(cafile=cert_path))
    finally:
        assert running.stop() == 0, running.stderr()

    assert status == b"HTTP/1.1 200 OK"
    assert running.fingerprint == fingerprint_sha256(cert_path.read_bytes())
    assert colon_hex(hashlib.sha256(der).digest()) == running.fingerprint
    assert not (running.data_dir / "tls").exists()


# --- behind trusted proxies -------------------------------------------------------------------


def test_behind_proxies_speaks_plain_http_to_the_listed_proxies_only(tmp_path: Path) -> None:
    running = start_server(tmp_path, trusted_proxies="127.0.0.2/32")
    try:
        via_proxy = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
        forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        with via_proxy:
            whoami = via_proxy.get(f"{running.url}whoami", headers=forwarded)
            insecure = via_proxy.get(f"{running.url}whoami", headers={"X-Forwarded-For": "1.2.3.4"})
        direct = httpx.get(f"{running.url}whoami", headers=forwarded)
    finally:
        assert running.stop() == 0, running.stderr()

    assert running.url.startswith("http://")
    assert not any(line.startswith(FINGERPRINT_LINE) for line in running.lines)
    assert whoami.json() == {"client": ["203.0.113.7", 0], "scheme": "https"}
    assert (insecure.status_code, insecure.json()["error"]["code"]) == (403, "https_required")
    assert (direct.status_code, direct.json()["error"]["code"]) == (403, "untrusted_proxy")
    assert not (running.data_dir / "tls").exists()


def test_behind_proxies_a_factory_without_the_proxy_guard_is_refused(tmp_path: Path) -> None:
    running = launch(
        tmp_path, factory="standin_app:create_unwrapped_app_from_env", trusted_proxies="10.0.0.0/8"
    )

    assert running.process.wait(timeout=STOP_TIMEOUT) == 3
    assert "READY" not in running.lines
    assert "wrap_for_proxies" in running.stderr()


def test_a_port_in_use_is_a_start_up_failure(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        running = launch(tmp_path, port=taken.getsockname()[1])
        assert running.process.wait(timeout=STOP_TIMEOUT) == 3


# --- helpers that need no server --------------------------------------------------------------


def test_settings_survive_the_trip_through_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path,
        port=9443,
        database_url="postgresql://backup:s3cret@db/cleverfox",
        tls_cert=tmp_path / "c.pem",
        tls_key=tmp_path / "k.pem",
        trusted_proxies="10.0.0.0/8,2001:db8::/32",
        rate_limit="120,20",
        running_log_timeout=1.5,
        workers=3,
        migrate=False,
        storage_url="s3://backups/cfx?region=eu-west-1",
        s3_endpoint="https://s3.example.test",
        s3_access_key_id="AKIAEXAMPLE",
        s3_secret_access_key="s3-secret",
    )
    for key in [k for k in os.environ if k.upper().startswith("CLEVERFOX_")]:
        monkeypatch.delenv(key)
    for key, value in settings_to_env(settings).items():
        monkeypatch.setenv(key, value)

    assert Settings() == settings


def test_unset_settings_are_left_out_of_the_environment() -> None:
    env = settings_to_env(Settings())

    assert "CLEVERFOX_DATABASE_URL" not in env
    assert "CLEVERFOX_TLS_CERT" not in env
    assert all(key.startswith("CLEVERFOX_") for key in env)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:p@ss@db:5432/x", "postgresql+psycopg://u:***@db:5432/x"),
        (
            "postgresql://db/x?sslmode=require&password=pw",
            "postgresql://db/x?sslmode=require&password=***",
        ),
        ("postgresql://u@db/x", "postgresql://u@db/x"),
        ("sqlite:////var/lib/cleverfox/cleverfox.db", "sqlite:////var/lib/cleverfox/cleverfox.db"),
        ("s3://KEY:SECRET@bucket/prefix", "s3://KEY:***@bucket/prefix"),
    ],
)
def test_passwords_are_masked_in_printed_urls(url: str, shown: str) -> None:
    assert mask_password(url) == shown


def test_startup_facts_name_url_fingerprint_database_and_storage(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u:pw@db/x", host="::1")
    pair = CertificatePair(tmp_path / "c", tmp_path / "k", "AB:CD")
    (tmp_path / "storage").mkdir()

    assert startup_facts(settings, pair, 8443) == [
        "URL: https://[::1]:8443/",
        "API reference: https://[::1]:8443/api/docs",
        f"{FINGERPRINT_LINE}AB:CD",
        "Database: postgresql+psycopg://u:***@db/x",
        f"Storage: {tmp_path.resolve() / 'storage'}",
    ]


def test_startup_facts_name_no_storage_folder_that_does_not_exist(tmp_path: Path) -> None:
    pair = CertificatePair(tmp_path / "c", tmp_path / "k", "AB:CD")

    facts = startup_facts(Settings(data_dir=tmp_path), pair, 8443)
    named = startup_facts(Settings(data_dir=tmp_path, storage_url="s3://bucket/prefix"), pair, 8443)

    assert not [line for line in facts if line.startswith("Storage:")]
    assert named[-1].startswith("Storage: s3://bucket/prefix")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_fingerprint_is_written_as_openssl_writes_it(tmp_path: Path) -> None:
    pair = ensure_certificate(Settings(data_dir=tmp_path))
    printed = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(pair.cert_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert printed.strip().partition("=")[2] == pair.fingerprint_sha256


def test_self_signed_certificate_names_the_server(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, host="Backup.Example.test", public_url="https://203.0.113.9:9443/"
    )
    cert = x509.load_pem_x509_certificate(ensure_certificate(settings).cert_path.read_bytes())

    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost", "backup.example.test"]
    assert [str(a) for a in names.get_values_for_type(x509.IPAddress)] == [
        "127.0.0.1",
        "::1",
        "203.0.113.9",
    ]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > datetime.timedelta(days=3600)


def test_a_wildcard_host_is_named_by_the_machines_host_name(tmp_path: Path) -> None:
    pair = ensure_certificate(Settings(data_dir=tmp_path, host="0.0.0.0"))
    cert = x509.load_pem_x509_certificate(pair.cert_path.read_bytes())

    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert socket.gethostname().lower() in names.get_values_for_type(x509.DNSName)


class Crash(BaseException):
    """Stands for the process dying: no ``except Exception`` handles it."""


@pytest.mark.parametrize("failing_write", [1, 2], ids=["key", "certificate"])
def test_a_crash_while_writing_never_leaves_half_a_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing_write: int
) -> None:
    """A crash in the rename leaves no partial file; the next start makes a working pair."""
    settings = Settings(data_dir=tmp_path)
    real_replace, calls = os.replace, []

    def crashing_replace(source: Any, target: Any) -> None:
        calls.append(target)
        if len(calls) == failing_write:
            raise Crash
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(Crash):
        ensure_certificate(settings)
    monkeypatch.setattr(os, "replace", real_replace)

    assert sorted(p.name for p in (tmp_path / "tls").iterdir() if p.name.endswith(".tmp")) == []
    pair = ensure_certificate(settings)
    assert server_ssl_context(pair).minimum_version == ssl.TLSVersion.TLSv1_2


def test_server_context_refuses_tls_older_than_1_2(tmp_path: Path) -> None:
    context = server_ssl_context(ensure_certificate(Settings(data_dir=tmp_path)))

    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.maximum_version in (ssl.TLSVersion.MAXIMUM_SUPPORTED, ssl.TLSVersion.TLSv1_3)


def test_a_key_that_does_not_fit_the_certificate_is_refused(tmp_path: Path) -> None:
    cert_path, _ = make_operator_certificate(tmp_path)
    other = ensure_certificate(Settings(data_dir=tmp_path))
    settings = Settings(data_dir=tmp_path, tls_cert=cert_path, tls_key=other.key_path)

    with pytest.raises(TlsConfigurationError, match="cannot use TLS certificate"):
        server_ssl_context(ensure_certificate(settings))


def test_missing_operator_files_are_refused(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, tls_cert=tmp_path / "no.crt", tls_key=tmp_path / "no.key"
    )

    with pytest.raises(TlsConfigurationError, match=r"no\.crt"):
        ensure_certificate(settings)
