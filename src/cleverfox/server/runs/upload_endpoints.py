"""The agent's storage calls (device key): ``POST /api/agent/chunks/missing``, ``PUT
/api/agent/packs``, ``POST /api/agent/logs/{LogId}/files`` and ``PUT
/api/agent/logs/{LogId}/progress``. The rules are ``server.storage.upload``'s and
``server.storage.commit``'s; CPU-bound work (verifying, sealing, resolving) runs in a worker
thread, never on the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from cleverfox.server.kit.access import require_device
from cleverfox.server.kit.auth import DevicePrincipal
from cleverfox.server.kit.dependencies import body_of
from cleverfox.server.kit.errors import QueryParametersNotAllowed, UnsupportedMediaType
from cleverfox.server.kit.inputs import Body, check_declared_length, path_id, read_capped
from cleverfox.server.kit.responses import JsonResponse, element
from cleverfox.server.kit.services import services_of
from cleverfox.server.logs import service as logs
from cleverfox.server.logs.schemas import log_item_out
from cleverfox.server.runs import progress
from cleverfox.server.runs.upload_schemas import (
    CHUNK_IDS,
    FILES,
    PROGRESS,
    files_call,
    missing_out,
    pack_out,
    staged_out,
)
from cleverfox.server.storage import commit, upload
from cleverfox.server.storage.upload import MAX_PACK_BYTES

router = APIRouter(prefix="/api/agent", tags=["Agent"], default_response_class=Response)
PACK_MEDIA_TYPE = "application/octet-stream"


@router.post("/chunks/missing")
def missing_chunks(
    request: Request,
    agent: DevicePrincipal = Depends(require_device),
    body: Body = body_of(CHUNK_IDS, auth=require_device),
) -> JsonResponse:
    """Which chunks the device's company lacks (device key). Body ``{"Ids": [hex…]}``, 1 to
    10,000 ids of 64 lower-case hex digits (else 400 ``validation_failed``) → ``{"Missing":
    [hex…]}``: the ids not stored, each once, in request order."""
    ids = upload.parse_ids(body.raw.get("Ids"))
    missing = upload.missing_chunks(services_of(request).db, agent.company_id, ids)
    return element(missing_out(missing))


@router.put("/packs")
async def put_pack(request: Request, agent: DevicePrincipal = Depends(require_device)) -> Response:
    """Upload chunks (device key): ``Content-Type: application/octet-stream`` (else 415), at
    most MaxPackBytes (else 413), a sequence of records ``id (32) | codec (1) | length (4,
    big-endian) | piece``. Every record is verified before anything is stored → ``{"Stored":
    n, "Duplicates": m}``; 400 ``chunk_invalid`` (naming the ``id``) or ``pack_malformed``
    store nothing."""
    check_declared_length(request, MAX_PACK_BYTES)
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media != PACK_MEDIA_TYPE:
        raise UnsupportedMediaType("A pack is sent as Content-Type: application/octet-stream.")
    if request.url.query:
        raise QueryParametersNotAllowed()
    data = await read_capped(request, MAX_PACK_BYTES)
    services = services_of(request)
    result = await run_in_threadpool(
        upload.store_pack,
        services.db,
        services.secret,
        services.storage,
        agent.company_id,
        data,
    )
    return element(pack_out(result))


@router.post("/logs/{log_id}/files", status_code=201)
def commit_files(
    log_id: str,
    request: Request,
    agent: DevicePrincipal = Depends(require_device),
    body: Body = body_of(FILES, auth=require_device, limit=MAX_PACK_BYTES),
) -> JsonResponse:
    """Commit a backup file of a running Log (device key). Body ``{"JobItemId", "Entries":
    [{"Path", "Mode", "Size", "ModifiedUtc", "ChunkIds"}], "More", "PageNo"}``, at most
    MaxPackBytes. ``More`` true stages the page → 202 ``{"Staged": n}``; the last page
    commits all of them → 201 with the Log Item (file attributes, StoredBytes); the same
    manifest again → 200. 400 ``validation_failed`` (a job item not of the Log's job, a bad
    path, a Size that is not the sum of its chunks', a repeated path); 409
    ``log_not_running``, ``cloud_copies_disabled``, ``chunk_missing`` (``ids``,
    ``missing_count``), ``files_already_committed``, ``storage_limit_reached``."""
    lid = path_id(log_id)
    call = files_call(body.raw)
    services = services_of(request)
    outcome = commit.commit_files(services.db, services.secret, services.storage, agent, lid, call)
    if outcome.staged is not None:
        return element(staged_out(outcome.staged), status=202)
    assert outcome.log_item_id is not None
    with services.db.connection_reading() as connection:
        row = logs.read_log_item(connection, agent.partner_id, outcome.log_item_id)
    return element(log_item_out(row), status=201 if outcome.created else 200)


@router.put("/logs/{log_id}/progress", status_code=204)
def report_progress(
    log_id: str,
    request: Request,
    agent: DevicePrincipal = Depends(require_device),
    body: Body = body_of(PROGRESS, auth=require_device),
) -> Response:
    """Report a Running Log's progress (device key). Body ``{"FilesDone", "FilesTotal",
    "BytesDone", "BytesTotal", "BytesUploaded", "RateBytesPerSecond", "EtaSeconds"}``, all
    optional non-negative integers → 204; the Log's ``Progress`` shows the last report
    while it runs. 409 ``log_not_running`` once it finished."""
    lid = path_id(log_id)
    with services_of(request).db.writing() as session:
        progress.report_progress(session, agent.device_id, lid, body.raw)
    return Response(status_code=204)
