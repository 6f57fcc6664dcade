"""Chunk ids: the keyed BLAKE3 of a chunk's plaintext under the company's id key.

Ids are per company: the same plaintext has unrelated ids in two companies, so one
company's device can neither name nor reference another company's chunks. On the wire an id
is exactly 64 lower-case hex digits; anything else is refused, so one chunk has one spelling.
"""

from __future__ import annotations

from typing import NewType

from blake3 import blake3

from cleverfox.storage.errors import InvalidChunkId

ChunkId = NewType("ChunkId", bytes)
"""32 bytes: ``BLAKE3(plaintext, key=id_key)``."""

CHUNK_ID_BYTES = 32
ID_KEY_BYTES = 32
CHUNK_ID_HEX_DIGITS = 2 * CHUNK_ID_BYTES


def chunk_id(id_key: bytes, data: bytes | bytearray | memoryview) -> ChunkId:
    """The id of a chunk whose plaintext is ``data`` (``id_key``: 32 bytes)."""
    if len(id_key) != ID_KEY_BYTES:
        raise ValueError(f"the id key is {ID_KEY_BYTES} bytes, not {len(id_key)}")
    return ChunkId(blake3(data, key=id_key).digest())


def as_chunk_id(raw: bytes | bytearray | memoryview) -> ChunkId:
    """``raw`` as a ChunkId, or ``InvalidChunkId`` unless it is exactly 32 bytes."""
    if len(raw) != CHUNK_ID_BYTES:
        raise InvalidChunkId(f"a chunk id is {CHUNK_ID_BYTES} bytes, not {len(raw)}")
    return ChunkId(bytes(raw))


def chunk_id_hex(value: ChunkId) -> str:
    """The wire form: 64 lower-case hex digits."""
    return value.hex()


def parse_chunk_id(text: str) -> ChunkId:
    """The id spelled by ``text``, which must be exactly 64 lower-case hex digits."""
    if len(text) != CHUNK_ID_HEX_DIGITS or not text.isascii():
        raise InvalidChunkId("a chunk id is 64 lower-case hex digits")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise InvalidChunkId("a chunk id is 64 lower-case hex digits") from None
    # fromhex also takes upper case and spaces; the round trip admits only the one spelling.
    if len(raw) != CHUNK_ID_BYTES or raw.hex() != text:
        raise InvalidChunkId("a chunk id is 64 lower-case hex digits")
    return ChunkId(raw)
