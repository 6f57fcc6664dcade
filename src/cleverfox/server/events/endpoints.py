"""``/api/events``: the audit trail (GET only; other verbs are 405)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cleverfox.server.events import service
from cleverfox.server.events.schemas import EVENT_FILTERS, event_out
from cleverfox.server.kit.dependencies import PartnerWork, query_of
from cleverfox.server.kit.inputs import path_id
from cleverfox.server.kit.listing import ListQuery

router = APIRouter(prefix="/api/events", tags=["Events"], default_response_class=Response)


@router.get("")
def list_events(work: PartnerWork, query: ListQuery = query_of(EVENT_FILTERS)) -> Response:
    """The caller's Events, newest first, including those of objects since deleted.

    Filters: `EventTypeId`, `CompanyId`, `DeviceId`, `JobId`, and `Since` (inclusive) /
    `Until` (exclusive) on AddedOn in UTC; a date-time without a zone is UTC."""
    return work.list(query, lambda s, q: service.list_events(s, work.partner_id, q), event_out)


@router.get("/{event_id}")
def get_event(event_id: str, work: PartnerWork) -> Response:
    """One Event of the caller."""
    eid = path_id(event_id)
    return work.get(lambda s: service.get_event(s, work.partner_id, eid), event_out)
