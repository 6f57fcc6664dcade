"""The server's secret: key digests, encryption of stored credentials, URL signatures.

The secret file holds 32 random bytes (hex). Sub-keys are derived per purpose with HKDF so
one leaked derived key does not expose the others. Partner API keys are looked up by
HMAC-SHA256 digest; device keys and job-item credentials are stored encrypted with
AES-256-GCM (a versioned envelope: ``v1:`` + base64(nonce ‖ ciphertext)).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_ENVELOPE = "v1:"


class ServerSecret:
    """Derived keys for digests, encryption and signing; the one trust boundary."""

    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("the server secret must be at least 32 bytes")
        self._digest_key = _derive(master, b"cleverfox api-key digest")
        self._aead = AESGCM(_derive(master, b"cleverfox encryption"))
        self.signing_key = _derive(master, b"cleverfox url signing")

    def digest(self, api_key: str) -> str:
        """The keyed digest (hex) by which an API key is stored and looked up."""
        return hmac.new(self._digest_key, api_key.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), None)
        return _ENVELOPE + base64.b64encode(nonce + sealed).decode()

    def decrypt(self, envelope: str) -> str:
        if not envelope.startswith(_ENVELOPE):
            raise ValueError("unknown secret envelope")
        raw = base64.b64decode(envelope[len(_ENVELOPE) :])
        return self._aead.decrypt(raw[:12], raw[12:], None).decode()


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def new_api_key(prefix: str = "cfp") -> str:
    """A fresh API key: a readable prefix and 32 random bytes (url-safe)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def load_or_create_secret(path: Path) -> ServerSecret:
    """Read the secret file, or make it (mode 0600, written atomically) on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: keep theirs
            os.link(tmp, path)
        tmp.unlink(missing_ok=True)
    return ServerSecret(bytes.fromhex(path.read_text().strip()))
