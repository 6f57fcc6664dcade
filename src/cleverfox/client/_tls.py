"""TLS for the SDK: system trust, a CA file, or a pinned certificate fingerprint.

Pinning is checked inside the TLS handshake, before any byte of the request (which carries
the API key) is written: the SSL context hands out socket and memory-BIO objects whose
``do_handshake`` compares the SHA-256 of the peer's DER certificate with the pin and fails
the handshake otherwise. That covers httpx's synchronous transport (``wrap_socket``) and the
async one (anyio's ``wrap_bio``) alike, and every new pooled connection is checked again.
A check on the response (``network_stream``) would come too late: the key would already
have been sent to whoever answered.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import ssl
from typing import cast

__all__ = ["PinnedCertificateError", "normalize_fingerprint", "ssl_context"]

Verify = bool | str | os.PathLike[str] | ssl.SSLContext


class PinnedCertificateError(ssl.SSLCertVerificationError):
    """Raised inside the handshake; the client turns it into ``errors.PinMismatch``."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"certificate SHA-256 {actual} is not the pinned {expected}")
        self.expected = expected
        self.actual = actual


def normalize_fingerprint(fingerprint: str) -> str:
    """Lower-case hex of a SHA-256 fingerprint given with or without colons or spaces
    (``AB:CD:…``, ``abcd…``, an optional ``sha256:`` / ``SHA256=`` prefix).

    Raises ValueError unless it is 32 bytes of hex.
    """
    text = fingerprint.strip()
    for prefix in ("sha256:", "sha256=", "sha-256:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    digits = "".join(ch for ch in text if ch not in ": \t").lower()
    if len(digits) != 64 or any(ch not in "0123456789abcdef" for ch in digits):
        raise ValueError("a certificate fingerprint is 64 hex digits (SHA-256), colons allowed")
    return digits


def _check_pin(context: ssl.SSLContext, certificate: bytes | None) -> None:
    expected = cast(_PinnedContext, context).pin
    actual = hashlib.sha256(certificate or b"").hexdigest()
    if certificate is None or not hmac.compare_digest(actual, expected):
        raise PinnedCertificateError(expected, actual if certificate else "(no certificate)")


class _PinnedSSLSocket(ssl.SSLSocket):
    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        _check_pin(self.context, self.getpeercert(binary_form=True))


class _PinnedSSLObject(ssl.SSLObject):
    def do_handshake(self) -> None:
        super().do_handshake()  # raises SSLWantReadError until the handshake is done
        _check_pin(self.context, self.getpeercert(binary_form=True))


class _PinnedContext(ssl.SSLContext):
    """A client context that trusts exactly one certificate, by its SHA-256."""

    sslsocket_class = _PinnedSSLSocket
    sslobject_class = _PinnedSSLObject
    pin: str


def ssl_context(verify: Verify = True, fingerprint: str | None = None) -> ssl.SSLContext:
    """The SSL context a client uses; public so a custom transport can be built with it.

    - ``fingerprint``: trust only the certificate whose SHA-256 is this (CA chains and host
      names are then not checked — the pin is stronger); ``verify`` must stay True.
    - ``verify=True``: the system's trust store; a path: that CA file (or directory);
      ``False``: no verification at all (tests only); an ``SSLContext``: used as given.

    TLS older than 1.2 is refused, as the server refuses it.
    """
    if fingerprint is not None:
        if verify is not True:
            raise ValueError("give either fingerprint= or verify=, not both")
        pinned = _PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
        pinned.check_hostname = False
        pinned.verify_mode = ssl.CERT_NONE
        pinned.pin = normalize_fingerprint(fingerprint)
        context: ssl.SSLContext = pinned
    elif isinstance(verify, ssl.SSLContext):
        return verify
    elif verify is True:
        context = ssl.create_default_context()
    elif verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif os.path.isdir(verify):
        context = ssl.create_default_context(capath=os.fspath(verify))
    else:
        context = ssl.create_default_context(cafile=os.fspath(verify))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
