"""``/api/partners``: the caller's own partner account (GET list, GET, PUT)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.partners import service
from cleverfox.server.partners.schemas import PARTNER, PARTNER_FILTERS, partner_out

router = APIRouter(prefix="/api/partners", tags=["Partners"], default_response_class=Response)
RESOURCE = ("partners", "PartnerId")


@router.get("")
def list_partners(work: PartnerWork, query: ListQuery = query_of(PARTNER_FILTERS)) -> Response:
    """The caller's own partner account (a list of one)."""
    return work.list(
        query, lambda s, q: service.list_own_partner(s, work.partner_id, q), partner_out
    )


@router.get("/{partner_id}")
def get_partner(partner_id: str, work: PartnerWork) -> Response:
    """The caller's partner; any other PartnerId is 404."""
    pid = path_id(partner_id)
    return work.get(lambda s: service.get_own_partner(s, work.partner_id, pid), partner_out)


@router.put("/{partner_id}")
def update_partner(partner_id: str, work: PartnerWork, body: Body = body_of(PARTNER)) -> Response:
    """Change the caller's Name or ApplicationId."""
    pid = path_id(partner_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_partner(s, work.partner_id, pid, body.raw, Actor.API),
        partner_out,
    )
