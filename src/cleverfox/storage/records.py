"""The body of ``PUT /api/agent/packs``: records ``id (32) | codec (1) | length (u32) | piece``.

What is *malformed* (400 ``pack_malformed``) is what stops the body being read as records:
an empty body, a header cut short, a length that runs past the end. Everything else is read
as records and judged one by one (400 ``chunk_invalid`` naming the id): an unknown codec, a
piece that does not open, or that does not hash to its id (``pieces.open_piece``). A repeated
id is not malformed; each copy is verified, and the server stores one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from cleverfox.storage.errors import PackMalformed, PieceInvalid, RecordInvalid
from cleverfox.storage.ids import CHUNK_ID_BYTES, ChunkId
from cleverfox.storage.index import ChunkFacts, facts_of
from cleverfox.storage.pieces import Codec, open_piece

_HEADER = struct.Struct(">32sBI")
RECORD_HEADER_BYTES = _HEADER.size


@dataclass(frozen=True, slots=True)
class Record:
    """One upload record; ``piece`` is a view into the body (no copy)."""

    chunk_id: ChunkId
    codec: int
    piece: memoryview


@dataclass(frozen=True, slots=True)
class VerifiedRecord:
    """A record whose piece opened, with the id it claims, to a chunk with these ``facts``."""

    chunk_id: ChunkId
    piece: memoryview
    facts: ChunkFacts


def record_header(chunk_id: bytes, codec: int, length: int) -> bytes:
    """The 37 bytes before a piece of ``length`` bytes (the agent writes header, then piece)."""
    if len(chunk_id) != CHUNK_ID_BYTES:
        raise ValueError("a chunk id is 32 bytes")
    return _HEADER.pack(chunk_id, codec, length)


def encode_records(records: Iterable[tuple[bytes, int, bytes]]) -> bytes:
    """A whole body from ``(chunk id, codec, piece)`` triples."""
    parts: list[bytes] = []
    for chunk_id, codec, piece in records:
        parts.append(record_header(chunk_id, codec, len(piece)))
        parts.append(piece)
    return b"".join(parts)


def parse_records(body: bytes | bytearray | memoryview) -> list[Record]:
    """Every record of ``body``, in order, or ``PackMalformed`` if it is not such a sequence."""
    view = memoryview(body).cast("B")
    end = len(view)
    if end == 0:
        raise PackMalformed("the body holds no records")
    records: list[Record] = []
    offset = 0
    while offset < end:
        if end - offset < RECORD_HEADER_BYTES:
            raise PackMalformed(f"record {len(records) + 1}: its header is cut short")
        raw_id, codec, length = _HEADER.unpack_from(view, offset)
        offset += RECORD_HEADER_BYTES
        if length > end - offset:
            raise PackMalformed(f"record {len(records) + 1}: its length runs past the end")
        records.append(Record(ChunkId(raw_id), codec, view[offset : offset + length]))
        offset += length
    return records


def verify_records(
    records: Sequence[Record], id_key: bytes, max_size: int
) -> Iterator[VerifiedRecord]:
    """Each record, opened and checked; ``RecordInvalid`` naming the first bad one.

    The server drains this before it stores anything, so one bad record refuses the pack;
    plaintexts are dropped as soon as their size and CRC-32 are known, so memory stays that
    of the body.
    """
    for record in records:
        try:
            plaintext = open_piece(record.codec, record.piece, id_key, record.chunk_id, max_size)
        except PieceInvalid as error:
            raise RecordInvalid(record.chunk_id, error.reason) from None
        facts = facts_of(Codec(record.codec), len(record.piece), plaintext)
        yield VerifiedRecord(record.chunk_id, record.piece, facts)
