"""The agent's restore reads: a Log Item's manifest as entries, and chunks' pieces by id.

Both are scoped to the calling device's company: another company's Log Item is 404, and
a chunk id means something only within one company (ids are keyed per company), so the
index is asked for this company's chunks only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import select

from cleverfox.server.downloads.schemas import READ_BYTES_MAX, READ_IDS_MAX
from cleverfox.server.downloads.service import modified_utc, not_available
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.errors import FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import LogItem
from cleverfox.server.storage.downloads import StoredFile, live_file, read_pieces
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import existing_keys
from cleverfox.storage.archive import BATCH_PIECE_BYTES
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.errors import InvalidChunkId
from cleverfox.storage.ids import ChunkId, parse_chunk_id
from cleverfox.storage.index import ChunkFacts
from cleverfox.storage.manifest_stream import ManifestReader
from cleverfox.storage.records import record_header
from cleverfox.storage.sealing import CompanySealer

WRITE_BYTES = 1 << 20


def device_file(db: Database, secret: ServerSecret, company_id: int, item_id: int) -> StoredFile:
    """The live file of one of the company's Log Items: 404, or 404
    ``backup_file_not_available``."""
    with db.reading() as session:
        owner = session.scalar(select(LogItem.company_id).where(LogItem.id == item_id))
        if owner != company_id:
            raise NotFound()
        stored = live_file(session, secret, item_id)
    if stored is None:
        raise not_available()
    return stored


def manifest_lines(reader: ManifestReader) -> Iterator[bytes]:
    """The manifest as NDJSON, an entry a line, in archive order, about 1 MiB a write."""
    buffer = bytearray()
    for entry in reader.entries():
        buffer += orjson.dumps(
            {
                "Path": entry.path,
                "Mode": entry.mode,
                "Size": entry.size,
                "ModifiedUtc": modified_utc(entry.modified_ms),
                "ChunkIds": [chunk.chunk_id.hex() for chunk in entry.chunks],
            }
        )
        buffer += b"\n"
        if len(buffer) >= WRITE_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def requested_ids(body: dict[str, Any]) -> list[ChunkId]:
    """``Ids`` of a ``chunks/read`` body: 1..1000 chunk ids (64 lower-case hex digits)."""
    raw = next((v for k, v in body.items() if k.casefold() == "ids"), None)
    if not isinstance(raw, list) or not 1 <= len(raw) <= READ_IDS_MAX:
        raise _invalid(f"Ids must be a list of 1 to {READ_IDS_MAX} chunk ids.")
    try:
        return [parse_chunk_id(text) if isinstance(text, str) else _not_id() for text in raw]
    except InvalidChunkId:
        raise _invalid("Ids must hold chunk ids of 64 lower-case hex digits.") from None


class ChunkRead:
    """A ``chunks/read`` answer: the records of ``ids`` in order, ``size`` bytes in all."""

    def __init__(
        self,
        backend: Backend,
        db: Database,
        secret: ServerSecret,
        company_id: int,
        ids: Sequence[ChunkId],
    ) -> None:
        with db.reading() as session:
            facts = SqlChunkIndex(session, company_id).facts(ids)
            keys = existing_keys(session, secret, company_id)
        absent = [chunk_id.hex() for chunk_id in dict.fromkeys(ids) if chunk_id not in facts]
        if absent or keys is None:
            raise NotFound(
                f"{len(absent)} of the chunks are not in this company's storage.",
                code="chunk_missing",
                extra={"ids": absent[:1000]},
            )
        if sum(facts[chunk_id].size for chunk_id in ids) > READ_BYTES_MAX:
            raise _invalid(f"The chunks asked for hold more than {READ_BYTES_MAX} bytes.")
        self._backend, self._db, self._company_id = backend, db, company_id
        self._sealer = CompanySealer(keys.data_key, company_id)
        self._ids, self._facts = ids, facts
        self.size = sum(37 + facts[chunk_id].piece_length for chunk_id in ids)

    def records(self) -> Iterator[bytes]:
        """The records, a batch of about 16 MiB of pieces read at a time."""
        for batch in _batches(self._ids, self._facts):
            pieces = read_pieces(
                self._backend, self._db, self._company_id, self._sealer, set(batch)
            )
            for chunk_id in batch:
                piece = pieces[chunk_id]
                yield record_header(chunk_id, self._facts[chunk_id].codec, len(piece)) + piece


def _batches(
    ids: Sequence[ChunkId], facts: Mapping[ChunkId, ChunkFacts]
) -> Iterator[list[ChunkId]]:
    batch: list[ChunkId] = []
    size = 0
    for chunk_id in ids:
        batch.append(chunk_id)
        size += facts[chunk_id].piece_length
        if size >= BATCH_PIECE_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _not_id() -> ChunkId:
    raise InvalidChunkId("a chunk id is a string")


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed([FieldError("Ids", "invalid", message)])
