"""``SqlChunkIndex``: one company's chunk index in the server's database.

It satisfies ``cleverfox.storage.index.ChunkIndex``, so the engine's upload, resolution and
archive code runs on it unchanged. Look-ups go in batches of ``BATCH`` ids (one ``IN``
query each: bounded parameters on SQLite, bounded plans on PostgreSQL). ``add_pack`` is
called only after the pack's blob is durable in the backend, inside the caller's unit of
work: the pack row, its chunks' rows (an id already indexed keeps its first location; the
copy becomes garbage with its pack) and the company's totals commit together.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.models import StorageChunk, StorageCompany, StoragePack
from cleverfox.storage.ids import ChunkId, as_chunk_id
from cleverfox.storage.index import ChunkFacts, ChunkLocation, PackEntry
from cleverfox.storage.pieces import Codec
from cleverfox.storage.sealing import SEAL_OVERHEAD

BATCH = 500
T = TypeVar("T")


class SqlChunkIndex:
    """The chunk index of company ``company_id``, read and written through ``session``."""

    def __init__(self, session: Session, company_id: int) -> None:
        self.session = session
        self.company_id = company_id

    def facts(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkFacts]:
        columns = (
            StorageChunk.chunk_id,
            StorageChunk.size,
            StorageChunk.codec,
            StorageChunk.stored_length,
            StorageChunk.crc32,
        )
        return {
            as_chunk_id(row[0]): ChunkFacts(row[1], Codec(row[2]), row[3] - SEAL_OVERHEAD, row[4])
            for row in self._rows(columns, chunk_ids)
        }

    def locations(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkLocation]:
        columns = (
            StorageChunk.chunk_id,
            StoragePack.name,
            StorageChunk.offset,
            StorageChunk.stored_length,
        )
        return {
            as_chunk_id(row[0]): ChunkLocation(row[1], row[2], row[3])
            for row in self._rows(columns, chunk_ids, join_pack=True)
        }

    def missing(self, chunk_ids: Sequence[ChunkId]) -> list[ChunkId]:
        present = {as_chunk_id(row[0]) for row in self._rows((StorageChunk.chunk_id,), chunk_ids)}
        seen: set[ChunkId] = set()
        absent = []
        for chunk_id in chunk_ids:
            if chunk_id not in present and chunk_id not in seen:
                seen.add(chunk_id)
                absent.append(chunk_id)
        return absent

    def add_pack(self, pack_name: str, entries: Sequence[PackEntry]) -> int:
        pack = StoragePack(
            company_id=self.company_id,
            name=pack_name,
            size_bytes=max((e.offset + e.stored_length for e in entries), default=0),
            chunk_count=len(entries),
        )
        self.session.add(pack)
        self.session.flush()
        new = 0
        added_bytes = 0
        for batch in batches(list(entries)):
            rows = [self._chunk_row(pack.id, entry) for entry in batch]
            inserted = self._insert_new(rows)
            new += len(inserted)
            added_bytes += sum(row["stored_length"] for row in rows if row["chunk_id"] in inserted)
        self.session.execute(
            update(StorageCompany)
            .where(StorageCompany.company_id == self.company_id)
            .values(
                stored_bytes=StorageCompany.stored_bytes + added_bytes,
                chunk_count=StorageCompany.chunk_count + new,
            )
        )
        return new

    def _chunk_row(self, pack_id: int, entry: PackEntry) -> dict[str, Any]:
        now = utcnow()
        return {
            "company_id": self.company_id,
            "chunk_id": bytes(entry.chunk_id),
            "pack_id": pack_id,
            "offset": entry.offset,
            "stored_length": entry.stored_length,
            "codec": int(entry.codec),
            "size": entry.size,
            "crc32": entry.crc32,
            "refs": 0,
            "unreferenced_since": now,
            "added_on": now,
        }

    def _insert_new(self, rows: list[dict[str, Any]]) -> set[bytes]:
        """Insert ``rows`` whose ids are not yet indexed; the ids actually inserted."""
        dialect = self.session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(StorageChunk)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["company_id", "chunk_id"])
            .returning(StorageChunk.chunk_id)
        )
        return {bytes(row[0]) for row in self.session.execute(statement)}

    def _rows(
        self, columns: tuple[Any, ...], chunk_ids: Collection[ChunkId], *, join_pack: bool = False
    ) -> Iterator[Any]:
        for batch in batches(list(dict.fromkeys(chunk_ids))):
            statement = select(*columns).where(
                StorageChunk.company_id == self.company_id,
                StorageChunk.chunk_id.in_([bytes(c) for c in batch]),
            )
            if join_pack:
                statement = statement.join(StoragePack, StoragePack.id == StorageChunk.pack_id)
            yield from self.session.execute(statement)


def batches(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``: the storage SQL's one way of
    bounding an ``IN`` list (SQLite's parameter limit, PostgreSQL's plan size)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
