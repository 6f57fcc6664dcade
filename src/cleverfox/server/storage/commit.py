"""Committing a backup file: ``POST /api/agent/logs/{LogId}/files``.

The manifest row is the commit point (data, then index, then manifest). A commit:

1. checks the call: the device's Log (else 404), a job item of its job (else 400), the
   entries (400 naming the entry); then the Log is Running (409 ``log_not_running``) and
   keeps cloud copies (CloudKeepLast > 0, else 409 ``cloud_copies_disabled``);
2. with ``More`` true, stages the page (``storage_staged_pages``) and answers how many
   entries are staged; ``PageNo`` (optional, 1-based) replaces that page and drops the
   later ones, so a resent page or a restarted upload never doubles entries;
3. on the last page, sorts staged + this page's entries (a repeated path is 400), checks
   that every chunk exists for the company (409 ``chunk_missing``: the first 1,000 ids and
   ``missing_count``), resolves the archive from the index's facts, writes the sealed
   manifest stream to the backend (``manifests/<company>/<2 hex>/<32 hex>``, durable);
4. then, in one transaction with the Log locked: refs += 1 on each distinct chunk, the
   storage limit (``limit``), the Log Item with its file attributes, the
   ``storage_manifests`` row, the staged pages dropped.

Idempotent per (Log, job item): the same manifest again (the same digest) answers 200 with
the Log Item committed first, even after the Log finished; another one is 409
``files_already_committed``. ``StoredBytes`` is the sealed bytes (after deduplication and
compression) of the manifest's distinct chunks that no live backup file referenced before
this commit: what this backup file brought into storage. A chunk two job items of one run
share counts for the first to commit; a chunk released by retention but not yet collected
counts again, since this commit keeps it from being freed.

Synchronous and CPU-bound (sorting, resolving, sealing): endpoints run it in a thread.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.logs.schemas import RUNNING
from cleverfox.server.models import JobItem, Log, LogItem, StorageManifest, StorageStagedPage
from cleverfox.server.runs import repository as runs
from cleverfox.server.runs.service import reported_log_item
from cleverfox.server.storage import limit, repository
from cleverfox.server.storage.entries import decode_page, encode_page
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import keys_for
from cleverfox.server.storage.naming import backup_file_names
from cleverfox.server.storage.upload import put_durably
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.errors import ChunkMissing, EntryInvalid, ManifestInvalid
from cleverfox.storage.ids import ChunkId, chunk_id_hex
from cleverfox.storage.manifest import Entry, digest, normalise_extensions, sort_entries
from cleverfox.storage.manifest_stream import ManifestHeader, ManifestWriter
from cleverfox.storage.resolution import ArchiveTotals, Resolver, resolve_entries
from cleverfox.storage.sealing import CompanySealer

MAX_LISTED_MISSING = 1000


@dataclass(frozen=True)
class FilesCall:
    """One call's parsed body: the job item, this page's entries, whether more follow, and
    the page's number when the agent gave one."""

    job_item_id: int
    entries: list[Entry]
    more: bool
    page_no: int | None


@dataclass(frozen=True)
class Outcome:
    """A staged page (``staged`` entries so far), or the committed Log Item (``created``
    False when the same manifest was committed before)."""

    staged: int | None = None
    log_item_id: int | None = None
    created: bool = False


