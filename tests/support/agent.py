"""A real agent run over HTTPS, for tests of what comes after an upload (downloads,
retention, garbage collection, checks) and of the upload itself.

``run_backup`` does what an agent does, with the storage engine's own code: check in (the
company's id key and chunking parameters), start a Log, cut each file into chunks, name and
pack them, ask which are missing, upload those in packs of at most MaxPackBytes, commit the
manifest (``logs/{LogId}/files``) and finish the Log. Everything goes through the server's
public agent endpoints with the device's key; nothing touches the database.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.ids import ChunkId, chunk_id, chunk_id_hex
from cleverfox.storage.manifest import has_extension, normalise_extensions
from cleverfox.storage.pieces import Piece, make_piece
from cleverfox.storage.records import encode_records
from tests.support.server import ServerProcess

REGULAR_FILE = 0o100644
DEFAULT_MODIFIED = "2024-05-01T12:00:00Z"


@dataclass(frozen=True)
class File:
    """One file of a backup: its content and, optionally, its mode and modification time."""

    content: bytes
    mode: int = REGULAR_FILE
    modified_utc: str = DEFAULT_MODIFIED


@dataclass
class RunResult:
    """What a run made: its Log, the Log Item of the job item, and the answers on the way."""

    log_id: int
    log_item_id: int | None
    log: dict[str, Any]
    log_item: dict[str, Any] | None
    stored: int = 0
    duplicates: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Terms:
    """The check-in's ``Storage``."""

    id_key: bytes
    chunking: ChunkingParams
    max_pack_bytes: int


def ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert response.status_code in (statuses or (200, 201)), response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def agent_client(server: ServerProcess, device_key: str) -> httpx.Client:
    return server.client(device_key)


def terms_of(agent: httpx.Client) -> Terms:
    storage = ok(agent.post("/api/agent/checkin", json={}))["Storage"]
    params = ChunkingParams(
        storage["ChunkMinBytes"], storage["ChunkAvgBytes"], storage["ChunkMaxBytes"]
    )
    return Terms(base64.b64decode(storage["IdKey"]), params, storage["MaxPackBytes"])


def pieces_of(
    terms: Terms, content: bytes, compress: bool = True
) -> list[tuple[ChunkId, Piece, int]]:
    """``(id, piece, plaintext size)`` of each chunk of ``content``, as an agent makes them."""
    chunker = Chunker(terms.chunking)
    out = []
    for chunk in chunker.chunks_of_bytes(content):
        out.append((chunk_id(terms.id_key, chunk), make_piece(chunk, compress), len(chunk)))
    return out


def pack_bodies(records: Sequence[tuple[ChunkId, Piece]], max_pack_bytes: int) -> Iterator[bytes]:
    """Record bodies of at most ``max_pack_bytes`` each."""
    batch: list[tuple[bytes, int, bytes]] = []
    size = 0
    for chunk, piece in records:
        length = 37 + len(piece.data)
        if batch and size + length > max_pack_bytes:
            yield encode_records(batch)
            batch, size = [], 0
        batch.append((chunk, int(piece.codec), piece.data))
        size += length
    if batch:
        yield encode_records(batch)


def upload_chunks(
    agent: httpx.Client, terms: Terms, records: Sequence[tuple[ChunkId, Piece]]
) -> tuple[int, int]:
    """Ask which of ``records`` are missing and upload those; ``(Stored, Duplicates)``."""
    by_id = dict(records)
    wanted: list[ChunkId] = []
    ids = list(by_id)
    for start in range(0, len(ids), 10_000):
        batch = [chunk_id_hex(i) for i in ids[start : start + 10_000]]
        missing = ok(agent.post("/api/agent/chunks/missing", json={"Ids": batch}))["Missing"]
        wanted += [ChunkId(bytes.fromhex(text)) for text in missing]
    stored = duplicates = 0
    for body in pack_bodies([(i, by_id[i]) for i in wanted], terms.max_pack_bytes):
        answer = ok(
            agent.put(
                "/api/agent/packs",
                content=body,
                headers={"Content-Type": "application/octet-stream"},
            )
        )
        stored += answer["Stored"]
        duplicates += answer["Duplicates"]
    return stored, duplicates


def manifest_of(
    terms: Terms, files: Mapping[str, File | bytes], no_compress_extensions: str = ""
) -> tuple[list[dict[str, Any]], list[tuple[ChunkId, Piece]]]:
    """The ``Entries`` of ``files`` and the records of their chunks (each id once)."""
    extensions = normalise_extensions(no_compress_extensions)
    entries = []
    records: dict[ChunkId, Piece] = {}
    for path, given in files.items():
        file = given if isinstance(given, File) else File(given)
        compress = not has_extension(path, extensions)
        chunks = pieces_of(terms, file.content, compress)
        for chunk, piece, _size in chunks:
            records.setdefault(chunk, piece)
        entries.append(
            {
                "Path": path,
                "Mode": file.mode,
                "Size": len(file.content),
                "ModifiedUtc": file.modified_utc,
                "ChunkIds": [chunk_id_hex(chunk) for chunk, _, _ in chunks],
            }
        )
    return entries, list(records.items())


def run_backup(
    server: ServerProcess,
    device_key: str,
    job_id: int,
    job_item_id: int,
    files: Mapping[str, File | bytes],
    *,
    job_started_on: str | None = None,
    status: str = "Completed",
    no_compress_extensions: str = "",
    finish: bool = True,
) -> RunResult:
    """One run of ``job_id`` backing up ``files`` (path → content) as job item
    ``job_item_id``, end to end over HTTPS; the Log finished as ``status`` (unless
    ``finish`` is off, leaving it Running). ``no_compress_extensions`` must be the job
    item's, as the agent makes plain pieces for those files."""
    with agent_client(server, device_key) as agent:
        terms = terms_of(agent)
        start: dict[str, Any] = {"JobId": job_id, "Trigger": "RunNow"}
        if job_started_on is not None:
            start["JobStartedOn"] = job_started_on
        log = ok(agent.post("/api/agent/logs", json=start), 201)
        entries, records = manifest_of(terms, files, no_compress_extensions)
        stored, duplicates = upload_chunks(agent, terms, records)
        body = {"JobItemId": job_item_id, "Entries": entries}
        item = ok(agent.post(f"/api/agent/logs/{log['LogId']}/files", json=body), 201, 200)
        result = RunResult(log["LogId"], item["LogItemId"], log, item, stored, duplicates, entries)
        if finish:
            finished = {
                "JobStatus": status,
                "LogItems": [{"JobItemId": job_item_id}],
                "BytesUploaded": sum(len(piece.data) for _, piece in records),
            }
            result.log = ok(agent.put(f"/api/agent/logs/{log['LogId']}", json=finished))
        return result


def modified(moment: datetime) -> str:
    """A ``ModifiedUtc`` of the wire: ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
