"""``cleverfox storage check``: does every live backup file have every byte it needs?

Per company (all, or one):

1. every live manifest's blob opens (sealed, whole, of its digest), and each chunk it names
   is in the index;
2. every indexed chunk's pack exists, and its trailer (which opens only under the pack's
   own name) lists that chunk at the indexed offset and length;
3. with ``read_data``, every indexed piece is read, opened (its seal names its company and
   chunk) and verified as at upload: it decodes within the maximum chunk size, hashes back
   to its id under the company's id key, and has the indexed size and CRC-32.

The report names each damaged chunk with the live backup files that need it (a second read
of the manifests, done only when something is damaged). Reads only: the check never
changes the database or the backend, and runs beside uploads, downloads and GC (a chunk GC
deletes meanwhile may be reported as missing from its pack; run the check again).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from isal import isal_zlib
from sqlalchemy import select

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import StorageChunk, StorageCompany, StorageManifest, StoragePack
from cleverfox.server.storage.blobs import manifest_chunk_ids
from cleverfox.server.storage.keys import existing_keys
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError, ObjectNotFound
from cleverfox.storage.chunking import DEFAULT_CHUNKING
from cleverfox.storage.errors import StorageError
from cleverfox.storage.ids import ChunkId, as_chunk_id, chunk_id_hex
from cleverfox.storage.packs import PACK_TAIL_BYTES, open_trailer, trailer_span
from cleverfox.storage.pieces import open_piece
from cleverfox.storage.sealing import CompanyKeys, CompanySealer

BATCH = 500


@dataclass
class DamagedChunk:
    company_id: int
    chunk_id: str
    pack: str | None
    problem: str
    files: list[dict[str, int]] = field(default_factory=list)


@dataclass
class DamagedFile:
    company_id: int
    log_id: int
    log_item_id: int
    problem: str


@dataclass
class CheckReport:
    """What the check found; ``ok`` when nothing is damaged (exit 0)."""

    read_data: bool
    companies: int = 0
    manifests: int = 0
    chunks: int = 0
    packs: int = 0
    bytes_read: int = 0
    damaged_chunks: list[DamagedChunk] = field(default_factory=list)
    damaged_files: list[DamagedFile] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.damaged_chunks and not self.damaged_files

    def as_dict(self) -> dict[str, Any]:
        return {
            "Ok": self.ok,
            "ReadData": self.read_data,
            "Companies": self.companies,
            "Manifests": self.manifests,
            "Chunks": self.chunks,
            "Packs": self.packs,
            "BytesRead": self.bytes_read,
            "DamagedChunks": [
                {
                    "CompanyId": d.company_id,
                    "ChunkId": d.chunk_id,
                    "Pack": d.pack,
                    "Problem": d.problem,
                    "BackupFiles": d.files,
                }
                for d in self.damaged_chunks
            ],
            "DamagedBackupFiles": [
                {
                    "CompanyId": d.company_id,
                    "LogId": d.log_id,
                    "LogItemId": d.log_item_id,
                    "Problem": d.problem,
                }
                for d in self.damaged_files
            ],
        }


def check_storage(
    db: Database,
    backend: Backend,
    secret: ServerSecret,
    *,
    read_data: bool = False,
    company_id: int | None = None,
) -> CheckReport:
    """Check every company's storage (or ``company_id``'s) as the module docstring says."""
    report = CheckReport(read_data)
    with db.reading() as session:
        query = select(StorageCompany.company_id).order_by(StorageCompany.company_id)
        if company_id is not None:
            query = query.where(StorageCompany.company_id == company_id)
        companies = list(session.scalars(query))
    for company in companies:
        _CompanyCheck(db, backend, secret, company, report).run()
        report.companies += 1
    return report


class _CompanyCheck:
    def __init__(
        self,
        db: Database,
        backend: Backend,
        secret: ServerSecret,
        company_id: int,
        report: CheckReport,
    ) -> None:
        self.db = db
        self.backend = backend
        self.company_id = company_id
        self.report = report
        with db.reading() as session:
            keys = existing_keys(session, secret, company_id)
        assert keys is not None  # the company's row is what listed it
        self.keys: CompanyKeys = keys
        self.sealer = CompanySealer(keys.data_key, company_id)
        self.damaged: dict[ChunkId, DamagedChunk] = {}

    def run(self) -> None:
        self.check_manifests()
        for pack in self._packs():
            self.check_pack(*pack)
        if self.damaged:
            self.name_affected_files()
        self.report.damaged_chunks += self.damaged.values()

    # 1 ------------------------------------------------------------------------------------

    def check_manifests(self) -> None:
        for manifest in self._live_manifests():
            self.report.manifests += 1
            try:
                ids = manifest_chunk_ids(self.backend, self.sealer, manifest)
            except (StorageError, BackendError) as exc:
                problem = f"the manifest blob {manifest.blob_name} cannot be read: {exc}"
                self.report.damaged_files.append(
                    DamagedFile(self.company_id, manifest.log_id, manifest.log_item_id, problem)
                )
                continue
            for missing in self._unindexed(sorted(ids)):
                self._damage(missing, None, "not in the index")

    def _unindexed(self, ids: list[ChunkId]) -> Iterator[ChunkId]:
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            with self.db.reading() as session:
                present = {
                    as_chunk_id(raw)
                    for raw in session.scalars(
                        select(StorageChunk.chunk_id).where(
                            StorageChunk.company_id == self.company_id,
                            StorageChunk.chunk_id.in_([bytes(c) for c in batch]),
                        )
                    )
                }
            yield from (c for c in batch if c not in present)

    # 2, 3 ---------------------------------------------------------------------------------

    def check_pack(self, pack_id: int, name: str) -> None:
        rows = self._chunks_in(pack_id)
        if not rows:
            return
        self.report.packs += 1
        self.report.chunks += len(rows)
        try:
            listed = self._trailer(name)
        except (StorageError, BackendError) as exc:
            gone = isinstance(exc, ObjectNotFound)
            problem = "its pack is missing" if gone else f"its pack's trailer is damaged: {exc}"
            for row in rows:
                self._damage(as_chunk_id(row.chunk_id), name, problem)
            return
        for row in rows:
            cid = as_chunk_id(row.chunk_id)
            if listed.get(cid) != (row.offset, row.stored_length):
                self._damage(cid, name, "its pack does not hold it where the index says")
        if self.report.read_data:
            self._read_pieces(
                name, [r for r in rows if as_chunk_id(r.chunk_id) not in self.damaged]
            )

    def _trailer(self, name: str) -> dict[ChunkId, tuple[int, int]]:
        size = self.backend.size(name)
        if size < PACK_TAIL_BYTES:
            raise StorageError("the pack is shorter than its end marker")
        offset, length = trailer_span(size, self.backend.get(name, size - PACK_TAIL_BYTES))
        sealed = self.backend.get(name, offset, length)
        self.report.bytes_read += PACK_TAIL_BYTES + length
        entries = open_trailer(self.sealer, name, sealed, offset)
        return {e.chunk_id: (e.offset, e.stored_length) for e in entries}

    def _read_pieces(self, name: str, rows: list[Any]) -> None:
        for row in rows:
            cid = as_chunk_id(row.chunk_id)
            try:
                sealed = self.backend.get(name, row.offset, row.stored_length)
                self.report.bytes_read += len(sealed)
                piece = self.sealer.open_piece(cid, sealed)
                plain = open_piece(
                    row.codec, piece, self.keys.id_key, cid, DEFAULT_CHUNKING.max_bytes
                )
            except (StorageError, BackendError) as exc:
                self._damage(cid, name, f"its piece is damaged: {exc}")
                continue
            if (len(plain), isal_zlib.crc32(plain)) != (row.size, row.crc32):
                self._damage(cid, name, "its size or CRC-32 differs from the index")

    # the report ---------------------------------------------------------------------------

    def name_affected_files(self) -> None:
        for manifest in self._live_manifests():
            try:
                ids = manifest_chunk_ids(self.backend, self.sealer, manifest)
            except (StorageError, BackendError):
                continue  # reported as a damaged file already
            for cid in ids & self.damaged.keys():
                self.damaged[cid].files.append(
                    {"LogId": manifest.log_id, "LogItemId": manifest.log_item_id}
                )

    def _damage(self, cid: ChunkId, pack: str | None, problem: str) -> None:
        self.damaged.setdefault(
            cid, DamagedChunk(self.company_id, chunk_id_hex(cid), pack, problem)
        )

    def _live_manifests(self) -> Iterator[StorageManifest]:
        after = 0
        while True:
            with self.db.reading() as session:
                page = list(
                    session.scalars(
                        select(StorageManifest)
                        .where(
                            StorageManifest.company_id == self.company_id,
                            StorageManifest.deleted_on.is_(None),
                            StorageManifest.id > after,
                        )
                        .order_by(StorageManifest.id)
                        .limit(BATCH)
                    )
                )
                session.expunge_all()
            yield from page
            if len(page) < BATCH:
                return
            after = page[-1].id

    def _packs(self) -> list[tuple[int, str]]:
        with self.db.reading() as session:
            rows = session.execute(
                select(StoragePack.id, StoragePack.name)
                .where(StoragePack.company_id == self.company_id)
                .order_by(StoragePack.id)
            ).all()
        return [(pack_id, name) for pack_id, name in rows]

    def _chunks_in(self, pack_id: int) -> list[Any]:
        with self.db.reading() as session:
            return list(
                session.execute(
                    select(
                        StorageChunk.chunk_id,
                        StorageChunk.offset,
                        StorageChunk.stored_length,
                        StorageChunk.codec,
                        StorageChunk.size,
                        StorageChunk.crc32,
                    )
                    .where(StorageChunk.pack_id == pack_id)
                    .order_by(StorageChunk.offset)
                )
            )