def commit_files(
    db: Database,
    secret: ServerSecret,
    backend: Backend,
    agent: DevicePrincipal,
    log_id: int,
    call: FilesCall,
) -> Outcome:
    """The rules of the module docstring, in their order. The write transactions are
    short: resolving and sealing run in a read transaction, between them."""
    with db.writing() as session:
        log, job_item = _log_and_item(session, agent, log_id, call.job_item_id)
        done = repository.committed(session, log.id, job_item.id)
        if done is None:
            _check_running(log)
        if call.more:
            return Outcome(staged=_stage(session, log, job_item, call))
        entries = _all_entries(session, log, job_item, call)
        keys = keys_for(session, secret, log.company_id)
        zone = log.iana_time_zone_id
        extensions = normalise_extensions(job_item.no_compress_extensions or "")
        log_id, job_item_id, company_id = log.id, job_item.id, log.company_id
        done_item, done_digest = (done.log_item_id, done.digest) if done else (None, None)
    manifest_digest = digest(entries, zone, extensions)
    if done_item is not None:
        if done_digest != manifest_digest:
            raise _already_committed()
        with db.writing() as session:
            repository.drop_staged(session, log_id, job_item_id)
        return Outcome(log_item_id=done_item, created=False)
    with db.reading() as session:
        index = SqlChunkIndex(session, company_id)
        _check_present(index, entries)
        sealer = CompanySealer(keys.data_key, company_id)
        header = ManifestHeader(manifest_digest, zone, extensions)
        blob = _build(index, sealer, company_id, header, entries)
    # The stream is durable before the row that points at it; a commit that then fails
    # leaves an unreferenced blob, which garbage collection removes.
    put_durably(backend, blob.blob_name, blob.data)
    return _record(db, log_id, job_item_id, blob.manifest)


def _log_and_item(
    session: Session, agent: DevicePrincipal, log_id: int, job_item_id: int
) -> tuple[Log, JobItem]:
    found = runs.log_of_device(session, agent.device_id, log_id)
    if found is None:
        raise NotFound()
    item = runs.job_items_of(session, found.job_id, [job_item_id]).get(job_item_id)
    if item is None:
        message = "JobItemId must be a job item of the Log's job."
        raise ValidationFailed([FieldError("JobItemId", "invalid", message)])
    return found, item


def _check_running(log: Log) -> None:
    if log.job_status != RUNNING:
        raise Conflict(
            f"Files are committed while the Log is Running; it is {log.job_status}.",
            code="log_not_running",
        )
    if not log.cloud_keep_last:
        raise Conflict(
            "This job keeps no cloud copies (CloudKeepLast 0): nothing is uploaded.",
            code="cloud_copies_disabled",
        )


def _stage(session: Session, log: Log, item: JobItem, call: FilesCall) -> int:
    if call.page_no is not None:
        repository.drop_staged(session, log.id, item.id, call.page_no)
    pages, count = repository.staged_count(session, log.id, item.id)
    session.add(
        StorageStagedPage(
            log_id=log.id,
            job_item_id=item.id,
            page_no=pages + 1,
            entry_count=len(call.entries),
            body=encode_page(call.entries),
        )
    )
    return count + len(call.entries)


def _all_entries(session: Session, log: Log, item: JobItem, call: FilesCall) -> list[Entry]:
    if call.page_no is not None:
        repository.drop_staged(session, log.id, item.id, call.page_no)
    entries: list[Entry] = []
    for page in repository.staged_pages(session, log.id, item.id):
        entries += decode_page(page.body)
    entries += call.entries
    try:
        return sort_entries(entries)
    except ManifestInvalid as error:
        raise ValidationFailed([FieldError("Entries", "invalid", f"{error}.")]) from None


def _already_committed() -> Conflict:
    return Conflict(
        "Other files were already committed for this job item of this Log.",
        code="files_already_committed",
    )


def _check_present(index: SqlChunkIndex, entries: Sequence[Entry]) -> None:
    wanted = list(dict.fromkeys(chunk for entry in entries for chunk in entry.chunk_ids))
    absent = index.missing(wanted)
    if absent:
        raise chunk_missing(absent)


def chunk_missing(absent: Sequence[bytes]) -> Conflict:
    listed = [chunk_id_hex(ChunkId(chunk)) for chunk in absent[:MAX_LISTED_MISSING]]
    return Conflict(
        f"{len(absent)} chunk(s) of this manifest are not stored; upload them first.",
        code="chunk_missing",
        extra={"ids": listed, "missing_count": len(absent)},
    )


@dataclass(frozen=True)
class _Manifest:
    """What the commit's transaction records."""

    blob_name: str
    digest: bytes
    archive_digest: bytes
    totals: ArchiveTotals
    chunk_ids: list[ChunkId]


@dataclass(frozen=True)
class _Blob:
    blob_name: str
    data: bytes
    manifest: _Manifest


