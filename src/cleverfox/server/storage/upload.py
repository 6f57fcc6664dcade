"""Uploads of chunks: what the agent learns at check-in, which ids are missing, and packs.

A pack upload (``PUT /api/agent/packs``) is judged whole before anything is stored: every
record is parsed and verified (its piece opens to at most ``ChunkMaxBytes`` of plaintext
that hashes to its id under the company's id key). Ids the company already indexes are
*duplicates* and are not stored again; the rest are sealed into one pack, the pack's blob
is written to the backend (durable) and only then indexed, in one transaction
(``SqlChunkIndex.add_pack``). Two processes storing one chunk at once both write a pack;
the index keeps the first row (the other copy becomes garbage with its pack), and each
answer's ``Stored`` counts only the ids its own insert added.

Everything here is synchronous and CPU- or I/O-bound: endpoints run it in a worker thread.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.errors import (
    BadRequest,
    FieldError,
    ServiceUnavailable,
    ValidationFailed,
)
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.storage import repository
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import keys_for
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError
from cleverfox.storage.chunking import DEFAULT_CHUNKING, MIB, ChunkingParams
from cleverfox.storage.errors import InvalidChunkId, PackMalformed, RecordInvalid
from cleverfox.storage.ids import ChunkId, chunk_id_hex, parse_chunk_id
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.records import VerifiedRecord, parse_records, verify_records
from cleverfox.storage.sealing import CompanyKeys, CompanySealer

log = logging.getLogger("cleverfox.server")
MAX_PACK_BYTES = 64 * MIB
"""The largest pack body (and ``logs/{LogId}/files`` body) the server takes."""
MAX_MISSING_IDS = 10_000


@dataclass(frozen=True)
class StorageTerms:
    """What the check-in tells the agent about storage: the company's id key (to name
    chunks), the chunking parameters and the largest pack body."""

    id_key: bytes
    chunking: ChunkingParams = DEFAULT_CHUNKING
    max_pack_bytes: int = MAX_PACK_BYTES

    @property
    def id_key_base64(self) -> str:
        return base64.b64encode(self.id_key).decode("ascii")


@dataclass(frozen=True)
class PackResult:
    """How many records of a pack were stored, and how many were already there (or
    repeated in the pack). ``stored + duplicates`` is the number of records."""

    stored: int
    duplicates: int


def terms_for(session: Session, secret: ServerSecret, company_id: int) -> StorageTerms:
    """The company's storage terms; its keys are made on first use (``keys_for``)."""
    return StorageTerms(keys_for(session, secret, company_id).id_key)


def parse_ids(raw: object, attribute: str = "Ids", limit: int = MAX_MISSING_IDS) -> list[ChunkId]:
    """``raw`` as 1 to ``limit`` chunk ids (64 lower-case hex digits each), or 400
    ``validation_failed`` on ``attribute`` naming the first bad one."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= limit:
        message = f"{attribute} must be an array of 1 to {limit} chunk ids."
        raise ValidationFailed([FieldError(attribute, "invalid", message)])
    ids = []
    for index, text in enumerate(raw):
        try:
            if not isinstance(text, str):
                raise InvalidChunkId("not a string")
            ids.append(parse_chunk_id(text))
        except InvalidChunkId:
            name = f"{attribute}[{index}]"
            message = f"{name} must be 64 lower-case hex digits."
            raise ValidationFailed([FieldError(name, "invalid", message)]) from None
    return ids


def missing_chunks(db: Database, company_id: int, ids: Sequence[ChunkId]) -> list[ChunkId]:
    """The ids of ``ids`` the company's storage lacks, each once, in request order."""
    with db.reading() as session:
        return SqlChunkIndex(session, company_id).missing(ids)


def store_pack(
    db: Database, secret: ServerSecret, backend: Backend, company_id: int, body: bytes
) -> PackResult:
    """Verify every record of ``body``, then seal the new ones into one pack, put it to
    ``backend`` and index it. 400 ``pack_malformed`` / ``chunk_invalid`` (with ``id``) store
    nothing."""
    keys = _keys(db, secret, company_id)
    verified = _verified(body, keys.id_key)
    with db.reading() as session:
        absent = set(SqlChunkIndex(session, company_id).missing([r.chunk_id for r in verified]))
    fresh = _first_copies(verified, absent)
    if not fresh:
        return PackResult(0, len(verified))
    writer = PackWriter(CompanySealer(keys.data_key, company_id), new_pack_name(company_id))
    for record in fresh:
        writer.add(record.chunk_id, record.facts, record.piece)
    pack = writer.finish()
    put_durably(backend, pack.name, pack.data)
    with db.writing() as session:
        stored = SqlChunkIndex(session, company_id).add_pack(pack.name, pack.entries)
        repository.sync_used_bytes(session, company_id)
    return PackResult(stored, len(verified) - stored)


def put_durably(backend: Backend, name: str, data: bytes) -> None:
    """Write a new blob; a backend that fails (after its retries) is 503, never a 500."""
    try:
        backend.put(name, data)
    except BackendError:
        log.exception("storage backend put of %s failed", name)
        raise ServiceUnavailable(
            "Storage is unavailable right now; retry later.", code="storage_unavailable"
        ) from None


def _keys(db: Database, secret: ServerSecret, company_id: int) -> CompanyKeys:
    with db.writing() as session:
        return keys_for(session, secret, company_id)


def _verified(body: bytes, id_key: bytes) -> list[VerifiedRecord]:
    try:
        records = parse_records(body)
        return list(verify_records(records, id_key, DEFAULT_CHUNKING.max_bytes))
    except PackMalformed as error:
        raise BadRequest(
            f"The body is not a sequence of chunk records: {error.reason}.", code="pack_malformed"
        ) from None
    except RecordInvalid as error:
        hex_id = chunk_id_hex(ChunkId(error.chunk_id))
        raise BadRequest(
            f"Chunk {hex_id} is not valid: {error.reason}; nothing of this pack was stored.",
            code="chunk_invalid",
            extra={"id": hex_id},
        ) from None


def _first_copies(records: Sequence[VerifiedRecord], wanted: set[ChunkId]) -> list[VerifiedRecord]:
    """The first record of each id in ``wanted``, in body order."""
    seen: set[ChunkId] = set()
    chosen = []
    for record in records:
        if record.chunk_id in wanted and record.chunk_id not in seen:
            seen.add(record.chunk_id)
            chosen.append(record)
    return chosen
