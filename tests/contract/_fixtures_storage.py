"""Backup files for the download tests, committed the way the upload endpoints commit them.

``backed_up`` runs a real agent run over HTTPS (``tests.support.agent.run_backup``: check-in,
chunks, packs, the files commit, the finish). With small chunking ``params`` it instead
finishes a run through the agent's endpoints and commits its files through the engine as
the server would — chunked, sealed into several packs in the server's own storage
directory, indexed with ``SqlChunkIndex``, resolved, the sealed manifest written, then its
row and the Log Item's file attributes inserted: data before index before manifest — so
that kilobyte files span many chunks and packs (the agent's real chunks are 256 KiB at
least).
"""

from __future__ import annotations

import io
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    created,
    database,
    finish_run,
    start_run,
)
from tests.support.agent import File, run_backup
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.models import LogItem, StorageManifest
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import keys_for
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.ids import ChunkId, chunk_id
from cleverfox.storage.index import ChunkFacts, facts_of
from cleverfox.storage.manifest import Entry, digest, has_extension, sort_entries
from cleverfox.storage.manifest_stream import ManifestHeader, ManifestWriter
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.pieces import make_piece
from cleverfox.storage.resolution import Resolver, resolve_entries
from cleverfox.storage.sealing import CompanySealer

SMALL_CHUNKS = ChunkingParams(min_bytes=64, avg_bytes=256, max_bytes=1024)
REGULAR = stat.S_IFREG | 0o644
MODIFIED_MS = 1_700_000_000_000
MODIFIED_UTC = "2023-11-14T22:13:20Z"  # MODIFIED_MS
STARTED_ON = "2026-05-01T12:00:00"
EXTENSIONS = ".jpg\r\n.zip"


@dataclass(frozen=True)
class StoredBackup:
    """A committed backup file: its Log Item, the files it holds, and the device."""

    log_item_id: int
    log_id: int
    files: Mapping[str, bytes]
    device: dict[str, Any]
    archive_size: int
    list_size: int


def backed_up(
    server: ServerProcess,
    partner: Partner,
    files: Mapping[str, bytes],
    *,
    params: ChunkingParams | None = None,
    packs: int = 2,
) -> StoredBackup:
    """A Completed run of a new device whose one job item's backup file holds ``files``.

    By default the run goes through the agent's upload endpoints (``tests.support.agent``,
    the real chunking); with ``params`` the files are committed through the engine directly
    (``commit_files``), so that small files still span several chunks and packs."""
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"])
    item = create_item(partner, job["JobId"], NoCompressExtensions=EXTENSIONS)
    if params is None:
        run = run_backup(
            server,
            device["ApiKey"],
            job["JobId"],
            item["JobItemId"],
            {path: File(content, modified_utc=MODIFIED_UTC) for path, content in files.items()},
            job_started_on=STARTED_ON,
            no_compress_extensions=EXTENSIONS,
        )
        assert run.log_item is not None and run.log_item_id is not None
        sizes = run.log_item["BackupFileSize"], run.log_item["BackupListSize"]
        return StoredBackup(run.log_item_id, run.log_id, files, device, *sizes)
    log = created(start_run(server, device, job["JobId"], JobStartedOn=STARTED_ON))
    names = {"BackupFileName": "Nightly-Documents-20260501-120000.zip"}
    names["BackupListName"] = "Nightly-Documents-20260501-120000.txt"
    body = {"JobStatus": "Completed", "LogItems": [{"JobItemId": item["JobItemId"], **names}]}
    finished = created(finish_run(server, device, log["LogId"], **body))
    log_item_id = finished["LogItems"][0]["LogItemId"]
    sizes = commit_files(server, partner.company_id, device, log, log_item_id, files, params, packs)
    return StoredBackup(log_item_id, log["LogId"], files, device, *sizes)


def commit_files(
    server: ServerProcess,
    company_id: int,
    device: dict[str, Any],
    log: dict[str, Any],
    log_item_id: int,
    files: Mapping[str, bytes],
    params: ChunkingParams,
    packs: int,
) -> tuple[int, int]:
    """Store ``files`` as Log Item ``log_item_id``'s backup file; its archive and list size."""
    backend = LocalBackend(server.data_dir / "storage")
    secret = load_or_create_secret(server.data_dir / "secret.key")
    extensions = tuple(e for e in EXTENSIONS.lower().split("\r\n"))
    with database(server) as session:
        keys = keys_for(session, secret, company_id)
        sealer = CompanySealer(keys.data_key, company_id)
        index = SqlChunkIndex(session, company_id)
        chunker = Chunker(params)
        pieces: dict[ChunkId, tuple[ChunkFacts, bytes]] = {}
        entries = []
        for path, content in files.items():
            ids = []
            for chunk in chunker.chunks_of_bytes(content):
                cid = chunk_id(keys.id_key, chunk)
                piece = make_piece(chunk, not has_extension(path, extensions))
                pieces.setdefault(cid, (facts_of(piece.codec, len(piece.data), chunk), piece.data))
                ids.append(cid)
            entries.append(Entry(path, REGULAR, len(content), MODIFIED_MS, tuple(ids)))
        missing = index.missing(list(pieces))
        for number in range(packs):
            writer = PackWriter(sealer, new_pack_name(company_id))
            for cid in missing[number::packs]:
                writer.add(cid, *pieces[cid])
            if len(writer):
                pack = writer.finish()
                backend.put(pack.name, pack.data)
                index.add_pack(pack.name, pack.entries)
        ordered = sort_entries(entries)
        header = ManifestHeader(digest(ordered, "UTC", extensions), "UTC", extensions)
        out = io.BytesIO()
        manifest = ManifestWriter(sealer, header, out.write)
        resolver = Resolver("UTC", extensions)
        for resolved in resolve_entries(resolver, ordered, index.facts):
            manifest.add(resolved)
        totals = resolver.totals()
        archive_digest = manifest.finish(totals)
        blob_name = f"manifests/{company_id}/{secrets.token_hex(16)}"
        backend.put(blob_name, out.getvalue())
        session.add(
            StorageManifest(
                company_id=company_id,
                device_id=device["DeviceId"],
                job_id=log["JobId"],
                log_id=log["LogId"],
                log_item_id=log_item_id,
                blob_name=blob_name,
                digest=header.digest,
                archive_digest=archive_digest,
                archive_size=totals.archive_size,
                list_size=totals.list_size,
                entry_count=totals.entry_count,
                plain_bytes=totals.logical_bytes,
                stored_bytes=sum(f.stored_length for f, _ in pieces.values()),
                chunk_count=len(pieces),
            )
        )
        session.execute(
            update(LogItem)
            .where(LogItem.id == log_item_id)
            .values(
                backup_file_size=totals.archive_size,
                backup_list_size=totals.list_size,
                backup_list_count=totals.entry_count,
            )
        )
    return totals.archive_size, totals.list_size


def remove_file(server: ServerProcess, log_item_id: int) -> None:
    """Mark the Log Item's file deleted, as retention does (its row stays)."""
    from cleverfox.server.kit.datetimes import utcnow

    with database(server) as session:
        session.execute(
            update(StorageManifest)
            .where(StorageManifest.log_item_id == log_item_id)
            .values(deleted_on=utcnow())
        )
