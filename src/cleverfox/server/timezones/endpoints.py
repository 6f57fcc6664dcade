"""``/api/timezones``: the time zones a Device may use (read-only, partner keys)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cleverfox.server.kit.access import require_partner
from cleverfox.server.kit.auth import PartnerPrincipal
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.inputs import IGNORED_PARAMETERS, names_header
from cleverfox.server.kit.listing import ListQuery, parse_list_query
from cleverfox.server.kit.middleware import add_response_header
from cleverfox.server.kit.responses import JsonResponse, collection, element
from cleverfox.server.timezones.catalog import MAX_TIME_ZONE_ID_LENGTH, all_time_zones, resolve
from cleverfox.server.timezones.schemas import UNPAGED_PARAMETERS, time_zone_out

router = APIRouter(prefix="/api/timezones", tags=["Time Zones"], default_response_class=Response)
_UNPAGED = frozenset(name.casefold() for name in UNPAGED_PARAMETERS)


def time_zone_query(
    request: Request, _partner: PartnerPrincipal = Depends(require_partner)
) -> ListQuery:
    """PageNo and PageSize; BeforeId and UpdatedSince do not apply and are named back in
    ``X-CleverFox-Ignored-Parameters`` with any unknown parameter."""
    params = request.query_params.multi_items()
    unpaged = [key for key, _ in params if key.casefold() in _UNPAGED]
    query = parse_list_query([(k, v) for k, v in params if k.casefold() not in _UNPAGED], ())
    ignored = [*query.ignored, *unpaged]
    if ignored:
        add_response_header(request.scope, IGNORED_PARAMETERS, names_header(ignored))
    return query


@router.get("")
def list_time_zones(query: ListQuery = Depends(time_zone_query)) -> JsonResponse:
    """Windows time zones with display names, IANA equivalents and current UTC offsets
    (minutes), by offset then id. Paged by PageNo and PageSize only."""
    now = utcnow()
    zones = all_time_zones(now)
    start = (query.page_no - 1) * query.page_size
    page = zones[start : start + query.page_size] if start < len(zones) else []
    return collection(
        [time_zone_out(zone, now) for zone in page],
        page_no=query.page_no,
        page_size=query.page_size,
        has_more=start + query.page_size < len(zones),
    )


@router.get("/{time_zone_id:path}")
def get_time_zone(
    time_zone_id: str, _partner: PartnerPrincipal = Depends(require_partner)
) -> JsonResponse:
    """One time zone by its URL-encoded Windows id (``Eastern%20Standard%20Time``); an IANA
    name (``America%2FNew_York``) resolves to its Windows zone, keeping the IANA rules."""
    zone = resolve(time_zone_id) if len(time_zone_id) <= MAX_TIME_ZONE_ID_LENGTH else None
    if zone is None:
        raise NotFound()
    return element(time_zone_out(zone, utcnow()))
