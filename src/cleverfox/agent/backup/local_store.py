"""Local copies: a deduplicated store under a job's ArchiveFolder, in the server's formats.

```
<ArchiveFolder>/cleverfox-store/
    store.json            format, the store's own keys (file mode 0600)
    index.sqlite3         chunk index (``storage.index.ChunkIndex``) and the copies kept
    packs/0/ab/<id>       packs (``storage.packs``) through ``backends.local.LocalBackend``
    manifests/<n>.cfxman  one sealed manifest stream (``storage.manifest_stream``) per copy
```

Chunk ids are the company's (the check-in's id key), so one chunk pipeline feeds both the
server and this store and deduplicates against both. Pieces, trailers and manifests are
sealed with the store's *own* data key, kept in ``store.json`` next to them. That is not
the protection the server gives its storage, and need not be: the store sits on the device
whose files it copies, readable by whoever can read those files; the seal gives integrity
(a damaged or swapped object fails to open) and keeps the formats one. ``store.json`` also
holds the id key, so ``restore --local`` checks every chunk id with the server unreachable.

Write order (crash-safe, as on the server): a pack is durable (``LocalBackend.put``
fsyncs), then its index rows are committed, then the manifest file is written under a
temporary name, fsynced and renamed, and only then is the copy's row committed. A crash
leaves at most a pack no index row names, or a manifest no row names; ``prune`` removes both.
Pruning runs the other way: a copy's row goes first, then its manifest, then index rows of
packs no kept copy uses, then the packs.

The store is also an ``Uploader`` (``bind`` it to an item first), so the pipeline is tested
end to end without a server, and so CloudKeepLast 0 runs work the same way.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from cleverfox.agent.backup.naming import backup_file_name, backup_list_name
from cleverfox.agent.backup.spool import EntrySpool, to_entry, utc_of_ms
from cleverfox.agent.model import Committed, ManifestEntry
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.errors import ChunkMissing, Damaged, EntryInvalid, ManifestInvalid
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.index import ChunkFacts, ChunkLocation, PackEntry
from cleverfox.storage.manifest import DigestBuilder
from cleverfox.storage.manifest_stream import ManifestHeader, ManifestReader, ManifestWriter
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.pieces import Codec
from cleverfox.storage.records import parse_records, verify_records
from cleverfox.storage.resolution import Resolver, resolve_entries
from cleverfox.storage.sealing import DATA_KEY_BYTES, CompanySealer

STORE_FOLDER = "cleverfox-store"
STORE_FORMAT = 1
_COMPANY = 0  # the store is one company's; its seals need a number
_MAX_CHUNK_BYTES = 16 << 20
_ORPHAN_SECONDS = 3600.0
_SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id BLOB PRIMARY KEY, pack TEXT NOT NULL, offset INTEGER NOT NULL,
    stored_length INTEGER NOT NULL, codec INTEGER NOT NULL, size INTEGER NOT NULL,
    crc32 INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunks_pack ON chunks (pack);
CREATE TABLE IF NOT EXISTS copies (
    copy_id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER, job_item_id INTEGER NOT NULL,
    log_id INTEGER NOT NULL, log_item_id INTEGER, job_name TEXT NOT NULL,
    item_name TEXT NOT NULL, started_on TEXT NOT NULL, created_utc REAL NOT NULL,
    manifest TEXT NOT NULL, digest BLOB NOT NULL, time_zone TEXT NOT NULL,
    extensions TEXT NOT NULL, file_name TEXT NOT NULL, archive_size INTEGER NOT NULL,
    list_size INTEGER NOT NULL, entry_count INTEGER NOT NULL, logical_bytes INTEGER NOT NULL,
    central_offset INTEGER NOT NULL, central_size INTEGER NOT NULL
);
"""


