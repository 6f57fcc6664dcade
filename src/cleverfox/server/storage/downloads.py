"""Reading a committed backup file back: the ZIP, the list, one entry, or the agent's pieces.

A download runs in three short steps, none of which holds a transaction while bytes flow:

1. ``live_file`` reads, in one read transaction, the Log Item's live manifest row, its
   names and the company's keys (a ``StoredFile``). No live row: the file was never
   committed, or retention or a deletion removed it.
2. ``FileReader`` opens the sealed manifest stream from the backend (``ManifestReader``, one
   4 MiB segment in memory at a time). The archive's layout needs the totals, which the
   stream holds at its end, so a ZIP download reads the manifest once for them (and checks
   its archive digest against the row's), then again for the entries' data and the
   directory: manifests are a small fraction of what they describe.
3. ``archive.stream`` asks ``fetch`` for pieces a batch at a time; each batch costs one
   read transaction (the index's locations) and one backend read per run of neighbouring
   pieces in a pack, and the pieces are opened with the company's ``CompanySealer``.

Memory is one manifest segment, one batch of pieces (about 16 MiB) and one write, however
large the file. A piece that is missing, does not open, or is not what the manifest says
raises ``Damaged`` before any of its bytes are sent, so a download is cut short, never wrong.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.models import LogItem, StorageManifest
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import existing_keys
from cleverfox.storage import archive, listing
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.errors import Damaged
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.index import ChunkLocation
from cleverfox.storage.manifest_stream import ManifestReader
from cleverfox.storage.resolution import ArchiveTotals, ResolvedEntry
from cleverfox.storage.sealing import CompanyKeys, CompanySealer

READ_BYTES = 4 << 20
"""How much of a manifest blob one backend read takes."""
MERGE_GAP = 64 << 10
"""Neighbouring pieces of one pack closer than this are read in one backend request."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A Log Item's live backup file: its manifest row's facts, names and company keys."""

    log_item_id: int
    company_id: int
    blob_name: str
    digest: bytes
    archive_digest: bytes
    archive_size: int
    list_size: int
    entry_count: int
    file_name: str
    list_name: str
    keys: CompanyKeys

    @property
    def sealer(self) -> CompanySealer:
        return CompanySealer(self.keys.data_key, self.company_id)


def live_file(session: Session, secret: ServerSecret, log_item_id: int) -> StoredFile | None:
    """The Log Item's committed, not deleted backup file, or ``None``."""
    row = session.execute(
        select(StorageManifest, LogItem.backup_file_name, LogItem.backup_list_name)
        .join(LogItem, LogItem.id == StorageManifest.log_item_id)
        .where(StorageManifest.log_item_id == log_item_id, StorageManifest.deleted_on.is_(None))
    ).one_or_none()
    if row is None:
        return None
    manifest, file_name, list_name = row
    keys = existing_keys(session, secret, manifest.company_id)
    if keys is None:
        raise Damaged(f"company {manifest.company_id} has a manifest but no keys")
    return StoredFile(
        log_item_id=log_item_id,
        company_id=manifest.company_id,
        blob_name=manifest.blob_name,
        digest=manifest.digest,
        archive_digest=manifest.archive_digest,
        archive_size=manifest.archive_size,
        list_size=manifest.list_size,
        entry_count=manifest.entry_count,
        file_name=file_name or f"backup-{log_item_id}.zip",
        list_name=list_name or f"backup-{log_item_id}.txt",
        keys=keys,
    )


class BlobReader:
    """``file.read`` over a backend object, ``READ_BYTES`` (or more) per backend request."""

    def __init__(self, backend: Backend, name: str) -> None:
        self._backend = backend
        self._name = name
        self._size = backend.size(name)
        self._position = 0  # of the backend object, just past the buffer
        self._buffer = b""
        self._offset = 0  # of the next unread byte in the buffer

    def read(self, count: int) -> bytes:
        if self._offset == len(self._buffer) and self._position < self._size:
            length = min(max(count, READ_BYTES), self._size - self._position)
            self._buffer = self._backend.get(self._name, self._position, length)
            self._position += len(self._buffer)
            self._offset = 0
        taken = self._buffer[self._offset : self._offset + count]
        self._offset += len(taken)
        return taken


