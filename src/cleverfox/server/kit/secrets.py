"""The server's secret: key digests, encryption of stored credentials, URL signatures.

The secret file is a **keyring**: one master per line (hex, at least 32 bytes), the first is
the current master and older ones follow. A one-line file — what every server wrote before
keyrings — is a keyring of one. ``cleverfox secret rotate`` puts a new master first and keeps
the older ones (``server.secrets_rotation``).

Sub-keys are derived per master and purpose with HKDF, so one leaked derived key does not
expose the others. Each master has a **key id**: the first 8 hex digits of SHA-256 of a key
derived for that purpose alone, so the id says which master it is and nothing of it.

- **Digests.** API keys are stored and looked up by HMAC-SHA256 digest. New digests use the
  current master (``digest``); ``digests`` gives the digest under every master, current
  first, so a partner key stored before a rotation is still found (we never learn partner
  keys again, so their digests cannot be recomputed).
- **Encryption.** Device keys and job-item credentials are sealed with AES-256-GCM in a
  versioned envelope. ``encrypt`` writes ``v2:<key id>:`` + base64(nonce ‖ ciphertext) under
  the current master; ``decrypt`` opens v2 under the master it names, and the older ``v1:`` +
  base64(nonce ‖ ciphertext) by trying every master, current first (GCM's tag tells which is
  right; v1 names no master, and after a rotation that stopped half-way the master that made
  it is no longer first).
- **Signing.** ``signing_key`` (current master) signs download URLs.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_V1 = "v1:"
_V2 = "v2:"
_NONCE = 12
_TAG = 16
MASTER_BYTES = 32
KEY_ID_CHARS = 8


class UndecryptableSecret(ValueError):
    """An envelope that is malformed, or that no master of the keyring opens."""


class SecretFileError(ValueError):
    """The secret file is missing, malformed or cannot be replaced safely."""


@dataclass(frozen=True)
class _Master:
    """One master and the keys derived from it."""

    material: bytes
    key_id: str
    digest_key: bytes
    aead: AESGCM
    signing_key: bytes

    @classmethod
    def of(cls, material: bytes) -> _Master:
        if len(material) < MASTER_BYTES:
            raise ValueError("the server secret must be at least 32 bytes")
        identity = _derive(material, b"cleverfox key id")
        return cls(
            material=material,
            key_id=hashlib.sha256(identity).hexdigest()[:KEY_ID_CHARS],
            digest_key=_derive(material, b"cleverfox api-key digest"),
            aead=AESGCM(_derive(material, b"cleverfox encryption")),
            signing_key=_derive(material, b"cleverfox url signing"),
        )

    def digest(self, api_key: str) -> str:
        # hmac.digest: OpenSSL's one-shot HMAC, a tenth of hmac.new's cost (same value).
        return hmac.digest(self.digest_key, api_key.encode(), "sha256").hex()


class ServerSecret:
    """Derived keys for digests, encryption and signing; the one trust boundary.

    ``ServerSecret(current, *older)``: the first master seals and digests what is new; every
    master opens and finds what was stored under it.
    """

    def __init__(self, master: bytes, *older: bytes) -> None:
        self._masters = tuple(_Master.of(material) for material in (master, *older))
        self._by_id = {m.key_id: m for m in self._masters}
        if len(self._by_id) != len(self._masters):
            raise ValueError("the keyring holds the same key twice")
        self._current = self._masters[0]
        self.signing_key = self._current.signing_key

    @property
    def key_id(self) -> str:
        """The current master's key id."""
        return self._current.key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every master's key id, current first."""
        return tuple(m.key_id for m in self._masters)

    def digest(self, api_key: str) -> str:
        """The keyed digest (hex) by which a new API key is stored: the current master's."""
        return self._current.digest(api_key)

    def digests(self, api_key: str) -> list[str]:
        """The digest of ``api_key`` under every master, current first (for look-ups)."""
        return [m.digest(api_key) for m in self._masters]

    def encrypt(self, plaintext: str) -> str:
        """A ``v2`` envelope of ``plaintext`` under the current master (fresh nonce)."""
        nonce = os.urandom(_NONCE)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode(), None)
        return f"{_V2}{self.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, envelope: str) -> str:
        """The plaintext of a ``v2`` or ``v1`` envelope; ``UndecryptableSecret`` otherwise."""
        if envelope.startswith(_V2):
            key_id, _, body = envelope[len(_V2) :].partition(":")
            master = self._by_id.get(key_id)
            if master is None:
                raise UndecryptableSecret(f"sealed under key {key_id[:16]!r}, not in the keyring")
            return _open(master, _unpack(body))
        if envelope.startswith(_V1):
            raw = _unpack(envelope[len(_V1) :])
            for master in self._masters:
                with contextlib.suppress(UndecryptableSecret):
                    return _open(master, raw)
            raise UndecryptableSecret("no key of the keyring opens this v1 envelope")
        raise UndecryptableSecret("unknown secret envelope")

    def envelope_prefix(self) -> str:
        """What every envelope sealed under the current master starts with."""
        return f"{_V2}{self.key_id}:"

    def rotated(self, master: bytes | None = None) -> ServerSecret:
        """This keyring with a new current master (random unless given) before the others."""
        material = master if master is not None else self._fresh_master()
        return ServerSecret(material, *(m.material for m in self._masters))

    def _fresh_master(self) -> bytes:
        while True:  # a clash of 32-bit key ids is unlikely, but would make v2 ambiguous
            material = secrets.token_bytes(MASTER_BYTES)
            if _Master.of(material).key_id not in self._by_id:
                return material

    def without_older(self) -> ServerSecret:
        """This keyring with the current master only."""
        return ServerSecret(self._current.material)

    def keyring_text(self) -> str:
        """The secret file's content: one hex master per line, current first."""
        return "".join(m.material.hex() + "\n" for m in self._masters)


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(master)


