"""Packs: write-once objects of sealed pieces, closed by a sealed trailer that lists them.

```
"CFXPACK1" | sealed piece … | sealed trailer | trailer length (u32 BE) | "CFXPEND1"
```

The trailer (``version (1) | count (u32) | entries``; each entry ``chunk id (32) | offset
(u64) | stored length (u32) | codec (u8) | size (u32) | crc32 (u32)``) is sealed with the
pack's name in its associated data, so an operator can rebuild the index from the packs
alone and a trailer copied to another pack's name does not open. A piece's seal names its
company and chunk, not its pack, so garbage collection copies live sealed pieces verbatim
into a new pack (``PackWriter.add_sealed``).
"""

from __future__ import annotations

import re
import secrets
import struct
from dataclasses import dataclass

from cleverfox.storage.errors import Damaged
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.index import ChunkFacts, PackEntry
from cleverfox.storage.pieces import Codec
from cleverfox.storage.sealing import SEAL_OVERHEAD, CompanySealer

PACK_MAGIC = b"CFXPACK1"
PACK_END = b"CFXPEND1"
TRAILER_VERSION = 1
_TAIL = struct.Struct(">I8s")
PACK_TAIL_BYTES = _TAIL.size
_TRAILER_HEAD = struct.Struct(">BI")
_TRAILER_ENTRY = struct.Struct(">32sQIBII")
_PACK_NAME = re.compile(r"packs/(?P<company>[0-9]+)/(?P<fan>[0-9a-f]{2})/(?P<id>[0-9a-f]{32})")


def new_pack_name(company_id: int) -> str:
    """A fresh pack's object name: ``packs/<company>/<2 hex>/<32 hex random>``."""
    pack_id = secrets.token_hex(16)
    return f"packs/{company_id}/{pack_id[:2]}/{pack_id}"


def pack_company(name: str) -> int | None:
    """The company a well-formed pack name belongs to, or ``None`` for any other name."""
    match = _PACK_NAME.fullmatch(name)
    if match is None or match["fan"] != match["id"][:2]:
        return None
    return int(match["company"])


@dataclass(frozen=True, slots=True)
class FinishedPack:
    """A pack's bytes, to be written once under ``name``, and the entries to index after."""

    name: str
    data: bytes
    entries: tuple[PackEntry, ...]


class PackWriter:
    """Builds one pack in memory (packs are at most ``MaxPackBytes``, 64 MiB by default)."""

    def __init__(self, sealer: CompanySealer, name: str) -> None:
        self._sealer = sealer
        self.name = name
        self._parts: list[bytes] = [PACK_MAGIC]
        self._size = len(PACK_MAGIC)
        self._entries: list[PackEntry] = []

    @property
    def size(self) -> int:
        """Bytes so far, before the trailer (which adds 12 + 28 + 5 + 53 per entry)."""
        return self._size

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, chunk_id: ChunkId, facts: ChunkFacts, piece: bytes | memoryview) -> PackEntry:
        """Seal ``piece`` (the chunk ``chunk_id`` with ``facts``) and append it."""
        if len(piece) != facts.piece_length:
            raise ValueError("the piece's length differs from its facts")
        return self.add_sealed(chunk_id, facts, self._sealer.seal_piece(chunk_id, piece))

    def add_sealed(self, chunk_id: ChunkId, facts: ChunkFacts, sealed: bytes) -> PackEntry:
        """Append a piece already sealed for this company and chunk (a copy from a pack)."""
        if len(sealed) != facts.stored_length:
            raise ValueError("the sealed piece's length differs from its facts")
        entry = PackEntry(chunk_id, self._size, len(sealed), facts.codec, facts.size, facts.crc32)
        self._parts.append(sealed)
        self._size += len(sealed)
        self._entries.append(entry)
        return entry

    def finish(self) -> FinishedPack:
        """The pack's bytes with its sealed trailer and end marker. The writer is spent."""
        trailer = self._sealer.seal_trailer(self.name, encode_trailer(self._entries))
        self._parts += (trailer, _TAIL.pack(len(trailer), PACK_END))
        data = b"".join(self._parts)
        self._parts = []
        return FinishedPack(self.name, data, tuple(self._entries))


def encode_trailer(entries: list[PackEntry]) -> bytes:
    parts = [_TRAILER_HEAD.pack(TRAILER_VERSION, len(entries))]
    parts += (
        _TRAILER_ENTRY.pack(e.chunk_id, e.offset, e.stored_length, e.codec, e.size, e.crc32)
        for e in entries
    )
    return b"".join(parts)


def trailer_span(pack_size: int, tail: bytes | memoryview) -> tuple[int, int]:
    """``(offset, length)`` of the sealed trailer, from the pack's last 12 bytes."""
    if len(tail) != PACK_TAIL_BYTES or pack_size < len(PACK_MAGIC) + PACK_TAIL_BYTES:
        raise Damaged("a pack is shorter than its magic and end marker")
    length, end = _TAIL.unpack(tail)
    if end != PACK_END:
        raise Damaged("a pack does not end with its end marker")
    offset = pack_size - PACK_TAIL_BYTES - length
    if length < SEAL_OVERHEAD or offset < len(PACK_MAGIC):
        raise Damaged("a pack's trailer length does not fit the pack")
    return offset, length


def open_trailer(
    sealer: CompanySealer, name: str, sealed_trailer: bytes | memoryview, trailer_offset: int
) -> list[PackEntry]:
    """The entries of a pack's trailer; ``Damaged`` unless it opens and every entry fits."""
    trailer = sealer.open_trailer(name, sealed_trailer)
    if len(trailer) < _TRAILER_HEAD.size:
        raise Damaged("a pack trailer is cut short")
    version, count = _TRAILER_HEAD.unpack_from(trailer)
    expected_length = _TRAILER_HEAD.size + count * _TRAILER_ENTRY.size
    if version != TRAILER_VERSION or len(trailer) != expected_length:
        raise Damaged("a pack trailer of an unknown version or length")
    entries = []
    expected_offset = len(PACK_MAGIC)
    for raw_id, offset, stored, codec, size, crc in _TRAILER_ENTRY.iter_unpack(
        memoryview(trailer)[_TRAILER_HEAD.size :]
    ):
        if offset != expected_offset or stored < SEAL_OVERHEAD or codec not in (0, 1):
            raise Damaged("a pack trailer entry does not fit its pack")
        entries.append(PackEntry(ChunkId(raw_id), offset, stored, Codec(codec), size, crc))
        expected_offset += stored
    if expected_offset != trailer_offset:
        raise Damaged("a pack trailer does not account for the pack's pieces")
    return entries


def read_trailer(sealer: CompanySealer, name: str, pack: bytes | memoryview) -> list[PackEntry]:
    """The entries of a whole pack held in memory (``check``, index rebuilds, tests)."""
    offset, length = trailer_span(len(pack), memoryview(pack)[-PACK_TAIL_BYTES:])
    if pack[: len(PACK_MAGIC)] != PACK_MAGIC:
        raise Damaged("a pack does not start with its magic")
    return open_trailer(sealer, name, memoryview(pack)[offset : offset + length], offset)