def _build(
    index: SqlChunkIndex,
    sealer: CompanySealer,
    company_id: int,
    header: ManifestHeader,
    entries: Sequence[Entry],
) -> _Blob:
    """Resolve ``entries`` and write the sealed manifest stream into memory."""
    parts: list[bytes] = []
    writer = ManifestWriter(sealer, header, parts.append)
    resolver = Resolver(header.time_zone, header.extensions)
    try:
        for resolved in resolve_entries(resolver, entries, index.facts):
            writer.add(resolved)
    except EntryInvalid as error:
        message = f"Entry {error.path!r}: {error.reason}."
        raise ValidationFailed([FieldError("Entries", "invalid", message)]) from None
    except ChunkMissing as error:  # garbage collection took one since the check above
        raise chunk_missing(error.chunk_ids) from None
    totals = resolver.totals()
    archive_digest = writer.finish(totals)
    random = secrets.token_hex(16)
    name = f"manifests/{company_id}/{random[:2]}/{random}"
    chunk_ids = list(dict.fromkeys(chunk for entry in entries for chunk in entry.chunk_ids))
    manifest = _Manifest(name, header.digest, archive_digest, totals, chunk_ids)
    return _Blob(name, b"".join(parts), manifest)


def _record(db: Database, log_id: int, job_item_id: int, manifest: _Manifest) -> Outcome:
    """The commit's transaction; a refusal for the storage limit records Event 80 (and
    maybe the mail) in a transaction of its own."""
    try:
        with db.writing() as session:
            return _record_in(session, log_id, job_item_id, manifest)
    except limit.StorageLimitReached:
        with db.writing() as session:
            log = session.get(Log, log_id)
            assert log is not None  # logs are never deleted
            limit.record_refusal(session, log)
        raise


def _record_in(session: Session, log_id: int, job_item_id: int, manifest: _Manifest) -> Outcome:
    log = runs.lock_log(session, log_id)
    assert log is not None  # logs are never deleted
    done = repository.committed(session, log.id, job_item_id)
    if done is not None:  # another request committed it meanwhile
        if done.digest != manifest.digest:
            raise _already_committed()
        return Outcome(log_item_id=done.log_item_id, created=False)
    _check_running(log)
    item = runs.job_items_of(session, log.job_id, [job_item_id]).get(job_item_id)
    if item is None:
        raise ValidationFailed(
            [FieldError("JobItemId", "invalid", "The job item was deleted during the run.")]
        )
    referenced = repository.add_references(session, log.company_id, manifest.chunk_ids)
    if referenced.found != len(manifest.chunk_ids):
        present = SqlChunkIndex(session, log.company_id).missing(manifest.chunk_ids)
        raise chunk_missing(present)
    limit.check(session, log, referenced.first_stored_bytes)
    log_item = _log_item(log, item, manifest.totals, referenced.first_stored_bytes)
    session.add(log_item)
    session.flush()
    session.add(_manifest_row(log, log_item, manifest, referenced.first_stored_bytes))
    repository.drop_staged(session, log.id, job_item_id)
    return Outcome(log_item_id=log_item.id, created=True)


def _log_item(log: Log, item: JobItem, totals: ArchiveTotals, stored: int) -> LogItem:
    file_name, list_name = backup_file_names(log.name, item.name, log.job_started_on)
    values: dict[str, Any] = {
        "job_item_id": item.id,
        "backup_file_name": file_name,
        "backup_file_size": totals.archive_size,
        "backup_list_name": list_name,
        "backup_list_size": totals.list_size,
        "backup_list_count": totals.entry_count,
        "stored_bytes": stored,
        "added_on": utcnow(),
    }
    return reported_log_item(log, values, item)


def _manifest_row(log: Log, log_item: LogItem, manifest: _Manifest, stored: int) -> StorageManifest:
    totals = manifest.totals
    return StorageManifest(
        company_id=log.company_id,
        device_id=log.device_id,
        job_id=log.job_id,
        log_id=log.id,
        log_item_id=log_item.id,
        blob_name=manifest.blob_name,
        digest=manifest.digest,
        archive_digest=manifest.archive_digest,
        archive_size=totals.archive_size,
        list_size=totals.list_size,
        entry_count=totals.entry_count,
        plain_bytes=totals.logical_bytes,
        stored_bytes=stored,
        chunk_count=len(manifest.chunk_ids),
    )
