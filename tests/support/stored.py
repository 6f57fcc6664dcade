"""Backup files stored the way the server stores them, without the HTTP upload in between.

``Store`` is a migrated database, a local backend and a server secret; ``store_backup``
chunks files, makes and verifies pieces, seals a pack, puts it, indexes it
(``SqlChunkIndex``), resolves and writes the sealed manifest blob and commits its row with
the reference counts: the write order of ``server/models/storage.py`` (data, index,
manifest). Until the upload endpoints' commit code is on main, this is the commit the
lifecycle tests build on (one reference per distinct chunk per manifest).
"""

from __future__ import annotations

import io
import itertools
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret, load_or_create_secret
from cleverfox.server.logs.schemas import COMPLETED
from cleverfox.server.models import Log, LogItem, StorageChunk, StorageManifest
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import keys_for
from cleverfox.storage.archive import archive_parts, stream
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.ids import ChunkId, chunk_id
from cleverfox.storage.index import ChunkFacts, facts_of
from cleverfox.storage.manifest import Entry, digest, sort_entries
from cleverfox.storage.manifest_stream import ManifestHeader, ManifestReader, ManifestWriter
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.pieces import make_piece, open_piece
from cleverfox.storage.resolution import Resolver, resolve_entries
from cleverfox.storage.sealing import CompanySealer

TINY_CHUNKS = ChunkingParams(min_bytes=64, avg_bytes=256, max_bytes=1024)
REGULAR = 0o100644
_ids = itertools.count(1)


@dataclass
class Store:
    db: Database
    backend: Backend
    secret: ServerSecret


@dataclass(frozen=True)
class Run:
    """A Log and its one Log Item."""

    partner_id: int
    company_id: int
    device_id: int
    job_id: int
    log_id: int
    log_item_id: int


@dataclass
class StoredBackup:
    run: Run
    manifest_id: int
    chunk_ids: frozenset[ChunkId]
    files: Mapping[str, bytes] = field(default_factory=dict)


def new_ids() -> tuple[int, int, int, int]:
    """Fresh partner, company, device and job ids (no rows: storage keeps plain ids)."""
    base = 3_000_000_000 + next(_ids) * 10 + secrets.randbelow(1_000_000) * 1000
    return base, base + 1, base + 2, base + 3


def add_run(
    session: Session,
    partner_id: int,
    company_id: int,
    device_id: int,
    job_id: int,
    *,
    status: str = COMPLETED,
    cloud_keep_last: int = 3,
) -> Run:
    """A Log of the job (status ``status``, CloudKeepLast snapshot) with one Log Item."""
    now = utcnow()
    log = Log(
        partner_id=partner_id,
        company_id=company_id,
        device_id=device_id,
        job_id=job_id,
        time_zone_id="UTC",
        iana_time_zone_id="UTC",
        name="Job",
        job_status=status,
        cloud_keep_last=cloud_keep_last,
        started_utc=now,
        added_on=now,
    )
    session.add(log)
    session.flush()
    return run_of_log(session, log)


def run_of_log(session: Session, log: Log) -> Run:
    """A Log Item added to ``log`` (one the server made, or ``add_run``'s)."""
    item = LogItem(
        log_id=log.id,
        partner_id=log.partner_id,
        company_id=log.company_id,
        device_id=log.device_id,
        job_id=log.job_id,
        name="Documents",
        engine_id="Files",
        server_name="",
        added_on=utcnow(),
    )
    session.add(item)
    session.flush()
    return Run(log.partner_id, log.company_id, log.device_id, log.job_id, log.id, item.id)


def server_store(data_dir: Path, sqlalchemy_url: str) -> Store:
    """The store of a running server: its database, its local storage and its secret."""
    return Store(
        Database(sqlalchemy_url, pool_size=2),
        LocalBackend(data_dir / "storage"),
        load_or_create_secret(data_dir / "secret.key"),
    )


