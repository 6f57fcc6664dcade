"""``/api/companies``: a partner's customers (all four verbs)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from cleverfox.server.companies import service
from cleverfox.server.companies.schemas import (
    COMPANY,
    COMPANY_FILTERS,
    company_out,
    company_row_out,
)
from cleverfox.server.kit.dependencies import PartnerWork, body_of, partner_work_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.hot import hot_get
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery

router = APIRouter(prefix="/api/companies", tags=["Companies"], default_response_class=Response)
RESOURCE = ("companies", "CompanyId")


@router.get("")
def list_companies(work: PartnerWork, query: ListQuery = query_of(COMPANY_FILTERS)) -> Response:
    """The caller's companies, newest first."""
    return work.list_rows(
        query, lambda c, q: service.read_companies(c, work.partner_id, q), company_row_out
    )


@hot_get(router, "/{company_id}")
async def get_company(request: Request, company_id: str) -> Response:
    """One company of the caller."""
    work = await partner_work_of(request)
    cid = path_id(company_id)
    return await work.fetch(
        lambda reads: service.read_company(reads, work.partner_id, cid), company_row_out
    )


@router.post("", status_code=201)
def create_company(work: PartnerWork, body: Body = body_of(COMPANY)) -> Response:
    """Add a company; ExternalId must be unique among the caller's companies."""
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_company(s, work.partner_id, body.raw, Actor.API),
        company_out,
        status=201,
    )


@router.put("/{company_id}")
def update_company(company_id: str, work: PartnerWork, body: Body = body_of(COMPANY)) -> Response:
    """Change the attributes sent; the others keep their value."""
    cid = path_id(company_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_company(s, work.partner_id, cid, body.raw, Actor.API),
        company_out,
    )


@router.delete("/{company_id}")
def delete_company(company_id: str, work: PartnerWork) -> Response:
    """Delete a company without devices; its users and subscriptions go with it."""
    cid = path_id(company_id)
    return work.write(
        None,
        RESOURCE,
        lambda s: service.delete_company(s, work.partner_id, cid, Actor.API),
        company_out,
    )
