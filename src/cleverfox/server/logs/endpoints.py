"""``/api/logs`` and ``/api/logitems``: the history of runs, read-only for partners."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.responses import Response

from cleverfox.server.devices.endpoints import presentation
from cleverfox.server.devices.schemas import Presentation
from cleverfox.server.kit.dependencies import PartnerWork, query_of
from cleverfox.server.kit.inputs import path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.logs import service
from cleverfox.server.logs.schemas import LOG_FILTERS, LOG_ITEM_FILTERS, log_item_out, log_out

router = APIRouter(prefix="/api/logs", tags=["Logs"], default_response_class=Response)
items_router = APIRouter(
    prefix="/api/logitems", tags=["Log Items"], default_response_class=Response
)


@router.get("")
def list_logs(
    work: PartnerWork,
    query: ListQuery = query_of(LOG_FILTERS),
    how: Presentation = Depends(presentation),
) -> Response:
    """The caller's Logs, newest first. Logs still `Running` are left out unless asked for
    with `JobStatus=Running` or `IncludeRunning=true`. Since/Until filter on AddedOn (UTC)."""
    return work.list_rows(
        query, lambda c, q: service.read_logs(c, work.partner_id, q, how), log_out, snapshot=True
    )


@router.get("/{log_id}")
def get_log(log_id: str, work: PartnerWork, how: Presentation = Depends(presentation)) -> Response:
    """One Log of the caller (Running ones too), with its Log Items."""
    lid = path_id(log_id)
    # Several statements: a read transaction (the session's), presented from Core rows.
    return work.get(lambda s: service.read_log(s.connection(), work.partner_id, lid, how), log_out)


@items_router.get("")
def list_log_items(work: PartnerWork, query: ListQuery = query_of(LOG_ITEM_FILTERS)) -> Response:
    """The caller's Log Items, newest first."""
    return work.list_rows(
        query, lambda c, q: service.read_log_items(c, work.partner_id, q), log_item_out
    )


@items_router.get("/{log_item_id}")
def get_log_item(log_item_id: str, work: PartnerWork) -> Response:
    """One Log Item of the caller."""
    iid = path_id(log_item_id)
    return work.get_rows(lambda c: service.read_log_item(c, work.partner_id, iid), log_item_out)