class StoreError(Exception):
    """A local store that cannot be opened or used; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class CopyInfo:
    """One local copy kept (for ``agent copies`` and ``restore --local``)."""

    copy_id: int
    job_id: int | None
    job_item_id: int
    log_id: int
    log_item_id: int | None
    job_name: str
    item_name: str
    started_on: str
    file_name: str
    archive_size: int
    entry_count: int
    logical_bytes: int
    folder: str


@dataclass(frozen=True, slots=True)
class ItemBinding:
    """What a commit needs that ``Uploader.commit_files`` does not pass."""

    job_id: int | None
    job_name: str
    item_name: str
    started_on: datetime
    time_zone: str
    extensions: tuple[str, ...]


class LocalStore:
    """A local store at ``<archive_folder>/cleverfox-store`` (see the module docstring)."""

    def __init__(self, archive_folder: Path, *, id_key: bytes | None = None) -> None:
        """Open the store, making it when ``id_key`` is given and none exists; an existing
        store must have that id key (``StoreError`` otherwise)."""
        self.archive_folder = Path(archive_folder)
        self.root = self.archive_folder / STORE_FOLDER
        config = self.root / "store.json"
        if not config.exists():
            if id_key is None:
                raise StoreError(f"no local store in {self.archive_folder}")
            _write_config(config, id_key)
        self.id_key, data_key = _read_config(config)
        if id_key is not None and id_key != self.id_key:
            raise StoreError(
                f"the local store in {self.archive_folder} was made for another company key"
            )
        self._sealer = CompanySealer(data_key, _COMPANY)
        self._backend = LocalBackend(self.root)
        (self.root / "manifests").mkdir(exist_ok=True)
        self._db = sqlite3.connect(self.root / "index.sqlite3", isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._binding: ItemBinding | None = None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ChunkIndex ---------------------------------------------------------------------------

    def facts(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkFacts]:
        return {i: row.facts for i, (_, row) in self._rows(chunk_ids).items()}

    def locations(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkLocation]:
        return {
            i: ChunkLocation(pack, row.offset, row.stored_length)
            for i, (pack, row) in self._rows(chunk_ids).items()
        }

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        """The ids of ``chunk_ids`` the store lacks, each once, in their first order."""
        wanted = list(dict.fromkeys(bytes(i) for i in chunk_ids))
        present = self._present(wanted)
        return [i for i in wanted if i not in present]

    def add_pack(self, pack_name: str, entries: Sequence[PackEntry]) -> int:
        with _transaction(self._db):
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (e.chunk_id, pack_name, e.offset, e.stored_length, e.codec, e.size, e.crc32)
                    for e in entries
                ),
            )
            return self._db.total_changes - before

    # Uploader -----------------------------------------------------------------------------

    def put_pack(self, body: bytes) -> tuple[int, int]:
        """Verify every record as the server does, then store the new ones as one pack."""
        records = parse_records(body)
        verified = list(verify_records(records, self.id_key, _MAX_CHUNK_BYTES))
        present = self._present([r.chunk_id for r in verified])
        writer = PackWriter(self._sealer, new_pack_name(_COMPANY))
        for record in verified:
            if record.chunk_id not in present:
                present.add(record.chunk_id)
                writer.add(record.chunk_id, record.facts, record.piece)
        stored = len(writer)
        if stored:
            pack = writer.finish()
            self._backend.put(pack.name, pack.data)
            self.add_pack(pack.name, pack.entries)
        return stored, len(verified) - stored

    def bind(self, binding: ItemBinding) -> None:
        """Name the job, item, run and archive settings the next commits are for."""
        self._binding = binding

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterator[ManifestEntry]
    ) -> Committed:
        """Resolve and keep a copy; ``ChunkMissing`` / ``EntryInvalid`` /
        ``ManifestInvalid`` as the server would refuse it."""
        binding = self._binding
        if binding is None:
            raise RuntimeError("bind the store to an item before committing")
        with EntrySpool(self.root) as spool:
            builder = DigestBuilder(binding.time_zone, binding.extensions)
            for wire in entries:
                entry = to_entry(wire)
                builder.add(entry)
                spool.add(entry)
            digest = builder.digest()
            name, totals = self._write_manifest(spool, digest, binding)
        file_name = backup_file_name(binding.job_name, binding.item_name, binding.started_on)
        with _transaction(self._db):
            self._db.execute(
                "INSERT INTO copies (job_id, job_item_id, log_id, job_name, item_name,"
                " started_on, created_utc, manifest, digest, time_zone, extensions, file_name,"
                " archive_size, list_size, entry_count, logical_bytes, central_offset,"
                " central_size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    binding.job_id,
                    job_item_id,
                    log_id,
                    binding.job_name,
                    binding.item_name,
                    binding.started_on.isoformat(),
                    time.time(),
                    name,
                    digest,
                    binding.time_zone,
                    "\n".join(binding.extensions),
                    file_name,
                    totals.archive_size,
                    totals.list_size,
                    totals.entry_count,
                    totals.logical_bytes,
                    totals.central_offset,
                    totals.central_size,
                ),
            )
        return Committed(
            {
                "JobItemId": job_item_id,
                "BackupFolder": str(self.archive_folder),
                "BackupFileName": file_name,
                "BackupFileSize": totals.archive_size,
                "BackupListName": backup_list_name(file_name),
                "BackupListSize": totals.list_size,
                "BackupListCount": totals.entry_count,
            }
        )

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        """The entries of the copy ``log_item_id`` (a copy id; see ``find_copy``)."""
        for entry in self.resolved_entries(log_item_id):
            yield ManifestEntry(
                entry.path,
                entry.mode,
                entry.size,
                utc_of_ms(entry.modified_ms),
                tuple(chunk.chunk_id for chunk in entry.chunks),
            )

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        """``(id, codec, piece)`` of each id, unsealed; ``ChunkMissing`` for an absent one."""
        rows = self._rows([ChunkId(bytes(i)) for i in chunk_ids])
        absent = [i for i in chunk_ids if i not in rows]
        if absent:
            raise ChunkMissing(absent)
        opened: dict[str, BinaryIO] = {}
        try:
            for chunk_id in chunk_ids:
                pack, row = rows[ChunkId(bytes(chunk_id))]
                stream = opened.get(pack)
                if stream is None:
                    # One open per pack and request, not per chunk: packs are ours, write-once
                    # files under the backend's root (``LocalBackend`` names them the same).
                    stream = opened[pack] = open(self.root.joinpath(*pack.split("/")), "rb")  # noqa: SIM115
                stream.seek(row.offset)
                sealed = stream.read(row.stored_length)
                yield chunk_id, row.codec, self._sealer.open_piece(chunk_id, sealed)
        except FileNotFoundError:
            raise Damaged("a pack of the local store is missing") from None
        finally:
            for stream in opened.values():
                stream.close()

    # Copies -------------------------------------------------------------------------------

    def copies(self, job_item_id: int | None = None) -> list[CopyInfo]:
        """The copies kept, oldest first (of one job item, or all)."""
        columns = (
            "SELECT copy_id, job_id, job_item_id, log_id, log_item_id, job_name, item_name,"
            " started_on, file_name, archive_size, entry_count, logical_bytes FROM copies"
        )
        if job_item_id is None:
            rows = self._db.execute(columns + " ORDER BY copy_id").fetchall()
        else:
            rows = self._db.execute(
                columns + " WHERE job_item_id = ? ORDER BY copy_id", (job_item_id,)
            ).fetchall()
        return [_copy_info(row, self.archive_folder) for row in rows]

    def find_copy(
        self,
        *,
        log_item_id: int | None = None,
        log_id: int | None = None,
        job_item_id: int | None = None,
    ) -> CopyInfo | None:
        """The copy of a Log Item, or of a (Log, job item), if kept."""
        for copy in reversed(self.copies()):
            if log_item_id is not None and copy.log_item_id == log_item_id:
                return copy
            if log_id is not None and (copy.log_id, copy.job_item_id) == (log_id, job_item_id):
                return copy
        return None

    def set_log_item_id(self, copy_id: int, log_item_id: int) -> None:
        """Remember the server's Log Item of a copy (known once the cloud commit answers)."""
        with _transaction(self._db):
            self._db.execute(
                "UPDATE copies SET log_item_id = ? WHERE copy_id = ?", (log_item_id, copy_id)
            )

    def resolved_entries(self, copy_id: int) -> Iterator[Any]:
        """The copy's resolved entries (``storage.resolution.ResolvedEntry``), streamed."""
        row = self._db.execute(
            "SELECT manifest, digest FROM copies WHERE copy_id = ?", (copy_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no local copy {copy_id} in {self.archive_folder}")
        with open(self.root / "manifests" / row[0], "rb") as stream:
            reader = ManifestReader(self._sealer, row[1], stream.read)
            yield from reader.entries()

    def prune(self, job_item_id: int, keep_last: int) -> int:
        """Keep the newest ``keep_last`` copies of the item; remove what no copy uses.
        Returns how many copies were dropped."""
        copies = self.copies(job_item_id)
        dropped = copies[: max(len(copies) - keep_last, 0)]
        for copy in dropped:
            manifest = self._db.execute(
                "SELECT manifest FROM copies WHERE copy_id = ?", (copy.copy_id,)
            ).fetchone()[0]
            with _transaction(self._db):
                self._db.execute("DELETE FROM copies WHERE copy_id = ?", (copy.copy_id,))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.root / "manifests" / manifest)
        self._collect_garbage()
        return len(dropped)

    # Internals ----------------------------------------------------------------------------

    def _rows(self, chunk_ids: Collection[ChunkId]) -> dict[ChunkId, tuple[str, PackEntry]]:
        found: dict[ChunkId, tuple[str, PackEntry]] = {}
        ids = list(chunk_ids)
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            for raw, pack, offset, stored, codec, size, crc in self._db.execute(
                f"SELECT * FROM chunks WHERE chunk_id IN ({marks})",  # noqa: S608 - marks only
                batch,
            ):
                chunk_id = ChunkId(raw)
                found[chunk_id] = (
                    pack,
                    PackEntry(chunk_id, offset, stored, Codec(codec), size, crc),
                )
        return found

    def _present(self, chunk_ids: Sequence[bytes]) -> set[bytes]:
        present: set[bytes] = set()
        ids = list(chunk_ids)
        for start in range(0, len(ids), 500):
            batch = ids[start : start + 500]
            marks = ",".join("?" * len(batch))
            present.update(
                row[0]
                for row in self._db.execute(
                    f"SELECT chunk_id FROM chunks WHERE chunk_id IN ({marks})",  # noqa: S608
                    batch,
                )
            )
        return present

    def _write_manifest(
        self, spool: EntrySpool, digest: bytes, binding: ItemBinding
    ) -> tuple[str, Any]:
        resolver = Resolver(binding.time_zone, binding.extensions)
        header = ManifestHeader(digest, binding.time_zone, binding.extensions)
        name = f"{digest.hex()[:16]}-{os.urandom(8).hex()}.cfxman"
        final = self.root / "manifests" / name
        temporary = final.with_name(".tmp-" + name)
        try:
            with open(temporary, "wb") as out:
                writer = ManifestWriter(self._sealer, header, out.write)
                for resolved in resolve_entries(resolver, spool.entries(), self.facts):
                    writer.add(resolved)
                totals = resolver.totals()
                writer.finish(totals)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, final)
        except (ChunkMissing, EntryInvalid, ManifestInvalid):
            temporary.unlink(missing_ok=True)
            raise
        return name, totals

    def _collect_garbage(self) -> None:
        """Drop packs no kept copy uses, and objects a crash left that nothing names."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS live (chunk_id BLOB PRIMARY KEY)")
        self._db.execute("DELETE FROM live")
        kept = [row[0] for row in self._db.execute("SELECT copy_id FROM copies")]
        for copy_id in kept:
            for entry in self.resolved_entries(copy_id):
                self._db.executemany(
                    "INSERT OR IGNORE INTO live VALUES (?)", ((c.chunk_id,) for c in entry.chunks)
                )
        dead = [
            row[0]
            for row in self._db.execute(
                "SELECT pack FROM chunks GROUP BY pack HAVING SUM(chunk_id IN"
                " (SELECT chunk_id FROM live)) = 0"
            )
        ]
        with _transaction(self._db):
            self._db.executemany("DELETE FROM chunks WHERE pack = ?", ((p,) for p in dead))
        for pack in dead:
            self._backend.delete(pack)
        self._sweep_orphans(kept)

    def _sweep_orphans(self, kept: list[int]) -> None:
        indexed = {row[0] for row in self._db.execute("SELECT DISTINCT pack FROM chunks")}
        cutoff = time.time() - _ORPHAN_SECONDS
        for info in self._backend.list("packs/"):
            path = self.root.joinpath(*info.name.split("/"))
            if info.name not in indexed and path.stat().st_mtime < cutoff:
                self._backend.delete(info.name)
        named = {row[0] for row in self._db.execute("SELECT manifest FROM copies")}
        for path in (self.root / "manifests").iterdir():
            if path.name not in named and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
        self._backend.sweep_temporary()


def _copy_info(row: Sequence[Any], folder: Path) -> CopyInfo:
    return CopyInfo(*row, folder=str(folder))  # type: ignore[misc]


def open_store(archive_folder: Path) -> LocalStore:
    """An existing store (``StoreError`` if there is none)."""
    return LocalStore(archive_folder)


def _write_config(path: Path, id_key: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "Format": STORE_FORMAT,
        "IdKey": base64.b64encode(id_key).decode(),
        "DataKey": base64.b64encode(os.urandom(DATA_KEY_BYTES)).decode(),
    }
    temporary = path.with_name(".tmp-store.json")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(body, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _read_config(path: Path) -> tuple[bytes, bytes]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        if body.get("Format") != STORE_FORMAT:
            raise StoreError(f"{path}: a local store of an unknown format")
        return base64.b64decode(body["IdKey"]), base64.b64decode(body["DataKey"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise StoreError(f"{path}: not a readable local store ({error})") from None


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.rollback()
        raise
    db.commit()


__all__ = ["STORE_FOLDER", "CopyInfo", "ItemBinding", "LocalStore", "StoreError", "open_store"]
