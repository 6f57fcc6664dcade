"""AES-256-GCM sealing under a company's data key, and the company's key material.

Everything the server stores is sealed: ``nonce (12) | ciphertext | tag (16)``, with a
random nonce and associated data that binds the bytes to what they are and whose they are
(docs/storage-format.md §4): a piece to its company and chunk id, a pack trailer to its
company and pack name, a manifest segment to its company, manifest digest, position and
whether it is the last. Bytes moved to another company, chunk, pack or position fail to open
(``Damaged``), as do altered ones.

Random 96-bit nonces keep the chance of a repeat below 2^-32 up to 2^32 seals per key: about
four petabytes of 1 MiB chunks for one company.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cleverfox.storage.errors import Damaged, KeysInvalid
from cleverfox.storage.ids import ID_KEY_BYTES

NONCE_BYTES = 12
TAG_BYTES = 16
SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES
DATA_KEY_BYTES = 32
KEYS_VERSION = 1

_PIECE_AAD = b"cfx-piece-v1"
_PACK_AAD = b"cfx-pack-v1"
_MANIFEST_AAD = b"cfx-manifest-v1"
_COMPANY = struct.Struct(">Q")
_SEGMENT_POSITION = struct.Struct(">IB")


@dataclass(frozen=True, slots=True)
class CompanyKeys:
    """A company's id key (names chunks; its devices get it) and data key (never leaves)."""

    id_key: bytes = field(repr=False)
    data_key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.id_key) != ID_KEY_BYTES or len(self.data_key) != DATA_KEY_BYTES:
            raise KeysInvalid("company keys are two 32-byte keys")

    @classmethod
    def generate(cls) -> CompanyKeys:
        """New random keys, made once per company on first use."""
        return cls(os.urandom(ID_KEY_BYTES), os.urandom(DATA_KEY_BYTES))

    def to_bytes(self) -> bytes:
        """``version (1) | id key | data key``: the one secret the server wraps and stores."""
        return bytes((KEYS_VERSION,)) + self.id_key + self.data_key

    @classmethod
    def from_bytes(cls, raw: bytes) -> CompanyKeys:
        """The keys of ``to_bytes``; ``KeysInvalid`` for any other version or length."""
        if len(raw) != 1 + ID_KEY_BYTES + DATA_KEY_BYTES or raw[0] != KEYS_VERSION:
            raise KeysInvalid("not company keys of a known version")
        return cls(raw[1 : 1 + ID_KEY_BYTES], raw[1 + ID_KEY_BYTES :])


class CompanySealer:
    """Seals and opens one company's stored objects under its data key."""

    __slots__ = ("_aead", "_company")

    def __init__(self, data_key: bytes, company_id: int) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise KeysInvalid("a data key is 32 bytes")
        self._aead = AESGCM(data_key)
        self._company = _COMPANY.pack(company_id)

    def seal_piece(self, chunk_id: bytes, piece: bytes | memoryview) -> bytes:
        """A piece as stored in a pack: its length plus ``SEAL_OVERHEAD``."""
        return self._seal(piece, _PIECE_AAD + self._company + chunk_id)

    def open_piece(self, chunk_id: bytes, sealed: bytes | memoryview) -> bytes:
        """The piece sealed for this company and ``chunk_id``, or ``Damaged``."""
        return self._open(sealed, _PIECE_AAD + self._company + chunk_id, "piece")

    def seal_trailer(self, pack_name: str, trailer: bytes) -> bytes:
        return self._seal(trailer, _PACK_AAD + self._company + pack_name.encode())

    def open_trailer(self, pack_name: str, sealed: bytes | memoryview) -> bytes:
        return self._open(sealed, _PACK_AAD + self._company + pack_name.encode(), "pack trailer")

    def seal_segment(self, digest: bytes, number: int, last: bool, payload: bytes) -> bytes:
        return self._seal(payload, self._segment_aad(digest, number, last))

    def open_segment(self, digest: bytes, number: int, last: bool, sealed: bytes) -> bytes:
        """Segment ``number`` of the manifest ``digest``; ``Damaged`` if it is not (or if its
        ``last`` flag differs, which is how a truncated stream is caught)."""
        return self._open(sealed, self._segment_aad(digest, number, last), "manifest segment")

    def _segment_aad(self, digest: bytes, number: int, last: bool) -> bytes:
        return _MANIFEST_AAD + self._company + digest + _SEGMENT_POSITION.pack(number, last)

    def _seal(self, data: bytes | memoryview, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data, aad)

    def _open(self, sealed: bytes | memoryview, aad: bytes, what: str) -> bytes:
        if len(sealed) < SEAL_OVERHEAD:
            raise Damaged(f"a sealed {what} is shorter than its nonce and tag")
        view = memoryview(sealed)
        try:
            return self._aead.decrypt(view[:NONCE_BYTES], view[NONCE_BYTES:], aad)
        except InvalidTag:
            raise Damaged(f"the {what} does not open: altered, or sealed for another") from None