def store_backup(
    store: Store,
    run: Run,
    files: Mapping[str, bytes],
    *,
    params: ChunkingParams = TINY_CHUNKS,
) -> StoredBackup:
    """Store ``files`` as ``run``'s backup file: pack, index, manifest — three transactions,
    in the server's write order."""
    with store.db.writing() as session:
        keys = keys_for(session, store.secret, run.company_id)
    sealer = CompanySealer(keys.data_key, run.company_id)
    chunker = Chunker(params)
    facts: dict[ChunkId, ChunkFacts] = {}
    pieces: dict[ChunkId, bytes] = {}
    entries = []
    for path, content in files.items():
        ids = []
        for chunk in chunker.chunks_of_bytes(content):
            cid = chunk_id(keys.id_key, chunk)
            piece = make_piece(chunk, True)
            plain = open_piece(piece.codec, piece.data, keys.id_key, cid, params.max_bytes)
            facts.setdefault(cid, facts_of(piece.codec, len(piece.data), plain))
            pieces.setdefault(cid, piece.data)
            ids.append(cid)
        entries.append(Entry(path, REGULAR, len(content), 1_700_000_000_000, tuple(ids)))
    with store.db.writing() as session:
        missing = SqlChunkIndex(session, run.company_id).missing(list(pieces))
    if missing:
        writer = PackWriter(sealer, new_pack_name(run.company_id))
        for cid in missing:
            writer.add(cid, facts[cid], pieces[cid])
        pack = writer.finish()
        store.backend.put(pack.name, pack.data)
        with store.db.writing() as session:
            SqlChunkIndex(session, run.company_id).add_pack(pack.name, pack.entries)
    manifest_id = _commit_manifest(store, sealer, run, entries)
    return StoredBackup(run, manifest_id, frozenset(pieces), dict(files))


def _commit_manifest(store: Store, sealer: CompanySealer, run: Run, entries: list[Entry]) -> int:
    ordered = sort_entries(entries)
    manifest_digest = digest(ordered, "UTC", ())
    out = io.BytesIO()
    writer = ManifestWriter(sealer, ManifestHeader(manifest_digest, "UTC", ()), out.write)
    resolver = Resolver("UTC", ())
    distinct = {cid for entry in ordered for cid in entry.chunk_ids}
    with store.db.writing() as session:
        index = SqlChunkIndex(session, run.company_id)
        for resolved in resolve_entries(resolver, ordered, index.facts):
            writer.add(resolved)
        totals = resolver.totals()
        archive_digest = writer.finish(totals)
        name = f"manifests/{run.company_id}/{secrets.token_hex(16)}"
        store.backend.put(name, out.getvalue())
        for cid in distinct:
            session.execute(
                update(StorageChunk)
                .where(StorageChunk.company_id == run.company_id, StorageChunk.chunk_id == cid)
                .values(refs=StorageChunk.refs + 1, unreferenced_since=None)
            )
        row = StorageManifest(
            company_id=run.company_id,
            device_id=run.device_id,
            job_id=run.job_id,
            log_id=run.log_id,
            log_item_id=run.log_item_id,
            blob_name=name,
            digest=manifest_digest,
            archive_digest=archive_digest,
            archive_size=totals.archive_size,
            list_size=totals.list_size,
            entry_count=totals.entry_count,
            plain_bytes=totals.logical_bytes,
            stored_bytes=0,
            chunk_count=len(distinct),
        )
        session.add(row)
        session.flush()
        return row.id


def read_archive(store: Store, manifest_id: int) -> bytes:
    """The backup file's ZIP bytes, assembled from the backend through the index."""
    with store.db.reading() as session:
        row = session.scalars(
            select(StorageManifest).where(StorageManifest.id == manifest_id)
        ).one()
        keys = keys_for(session, store.secret, row.company_id)
        session.expunge(row)  # read on after the session's rollback
    sealer = CompanySealer(keys.data_key, row.company_id)

    def reader() -> ManifestReader:
        return ManifestReader(sealer, row.digest, io.BytesIO(store.backend.get(row.blob_name)).read)

    first = reader()
    for _ in first.entries():
        pass
    assert first.totals is not None

    def fetch(ids: object) -> dict[ChunkId, bytes]:
        wanted = list(ids)  # type: ignore[call-overload]
        with store.db.reading() as session:
            locations = SqlChunkIndex(session, row.company_id).locations(wanted)
        found = {}
        for cid in wanted:
            where = locations[cid]
            sealed = store.backend.get(where.pack_name, where.offset, where.stored_length)
            found[cid] = sealer.open_piece(cid, sealed)
        return found

    return b"".join(stream(archive_parts(lambda: reader().entries(), first.totals), fetch))
