"""The server's TLS certificate and the TLS context it is served with.

The certificate is the operator's (``--tls-cert``/``--tls-key``) or, when none is given, a
self-signed one made on first start and kept in ``<data dir>/tls/``. A made certificate is
reused on every later start — clients pin its SHA-256 fingerprint, so it must not change
behind their backs. The server refuses any TLS older than 1.2 (spec README §1).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cleverfox.settings import Settings

__all__ = [
    "MINIMUM_TLS_VERSION",
    "CertificatePair",
    "TlsConfigurationError",
    "ensure_certificate",
    "fingerprint_sha256",
    "presented_fingerprint",
    "server_ssl_context",
]

MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_2
CERTIFICATE_FILE = "server.crt"
KEY_FILE = "server.key"
VALIDITY = datetime.timedelta(days=3650)
CLOCK_SKEW = datetime.timedelta(days=1)
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names, not a bind


class TlsConfigurationError(Exception):
    """The TLS certificate or key cannot be used; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class CertificatePair:
    """A certificate file, its private key file and the certificate's SHA-256 fingerprint."""

    cert_path: Path
    key_path: Path
    fingerprint_sha256: str


def fingerprint_sha256(cert_pem: bytes) -> str:
    """The SHA-256 fingerprint of the first certificate in ``cert_pem``.

    Uppercase hex pairs joined by colons, as ``openssl x509 -fingerprint -sha256`` prints it.
    Raises ``ValueError`` when ``cert_pem`` holds no PEM certificate.
    """
    digest = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    return ":".join(f"{byte:02X}" for byte in digest)


def ensure_certificate(settings: Settings) -> CertificatePair:
    """The certificate the server presents: the operator's, else the self-signed one.

    The self-signed pair is made under ``settings.data_dir / "tls"`` when it is missing or
    unusable, and reused otherwise. Files are written atomically (a crash leaves either the
    old file or the new one, never part of a key); the key is readable by its owner only.
    Raises ``TlsConfigurationError`` when the operator's files cannot be read.
    """
    if settings.tls_cert is not None and settings.tls_key is not None:
        return _operator_pair(settings.tls_cert, settings.tls_key)
    tls_dir = settings.data_dir / "tls"
    tls_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with _exclusive_lock(tls_dir / ".lock"):
        pair = _existing_pair(tls_dir / CERTIFICATE_FILE, tls_dir / KEY_FILE)
        if pair is None:
            pair = _make_self_signed(tls_dir, _subject_names(settings))
    return pair


def presented_fingerprint(settings: Settings) -> str | None:
    """The SHA-256 fingerprint of the certificate this server presents; ``None`` behind
    trusted proxies, where the proxy's certificate (unknown here) is what clients see, and
    when the certificate cannot be read."""
    if settings.behind_proxy:
        return None
    try:
        return ensure_certificate(settings).fingerprint_sha256
    except TlsConfigurationError:
        return None


def server_ssl_context(pair: CertificatePair) -> ssl.SSLContext:
    """A server-side TLS context for ``pair`` that refuses every protocol older than TLS 1.2.

    TLS 1.3 is allowed. Raises ``TlsConfigurationError`` when the key does not fit the
    certificate or cannot be read (an encrypted key is not supported: there is no passphrase).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_TLS_VERSION
    try:
        # An empty passphrase keeps OpenSSL from prompting on a terminal for an encrypted key.
        context.load_cert_chain(pair.cert_path, pair.key_path, password=b"")
    except (OSError, ssl.SSLError) as exc:
        raise TlsConfigurationError(
            f"cannot use TLS certificate {pair.cert_path} with key {pair.key_path}: {exc}"
        ) from exc
    return context


def _operator_pair(cert_path: Path, key_path: Path) -> CertificatePair:
    try:
        fingerprint = fingerprint_sha256(cert_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise TlsConfigurationError(f"cannot read TLS certificate {cert_path}: {exc}") from exc
    if not os.access(key_path, os.R_OK):
        raise TlsConfigurationError(f"cannot read TLS key {key_path}")
    return CertificatePair(cert_path, key_path, fingerprint)


def _existing_pair(cert_path: Path, key_path: Path) -> CertificatePair | None:
    """The pair already on disk, or ``None`` when either file is missing or they don't match."""
    try:
        cert_pem = cert_path.read_bytes()
        certificate = x509.load_pem_x509_certificate(cert_pem)
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if key.public_key() != certificate.public_key():
        return None
    return CertificatePair(cert_path, key_path, fingerprint_sha256(cert_pem))


def _make_self_signed(tls_dir: Path, names: list[x509.GeneralName]) -> CertificatePair:
    """Make and store a new key and certificate; the key is written first.

    Writing the key first means a crash in between leaves a key with no certificate, which
    ``_existing_pair`` rejects, so the next start makes a fresh pair.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    cert_pem = _self_signed_certificate(key, names).public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path, cert_path = tls_dir / KEY_FILE, tls_dir / CERTIFICATE_FILE
    _write_atomically(key_path, key_pem, mode=0o600)
    _write_atomically(cert_path, cert_pem, mode=0o644)
    return CertificatePair(cert_path, key_path, fingerprint_sha256(cert_pem))


def _self_signed_certificate(
    key: ec.EllipticCurvePrivateKey, names: list[x509.GeneralName]
) -> x509.Certificate:
    """An end-entity certificate (not a CA) for ``names``, valid for about ten years."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CleverFox Backup"),
            x509.NameAttribute(NameOID.COMMON_NAME, _common_name(names)),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + VALIDITY)
    )
    for extension, critical in _server_extensions(key, names):
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256())


def _server_extensions(
    key: ec.EllipticCurvePrivateKey, names: list[x509.GeneralName]
) -> list[tuple[x509.ExtensionType, bool]]:
    key_usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    return [
        (x509.SubjectAlternativeName(names), False),
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (key_usage, True),
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
    ]


def _subject_names(settings: Settings) -> list[x509.GeneralName]:
    """localhost, 127.0.0.1, ::1, the configured host and the public URL's host.

    A wildcard bind address (``0.0.0.0``, ``::``) names no host, so the machine's host name
    stands in for it.
    """
    hosts = ["localhost", "127.0.0.1", "::1"]
    host = settings.host.strip("[]")
    hosts.append(socket.gethostname() if host in WILDCARD_HOSTS else host)
    if settings.public_url:
        hosts.append(urlsplit(settings.public_url).hostname or "")
    names: list[x509.GeneralName] = []
    for name in (_general_name(h) for h in hosts if h):
        if name not in names:
            names.append(name)
    return names


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host.lower())


def _common_name(names: list[x509.GeneralName]) -> str:
    """The last DNS name (the configured one wins over ``localhost``), at most 64 characters."""
    dns_names = [n.value for n in names if isinstance(n, x509.DNSName)]
    return str(dns_names[-1])[:64] if dns_names else "localhost"


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    """Replace ``path`` with ``data``: written to a temporary file, synced, then renamed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # a crashed run's leftover, possibly with wider modes
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)  # the umask may have narrowed it
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path``: servers sharing a data directory make one pair."""
    with path.open("a") as stream:
        fcntl.flock(stream.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(stream.fileno(), fcntl.LOCK_UN)