def _unpack(body: str) -> bytes:
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise UndecryptableSecret("a secret envelope that is not base64") from None
    if len(raw) < _NONCE + _TAG:
        raise UndecryptableSecret("a secret envelope too short to hold a ciphertext")
    return raw


def _open(master: _Master, raw: bytes) -> str:
    try:
        return master.aead.decrypt(raw[:_NONCE], raw[_NONCE:], None).decode()
    except InvalidTag:
        raise UndecryptableSecret("the envelope does not open under its key") from None


def new_api_key(prefix: str = "cfp") -> str:
    """A fresh API key: a readable prefix and 32 random bytes (url-safe)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def parse_keyring(text: str, source: str = "the secret file") -> ServerSecret:
    """A keyring from the secret file's text: hex masters, one a line, blank lines ignored."""
    masters: list[bytes] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            material = bytes.fromhex(line.strip())
        except ValueError:
            raise SecretFileError(f"{source}, line {number}: not a hex key") from None
        if len(material) < MASTER_BYTES:
            raise SecretFileError(f"{source}, line {number}: a key must be at least 32 bytes")
        masters.append(material)
    if not masters:
        raise SecretFileError(f"{source} holds no key")
    try:
        return ServerSecret(*masters)
    except ValueError as exc:
        raise SecretFileError(f"{source}: {exc}") from None


def read_secret(path: Path) -> ServerSecret:
    """The keyring in ``path``; ``SecretFileError`` when it is missing or malformed."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SecretFileError(f"no server secret at {path}") from None
    return parse_keyring(text, str(path))


def load_or_create_secret(path: Path) -> ServerSecret:
    """Read the secret file, or make it (mode 0600, written atomically) on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(MASTER_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process made it first: keep theirs
            os.link(tmp, path)
        tmp.unlink(missing_ok=True)
    return read_secret(path)


def save_secret(path: Path, secret: ServerSecret) -> None:
    """Replace the secret file atomically: temp file (0600, same owner) + fsync + rename.

    Readers see the old keyring or the new one, never a mix; after a crash the file is one of
    the two. A symlinked file is replaced where it lives. ``SecretFileError`` when the file's
    owner cannot be kept (run as that user), before anything changes.
    """
    target = path.resolve()
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w") as handle:
            os.fchmod(handle.fileno(), 0o600)
            _keep_owner(handle.fileno(), target)
            handle.write(secret.keyring_text())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _keep_owner(fd: int, target: Path) -> None:
    """Give the new file the old one's owner, so the server's user can still read it."""
    try:
        old = target.stat()
    except FileNotFoundError:
        return
    if old.st_uid == os.geteuid():
        with contextlib.suppress(PermissionError):  # the group does not matter at mode 0600
            os.fchown(fd, -1, old.st_gid)
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        raise SecretFileError(
            f"{target} belongs to another user; run this command as that user"
        ) from None


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
