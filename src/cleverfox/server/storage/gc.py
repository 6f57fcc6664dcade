"""Garbage collection: released references, expired chunks, rewritten packs, deleted blobs.

One pass (``GarbageCollector.collect``) runs these steps in order, each in batches of short
transactions, never one long one, and never holding a lock an upload or a download waits
for:

1. **Release.** Each deleted manifest whose references are still counted is read from its
   blob; its distinct chunks' ``refs`` drop by one, those reaching 0 get
   ``unreferenced_since``, and the row gets ``refs_released_on`` — one transaction per
   manifest, so a crash leaves it released or not, never half.
2. **Expire.** Chunk rows with ``refs = 0`` and ``unreferenced_since`` older than the grace
   period are deleted, the condition repeated in the DELETE's WHERE: a commit that revived
   a chunk meanwhile (``refs`` 1, ``unreferenced_since`` NULL) wins. The company's totals
   drop with them.
3. **Packs.** A pack no row points at is retired. A pack whose live share (bytes of the
   chunk rows pointing at it over its size) is below ``rewrite_below`` has its live sealed
   pieces copied verbatim into a new pack (``PackWriter.add_sealed``; several such packs of
   a company go into one): the new pack is put, *then* its row is added, the chunk rows
   re-pointed and the old packs retired in one transaction. A crash before that commit
   leaves an orphan blob (step 5); after it, the old packs stay readable for the grace
   period, so a download that resolved a location a moment before still reads it.
4. **Delete.** Retired packs' blobs and deleted manifests' blobs older than the grace period
   are deleted from the backend, then their rows (packs) or marks (manifests).
5. **Orphans.** Blobs under ``packs/`` and ``manifests/`` that no row names are recorded in
   ``storage_orphans`` when first seen, and deleted once they have stayed orphans for the
   grace period: an upload between its ``put`` and its commit is never one that long.

Once across processes: ``gc_lock`` (an advisory lock on PostgreSQL, a file lock beside an
SQLite database); a pass that cannot take it does nothing.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, make_url, select, text, update

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import (
    StorageChunk,
    StorageCompany,
    StorageManifest,
    StorageOrphan,
    StoragePack,
)
from cleverfox.server.storage.blobs import STORED_PREFIXES, manifest_chunk_ids, sealer_of
from cleverfox.server.storage.gc_packs import PackRewriter
from cleverfox.server.storage.index import batches
from cleverfox.settings import Settings
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError
from cleverfox.storage.errors import StorageError
from cleverfox.storage.ids import ChunkId

log = logging.getLogger("cleverfox.storage.gc")

GC_LOCK_ID = 0x43460106  # "CF" 1 06: the pass itself (the duty's own lock is 0x43460006)
BATCH = 500
REWRITE_BELOW = 0.5
PAUSE = 0.02


@dataclass
class GcReport:
    """What one pass did (``cleverfox storage gc --json`` prints it)."""

    ran: bool = True
    manifests_released: int = 0
    manifests_unreadable: int = 0
    chunks_deleted: int = 0
    bytes_freed: int = 0
    packs_retired: int = 0
    packs_rewritten: int = 0
    packs_written: int = 0
    packs_unreadable: int = 0
    pack_blobs_deleted: int = 0
    manifest_blobs_deleted: int = 0
    orphans_seen: int = 0
    orphans_deleted: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "".join(p.capitalize() for p in f.name.split("_")): getattr(self, f.name)
            for f in fields(self)
        }


class GarbageCollector:
    """Collects the garbage of ``db``'s storage in ``backend``.

    ``grace`` is how long garbage stays before it is deleted (``storage_gc_grace``);
    ``rewrite_below`` the live share under which a pack is rewritten; ``target_pack_bytes``
    the size at which a rewritten pack is closed; ``pause`` the seconds between two write
    transactions, so writers waiting for the database (SQLite has one) get their turn.
    """

    def __init__(
        self,
        db: Database,
        backend: Backend,
        secret: ServerSecret,
        *,
        grace: timedelta,
        rewrite_below: float = REWRITE_BELOW,
        target_pack_bytes: int = 32 << 20,
        batch: int = BATCH,
        pause: float = PAUSE,
    ) -> None:
        self.db = db
        self.pause = pause
        self.backend = backend
        self.secret = secret
        self.grace = grace
        self.batch = batch
        self.packs = PackRewriter(
            db, backend, secret, rewrite_below=rewrite_below, target_bytes=target_pack_bytes
        )

    def collect(self, now: datetime) -> GcReport:
        """One whole pass at ``now`` (naive UTC); the caller holds ``gc_lock``."""
        report = GcReport()
        cutoff = now - self.grace
        self.release_manifests(now, report)
        self.expire_chunks(cutoff, report)
        self.packs.rewrite(now, report)
        self.delete_retired(now, cutoff, report)
        self.collect_orphans(now, cutoff, report)
        return report

    # 1. release ---------------------------------------------------------------------------

    def release_manifests(self, now: datetime, report: GcReport) -> None:
        after = 0
        while ids := self._pending_releases(after):
            for manifest_id in ids:
                self._release(manifest_id, now, report)
                time.sleep(self.pause)
            after = ids[-1]

    def _pending_releases(self, after: int) -> list[int]:
        with self.db.reading() as session:
            return list(
                session.scalars(
                    select(StorageManifest.id)
                    .where(
                        StorageManifest.deleted_on.is_not(None),
                        StorageManifest.refs_released_on.is_(None),
                        StorageManifest.id > after,
                    )
                    .order_by(StorageManifest.id)
                    .limit(self.batch)
                )
            )

    def _release(self, manifest_id: int, now: datetime, report: GcReport) -> None:
        chunk_ids = self._chunk_ids(manifest_id)
        with self.db.writing() as session:
            manifest = session.get(StorageManifest, manifest_id, with_for_update=True)
            assert manifest is not None  # manifest rows are never deleted
            if manifest.refs_released_on is not None:
                return  # released by another pass meanwhile
            manifest.refs_released_on = now
            if chunk_ids is None:
                report.manifests_unreadable += 1
                return
            for batch in batches(sorted(chunk_ids), self.batch):
                where = (
                    StorageChunk.company_id == manifest.company_id,
                    StorageChunk.chunk_id.in_([bytes(c) for c in batch]),
                )
                # Locked in id order first, as commits lock them: the two never deadlock.
                session.execute(
                    select(StorageChunk.chunk_id)
                    .where(*where)
                    .order_by(StorageChunk.chunk_id)
                    .with_for_update()
                ).all()
                session.execute(
                    update(StorageChunk)
                    .where(*where, StorageChunk.refs > 0)
                    .values(refs=StorageChunk.refs - 1)
                    .execution_options(synchronize_session=False)
                )
                session.execute(
                    update(StorageChunk)
                    .where(
                        *where, StorageChunk.refs == 0, StorageChunk.unreferenced_since.is_(None)
                    )
                    .values(unreferenced_since=now)
                )
        report.manifests_released += 1

    def _chunk_ids(self, manifest_id: int) -> set[ChunkId] | None:
        """The manifest's distinct chunks, read outside any write transaction; ``None`` when
        its blob cannot be read. Its references then stay counted: those chunks leak
        (``storage check`` reports the blob) rather than one another file needs being lost."""
        with self.db.reading() as session:
            manifest = session.get(StorageManifest, manifest_id)
            assert manifest is not None
            try:
                sealer = sealer_of(session, self.secret, manifest.company_id)
                return manifest_chunk_ids(self.backend, sealer, manifest)
            except (StorageError, BackendError) as exc:
                log.error("manifest %s cannot be read to release it: %s", manifest.blob_name, exc)
                return None

    # 2. expire ----------------------------------------------------------------------------

    def expire_chunks(self, cutoff: datetime, report: GcReport) -> None:
        expired = (StorageChunk.refs == 0, StorageChunk.unreferenced_since < cutoff)
        while True:
            with self.db.writing() as session:
                # Oldest first, on the unreferenced_since index; rows a commit holds are
                # skipped (it is reviving them), so this never waits for one.
                keys = session.execute(
                    select(StorageChunk.company_id, StorageChunk.chunk_id)
                    .where(*expired)
                    .order_by(StorageChunk.unreferenced_since)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                ).all()
                if not keys:
                    return
                by_company: dict[int, list[bytes]] = {}
                for company_id, chunk_id in keys:
                    by_company.setdefault(company_id, []).append(chunk_id)
                deleted: list[Any] = []
                for company_id, chunk_ids in by_company.items():
                    deleted += session.execute(
                        delete(StorageChunk)
                        .where(
                            StorageChunk.company_id == company_id,
                            StorageChunk.chunk_id.in_(chunk_ids),
                            *expired,
                        )
                        .returning(StorageChunk.company_id, StorageChunk.stored_length)
                    ).all()
                self._lower_totals(session, deleted, report)
            if len(keys) < self.batch:
                return
            time.sleep(self.pause)

    @staticmethod
    def _lower_totals(session: Any, deleted: Sequence[Any], report: GcReport) -> None:
        by_company: dict[int, tuple[int, int]] = {}
        for company_id, stored_length in deleted:
            count, size = by_company.get(company_id, (0, 0))
            by_company[company_id] = (count + 1, size + stored_length)
        for company_id, (count, size) in by_company.items():
            session.execute(
                update(StorageCompany)
                .where(StorageCompany.company_id == company_id)
                .values(
                    chunk_count=StorageCompany.chunk_count - count,
                    stored_bytes=StorageCompany.stored_bytes - size,
                )
            )
            report.chunks_deleted += count
            report.bytes_freed += size

    # 4. delete ----------------------------------------------------------------------------

    def delete_retired(self, now: datetime, cutoff: datetime, report: GcReport) -> None:
        with self.db.reading() as session:
            packs = session.execute(
                select(StoragePack.id, StoragePack.name).where(StoragePack.retired_on < cutoff)
            ).all()
        for pack_id, name in packs:
            with self.db.writing() as session:
                still_used = session.scalar(
                    select(func.count())
                    .select_from(StorageChunk)
                    .where(StorageChunk.pack_id == pack_id)
                )
                if still_used:
                    log.error(
                        "retired pack %s still holds %d indexed chunks: kept", name, still_used
                    )
                    continue
                self.backend.delete(name)  # first the blob; a crash here repeats it next pass
                session.execute(delete(StoragePack).where(StoragePack.id == pack_id))
            report.pack_blobs_deleted += 1
        with self.db.reading() as session:
            manifests = session.execute(
                select(StorageManifest.id, StorageManifest.blob_name).where(
                    StorageManifest.deleted_on < cutoff,
                    StorageManifest.refs_released_on.is_not(None),
                    StorageManifest.blob_deleted_on.is_(None),
                )
            ).all()
        for manifest_id, name in manifests:
            self.backend.delete(name)
            with self.db.writing() as session:
                session.execute(
                    update(StorageManifest)
                    .where(StorageManifest.id == manifest_id)
                    .values(blob_deleted_on=now)
                )
            report.manifest_blobs_deleted += 1

    # 5. orphans ---------------------------------------------------------------------------

    def collect_orphans(self, now: datetime, cutoff: datetime, report: GcReport) -> None:
        for prefix in STORED_PREFIXES:
            page: list[tuple[str, int]] = []
            for info in self.backend.list(prefix):
                page.append((info.name, info.size))
                if len(page) == self.batch:
                    self._orphan_page(page, now, cutoff, report)
                    page = []
            if page:
                self._orphan_page(page, now, cutoff, report)
        with self.db.writing() as session:  # recorded orphans no listing shows any more
            session.execute(delete(StorageOrphan).where(StorageOrphan.seen_on < cutoff))

    def _orphan_page(
        self, page: list[tuple[str, int]], now: datetime, cutoff: datetime, report: GcReport
    ) -> None:
        names = [name for name, _ in page]
        with self.db.writing() as session:
            known = set(
                session.scalars(select(StoragePack.name).where(StoragePack.name.in_(names)))
            )
            known |= set(
                session.scalars(
                    select(StorageManifest.blob_name).where(StorageManifest.blob_name.in_(names))
                )
            )
            recorded = dict(
                session.execute(
                    select(StorageOrphan.name, StorageOrphan.seen_on).where(
                        StorageOrphan.name.in_(names)
                    )
                ).all()
            )
            session.execute(delete(StorageOrphan).where(StorageOrphan.name.in_(known)))
            fresh = [
                {"name": name, "size_bytes": size, "seen_on": now}
                for name, size in page
                if name not in known and name not in recorded
            ]
            if fresh:
                session.execute(insert(StorageOrphan), fresh)
            report.orphans_seen += len(fresh)
        for name, seen_on in recorded.items():
            if name not in known and seen_on < cutoff:
                self._delete_orphan(name, report)

    def _delete_orphan(self, name: str, report: GcReport) -> None:
        with self.db.writing() as session:
            # Named by a row after all (committed since the page was read)? Then it stays.
            if session.scalar(select(StoragePack.id).where(StoragePack.name == name)) or (
                session.scalar(select(StorageManifest.id).where(StorageManifest.blob_name == name))
            ):
                session.execute(delete(StorageOrphan).where(StorageOrphan.name == name))
                return
            self.backend.delete(name)
            session.execute(delete(StorageOrphan).where(StorageOrphan.name == name))
        report.orphans_deleted += 1


@contextmanager
def gc_lock(db: Database, lock_file: Path) -> Iterator[bool]:
    """Whether this process may run a pass now: ``True`` while no other process runs one.

    PostgreSQL: the session advisory lock ``GC_LOCK_ID`` on a connection of its own (every
    process shares the database). SQLite: an exclusive ``flock`` on ``lock_file`` (every
    process shares the database file's folder). Never waits.
    """
    if db.sqlite:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_file, "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with db.engine.connect() as connection:
        granted = bool(
            connection.scalar(text("SELECT pg_try_advisory_lock(:id)"), {"id": GC_LOCK_ID})
        )
        connection.commit()
        try:
            yield granted
        finally:
            if granted:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": GC_LOCK_ID})
                connection.commit()


def gc_lock_file(settings: Settings) -> Path:
    """The SQLite lock file of ``gc_lock``: beside the database file, which every process
    sharing the database shares (``-gc.lock`` appended to its name)."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(f"{url.database}-gc.lock")
    return settings.data_dir / "storage-gc.lock"  # unused: PostgreSQL takes an advisory lock


def run_gc(collector: GarbageCollector, lock_file: Path, now: datetime) -> GcReport:
    """A pass unless another process is running one (then a report with ``ran`` False)."""
    with gc_lock(collector.db, lock_file) as granted:
        if not granted:
            return GcReport(ran=False)
        return collector.collect(now)


__all__ = ["BATCH", "GarbageCollector", "GcReport", "gc_lock", "gc_lock_file", "run_gc"]
