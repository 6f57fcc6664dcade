"""The download calls (partner key) and the signed file URLs they hand out (no key)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from cleverfox.server.devices.download import public_base_url
from cleverfox.server.downloads import restore, service
from cleverfox.server.downloads.ranges import file_response
from cleverfox.server.downloads.schemas import (
    CHUNKS_RESPONSE,
    ENTRY_FILTERS,
    FILE_RESPONSE,
    MANIFEST_RESPONSE,
    PART_RESPONSE,
)
from cleverfox.server.kit.access import require_device
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.dependencies import PartnerWork, query_of
from cleverfox.server.kit.inputs import path_id, read_json_object
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.responses import collection
from cleverfox.server.kit.services import services_of
from cleverfox.server.kit.unit_of_work import UnitOfWork
from cleverfox.server.storage.downloads import FileReader
from cleverfox.server.storage.signing import FILE, FILES_PATH, LIST, check_url, entry_kind

items_router = APIRouter(
    prefix="/api/logitems", tags=["Log Items"], default_response_class=Response
)
files_router = APIRouter(prefix=FILES_PATH, tags=["Downloads"], default_response_class=Response)
agent_router = APIRouter(prefix="/api/agent", tags=["Agent"], default_response_class=Response)
RESOURCE = ("logitems", "LogItemId")


@items_router.get("/{log_item_id}/downloadbackupfile")
def download_backup_file(log_item_id: str, request: Request, work: PartnerWork) -> Response:
    """The Log Item with `Url` and `Expires` (one hour): the backup file (ZIP) is fetched
    from `Url` without a key. 404 `backup_file_not_available` when storage holds no file for
    it; 403 `download_limited` when the plan forbids downloads. Writes Event 60."""
    return _offer(request, work, log_item_id, FILE)


@items_router.get("/{log_item_id}/downloadbackuplist")
def download_backup_list(log_item_id: str, request: Request, work: PartnerWork) -> Response:
    """As `downloadbackupfile`, for the backup list (UTF-8 text, one line per file).
    Writes Event 61."""
    return _offer(request, work, log_item_id, LIST)


@items_router.get("/{log_item_id}/entries")
def list_entries(
    log_item_id: str, work: PartnerWork, query: ListQuery = query_of(ENTRY_FILTERS)
) -> Response:
    """The backup file's entries in archive order (by path): `EntryId` (stable for the
    file: its position, 1 first), `Path`, `Size`, `ModifiedUtc`. `PathContains` matches
    case-insensitively. 404 `backup_file_not_available` as for the download calls."""
    iid = path_id(log_item_id)
    s = work.services
    try:
        rows, has_more = service.entries_page(
            s.db, s.storage, s.secret, work.partner_id, iid, query
        )
    except service.STORAGE_FAILURES as exc:
        raise service.storage_failure(exc) from exc
    return collection(rows, page_no=query.page_no, page_size=query.page_size, has_more=has_more)


@items_router.get("/{log_item_id}/entries/{entry_id}/download")
def download_entry(
    log_item_id: str, entry_id: str, request: Request, work: PartnerWork
) -> Response:
    """As `downloadbackupfile`, with a `Url` serving that one file uncompressed (byte
    ranges too). 404 for an EntryId the file does not have. Writes Event 60."""
    return _offer(request, work, log_item_id, entry_kind(path_id(entry_id)))


def _offer(request: Request, work: UnitOfWork, log_item_id: str, kind: str) -> Response:
    iid = path_id(log_item_id)
    services = work.services
    base_url = public_base_url(services.settings, request.headers.get("host"))
    now = utcnow()
    return work.write(
        None,
        RESOURCE,
        lambda session: service.offer(session, services.secret, work.partner_id, iid, kind, now),
        lambda offer: service.item_out(offer, base_url),
    )


@files_router.head("/{log_item_id}/{kind}", include_in_schema=False)
@files_router.get("/{log_item_id}/{kind}", responses={200: FILE_RESPONSE, 206: PART_RESPONSE})
def download_file(log_item_id: str, kind: str, request: Request) -> Response:
    """A signed download URL (no key). `Content-Disposition: attachment`, an exact
    `Content-Length`, a strong `ETag`, single byte ranges (206; 416 outside the file;
    `If-Range` with the ETag), HEAD. 403 `url_expired` / `url_invalid`; 404
    `backup_file_not_available` once the file is removed."""
    services = services_of(request)
    iid = path_id(log_item_id)
    params = request.query_params
    key = services.secret.signing_key
    check_url(key, iid, kind, params.get("expires"), params.get("sig"), utcnow())
    try:
        stored = service.stored_file(services.db, services.secret, iid)
        reader = FileReader(services.storage, services.db, stored)
        served = service.served(reader, kind, whole=request.method != "HEAD")
    except service.STORAGE_FAILURES as exc:
        raise service.storage_failure(exc) from exc
    headers = request.headers
    return file_response(served, request.method, headers.get("range"), headers.get("if-range"))


@agent_router.get("/logitems/{log_item_id}/manifest", responses={200: MANIFEST_RESPONSE})
def agent_manifest(
    log_item_id: str, request: Request, agent: DevicePrincipal = Depends(require_device)
) -> Response:
    """The Log Item's manifest for a restore (device key): `application/x-ndjson`, one
    `{"Path", "Mode", "Size", "ModifiedUtc", "ChunkIds"}` a line in archive order. Another
    company's Log Item: 404; a removed file: 404 `backup_file_not_available`."""
    services = services_of(request)
    iid = path_id(log_item_id)
    stored = restore.device_file(services.db, services.secret, agent.company_id, iid)
    try:
        # Opened here, so a manifest that does not open is an error, not a cut-off stream.
        manifest = FileReader(services.storage, services.db, stored).manifest()
    except service.STORAGE_FAILURES as exc:
        raise service.storage_failure(exc) from exc
    return StreamingResponse(restore.manifest_lines(manifest), media_type="application/x-ndjson")


@agent_router.post("/chunks/read", responses={200: CHUNKS_RESPONSE})
async def agent_read_chunks(
    request: Request, agent: DevicePrincipal = Depends(require_device)
) -> Response:
    """Chunks for a restore (device key): body `{"Ids": [hex…]}` (1 to 1000, at most 64 MiB
    of plaintext in all, else 400) → `application/octet-stream`, one record `id (32) | codec
    (1) | length (4, BE) | piece` per id asked for, in order, unsealed. An id this company's
    storage lacks: 404 `chunk_missing` with `ids`."""
    body = await read_json_object(request)
    services = services_of(request)
    ids = restore.requested_ids(body)
    read = await run_in_threadpool(
        restore.ChunkRead, services.storage, services.db, services.secret, agent.company_id, ids
    )
    return StreamingResponse(
        read.records(),
        media_type="application/octet-stream",
        headers={"Content-Length": str(read.size)},
    )
