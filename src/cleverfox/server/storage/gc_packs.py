"""Garbage collection's pack step: retire dead packs, rewrite mostly-dead ones (``storage.gc``).

A pack's live share is the stored bytes of the chunk rows pointing at it over its size. A
chunk row counts as live whatever its ``refs``: one still in its grace period may be revived
by a commit, and expired rows are deleted before this step runs.

Rewriting copies each live sealed piece verbatim (a piece's seal names its company and
chunk, not its pack) into a new pack of the same company, several sources into one new
pack up to ``target_bytes``. Order: the new pack's blob is put; then one transaction adds
its row, re-points the chunk rows (only those still pointing at their source pack) and
retires the sources. Nothing is deleted here: the sources' blobs go after the grace period.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import StorageChunk, StoragePack
from cleverfox.server.storage.blobs import sealer_of
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError
from cleverfox.storage.errors import StorageError
from cleverfox.storage.ids import ChunkId, as_chunk_id
from cleverfox.storage.index import ChunkFacts
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.pieces import Codec
from cleverfox.storage.sealing import SEAL_OVERHEAD

if TYPE_CHECKING:
    from cleverfox.server.storage.gc import GcReport

PACKS_PER_QUERY = 200
log = logging.getLogger("cleverfox.storage.gc")


@dataclass(frozen=True, slots=True)
class PackUse:
    pack_id: int
    company_id: int
    name: str
    size: int
    live_bytes: int
    live_chunks: int


@dataclass
class _Batch:
    """Source packs of one company whose live pieces go into one new pack."""

    company_id: int
    sources: list[PackUse] = field(default_factory=list)
    live_bytes: int = 0


class PackRewriter:
    def __init__(
        self,
        db: Database,
        backend: Backend,
        secret: ServerSecret,
        *,
        rewrite_below: float,
        target_bytes: int,
    ) -> None:
        self.db = db
        self.backend = backend
        self.secret = secret
        self.rewrite_below = rewrite_below
        self.target_bytes = target_bytes

    def rewrite(self, now: datetime, report: GcReport) -> None:
        """Retire every dead pack, rewrite every pack below the live share."""
        batches: dict[int, _Batch] = {}
        for use in self.pack_uses():
            if use.live_chunks == 0:
                self._retire([use.pack_id], now)
                report.packs_retired += 1
            elif use.live_bytes < self.rewrite_below * use.size:
                batch = batches.setdefault(use.company_id, _Batch(use.company_id))
                batch.sources.append(use)
                batch.live_bytes += use.live_bytes
                if batch.live_bytes >= self.target_bytes:
                    self._rewrite(batches.pop(use.company_id), now, report)
        for batch in batches.values():
            self._rewrite(batch, now, report)

    def pack_uses(self) -> Iterator[PackUse]:
        """Every unretired pack with its live bytes and chunks, a page of packs per read."""
        after = 0
        while True:
            with self.db.reading() as session:
                page = session.execute(
                    select(
                        StoragePack.id,
                        StoragePack.company_id,
                        StoragePack.name,
                        StoragePack.size_bytes,
                        func.coalesce(func.sum(StorageChunk.stored_length), 0),
                        func.count(StorageChunk.chunk_id),
                    )
                    .outerjoin(StorageChunk, StorageChunk.pack_id == StoragePack.id)
                    .where(StoragePack.retired_on.is_(None), StoragePack.id > after)
                    .group_by(StoragePack.id)
                    .order_by(StoragePack.id)
                    .limit(PACKS_PER_QUERY)
                ).all()
            yield from (PackUse(*row) for row in page)
            if len(page) < PACKS_PER_QUERY:
                return
            after = page[-1][0]

    def _rewrite(self, batch: _Batch, now: datetime, report: GcReport) -> None:
        try:
            with self.db.reading() as session:
                sealer = sealer_of(session, self.secret, batch.company_id)
            writer = PackWriter(sealer, new_pack_name(batch.company_id))
            moved: list[dict[str, Any]] = []
            for source in batch.sources:
                moved += self._copy_live(source, writer)
        except (StorageError, BackendError, ValueError) as exc:
            # A source pack gone or cut short: its chunks are damaged (storage check names
            # the files); copying what is left would not mend them. The packs stay as they are.
            names = ", ".join(s.name for s in batch.sources)
            log.error("packs %s cannot be rewritten: %s", names, exc)
            report.packs_unreadable += len(batch.sources)
            return
        pack = writer.finish()
        self.backend.put(pack.name, pack.data)  # durable before any row names it
        with self.db.writing() as session:
            row = StoragePack(
                company_id=batch.company_id,
                name=pack.name,
                size_bytes=writer.size,
                chunk_count=len(pack.entries),
                added_on=now,
            )
            session.add(row)
            session.flush()
            for entry, change in zip(pack.entries, moved, strict=True):
                session.execute(
                    update(StorageChunk)
                    .where(
                        StorageChunk.company_id == batch.company_id,
                        StorageChunk.chunk_id == bytes(entry.chunk_id),
                        StorageChunk.pack_id == change["source"],
                    )
                    .values(pack_id=row.id, offset=entry.offset)
                )
            self._retire_in(session, [s.pack_id for s in batch.sources], now)
        report.packs_rewritten += len(batch.sources)
        report.packs_written += 1

    def _copy_live(self, source: PackUse, writer: PackWriter) -> list[dict[str, Any]]:
        """Append the source's live sealed pieces to ``writer``; their re-pointing facts."""
        with self.db.reading() as session:
            rows = session.execute(
                select(
                    StorageChunk.chunk_id,
                    StorageChunk.offset,
                    StorageChunk.stored_length,
                    StorageChunk.codec,
                    StorageChunk.size,
                    StorageChunk.crc32,
                )
                .where(StorageChunk.pack_id == source.pack_id)
                .order_by(StorageChunk.offset)
            ).all()
        blob = memoryview(self.backend.get(source.name))
        moved = []
        for raw_id, offset, stored, codec, size, crc in rows:
            chunk_id: ChunkId = as_chunk_id(raw_id)
            facts = ChunkFacts(size, Codec(codec), stored - SEAL_OVERHEAD, crc)
            writer.add_sealed(chunk_id, facts, bytes(blob[offset : offset + stored]))
            moved.append({"source": source.pack_id})
        return moved

    def _retire(self, pack_ids: list[int], now: datetime) -> None:
        with self.db.writing() as session:
            self._retire_in(session, pack_ids, now)

    @staticmethod
    def _retire_in(session: Any, pack_ids: list[int], now: datetime) -> None:
        # A pack that gained a row since it was read dead cannot: new rows go to new packs.
        session.execute(
            update(StoragePack)
            .where(StoragePack.id.in_(pack_ids), StoragePack.retired_on.is_(None))
            .values(retired_on=now)
        )
