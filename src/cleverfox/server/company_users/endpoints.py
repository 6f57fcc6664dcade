"""``/api/companyusers``: people of the caller's companies (all four verbs)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cleverfox.server.company_users import service
from cleverfox.server.company_users.schemas import (
    COMPANY_USER,
    COMPANY_USER_FILTERS,
    company_user_out,
)
from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery

router = APIRouter(
    prefix="/api/companyusers", tags=["Company Users"], default_response_class=Response
)
RESOURCE = ("companyusers", "CompanyUserId")


@router.get("")
def list_company_users(
    work: PartnerWork, query: ListQuery = query_of(COMPANY_USER_FILTERS)
) -> Response:
    """Users of the caller's companies, newest first. ``Email`` matches case-insensitively."""
    return work.list(
        query, lambda s, q: service.list_users(s, work.partner_id, q), company_user_out
    )


@router.get("/{company_user_id}")
def get_company_user(company_user_id: str, work: PartnerWork) -> Response:
    """One user of one of the caller's companies."""
    uid = path_id(company_user_id)
    return work.get(lambda s: service.get_user(s, work.partner_id, uid), company_user_out)


@router.post("", status_code=201)
def create_company_user(work: PartnerWork, body: Body = body_of(COMPANY_USER)) -> Response:
    """Add a user to one of the caller's companies and send them an invitation e-mail.

    Email must be a valid address not used by another user of the company (compared
    case-insensitively; 409 ``email_taken``). The company's first user becomes its account
    owner (IsAccountOwner) and therefore cannot be created inactive (409 ``account_owner``).
    """
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_user(s, work.partner_id, body.raw, Actor.API),
        company_user_out,
        status=201,
    )


@router.put("/{company_user_id}")
def update_company_user(
    company_user_id: str, work: PartnerWork, body: Body = body_of(COMPANY_USER)
) -> Response:
    """Change the attributes sent; the others keep their value.

    The account owner cannot be deactivated (409 ``account_owner``).
    """
    uid = path_id(company_user_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_user(s, work.partner_id, uid, body.raw, Actor.API),
        company_user_out,
    )


@router.delete("/{company_user_id}")
def delete_company_user(company_user_id: str, work: PartnerWork) -> Response:
    """Delete a user; the company's account owner cannot be deleted (409 ``account_owner``)."""
    uid = path_id(company_user_id)
    return work.write(
        None,
        RESOURCE,
        lambda s: service.delete_user(s, work.partner_id, uid, Actor.API),
        company_user_out,
    )