class FileReader:
    """The bytes of one ``StoredFile`` in its three forms, from ``backend`` and ``db``."""

    def __init__(self, backend: Backend, db: Database, stored: StoredFile) -> None:
        self._backend = backend
        self._db = db
        self.stored = stored
        self._sealer = stored.sealer

    def manifest(self) -> ManifestReader:
        """A fresh reader of the manifest stream (its header read, its entries not yet)."""
        read = BlobReader(self._backend, self.stored.blob_name).read
        return ManifestReader(self._sealer, self.stored.digest, read)

    def entries(self) -> Iterator[ResolvedEntry]:
        """Every entry, in archive order (one pass over the manifest)."""
        return self.manifest().entries()

    def totals(self) -> ArchiveTotals:
        """The archive's totals, read through the manifest and checked against its row."""
        reader = self.manifest()
        for _ in reader.entries():
            pass
        assert reader.totals is not None  # set once entries() is exhausted
        if (
            reader.archive_digest != self.stored.archive_digest
            or reader.totals.archive_size != self.stored.archive_size
        ):
            raise Damaged(f"manifest {self.stored.blob_name} differs from its row")
        return reader.totals

    def archive_bytes(self, totals: ArchiveTotals, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` of the ZIP."""
        parts = archive.archive_parts(self.entries, totals, start, stop)
        return archive.stream(parts, self.fetch)

    def list_bytes(self, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` of the backup list."""
        lines = (listing.list_line(e.path, e.size, e.modified_ms) for e in self.entries())
        return listing.list_bytes(lines, start, stop)

    def entry(self, number: int) -> ResolvedEntry | None:
        """Entry ``number`` (1 is the first in archive order), or ``None``."""
        if not 1 <= number <= self.stored.entry_count:
            return None
        for position, entry in enumerate(self.entries(), start=1):
            if position == number:
                return entry
        return None

    def entry_bytes(self, entry: ResolvedEntry, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``[start, stop)`` of one entry's plaintext."""
        return archive.stream(archive.file_parts(entry, start, stop), self.fetch)

    def fetch(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, bytes]:
        """The unsealed pieces of ``chunk_ids`` (``archive.Fetch``); ``Damaged`` if the index
        lacks one or its bytes do not open."""
        return read_pieces(self._backend, self._db, self.stored.company_id, self._sealer, chunk_ids)


def read_pieces(
    backend: Backend,
    db: Database,
    company_id: int,
    sealer: CompanySealer,
    chunk_ids: Collection[ChunkId],
) -> dict[ChunkId, bytes]:
    """The unsealed pieces of ``chunk_ids`` of company ``company_id``: their locations in one
    read transaction, then the packs read in runs of neighbouring pieces."""
    with db.reading() as session:
        locations = SqlChunkIndex(session, company_id).locations(chunk_ids)
    absent = [chunk_id for chunk_id in chunk_ids if chunk_id not in locations]
    if absent:
        raise Damaged(f"chunk {absent[0].hex()} is referenced but not in the index")
    pieces: dict[ChunkId, bytes] = {}
    for pack_name, run in _runs(locations):
        first, last = run[0][1], run[-1][1]
        data = backend.get(pack_name, first.offset, last.offset + last.stored_length - first.offset)
        for chunk_id, location in run:
            start = location.offset - first.offset
            sealed = memoryview(data)[start : start + location.stored_length]
            if len(sealed) != location.stored_length:
                raise Damaged(f"pack {pack_name} is shorter than its index says")
            pieces[chunk_id] = sealer.open_piece(chunk_id, sealed)
    return pieces


_Run = list[tuple[ChunkId, ChunkLocation]]


def _runs(locations: Mapping[ChunkId, ChunkLocation]) -> Iterator[tuple[str, _Run]]:
    """The locations grouped by pack and cut into runs of pieces at most ``MERGE_GAP`` apart."""
    by_pack: dict[str, _Run] = {}
    for chunk_id, location in locations.items():
        by_pack.setdefault(location.pack_name, []).append((chunk_id, location))
    for pack_name, found in by_pack.items():
        found.sort(key=lambda item: item[1].offset)
        run: _Run = []
        for item in found:
            if run and item[1].offset - _end(run[-1][1]) > MERGE_GAP:
                yield pack_name, run
                run = []
            run.append(item)
        yield pack_name, run


def _end(location: ChunkLocation) -> int:
    return location.offset + location.stored_length
