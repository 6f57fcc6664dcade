"""``/api/partnerusers``: people of the partner's organisation (all four verbs)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.partner_users import service
from cleverfox.server.partner_users.schemas import (
    PARTNER_USER,
    PARTNER_USER_FILTERS,
    partner_user_out,
)

router = APIRouter(
    prefix="/api/partnerusers", tags=["Partner Users"], default_response_class=Response
)
RESOURCE = ("partnerusers", "PartnerUserId")


@router.get("")
def list_partner_users(
    work: PartnerWork, query: ListQuery = query_of(PARTNER_USER_FILTERS)
) -> Response:
    """The caller's users, newest first. ``Email`` matches case-insensitively."""
    return work.list(
        query, lambda s, q: service.list_users(s, work.partner_id, q), partner_user_out
    )


@router.get("/{partner_user_id}")
def get_partner_user(partner_user_id: str, work: PartnerWork) -> Response:
    """One user of the caller."""
    uid = path_id(partner_user_id)
    return work.get(lambda s: service.get_user(s, work.partner_id, uid), partner_user_out)


@router.post("", status_code=201)
def create_partner_user(work: PartnerWork, body: Body = body_of(PARTNER_USER)) -> Response:
    """Add a user and send them an invitation e-mail.

    Email must be a valid address not used by another of the caller's users (compared
    case-insensitively; 409 ``email_taken``). The partner's first user becomes its account
    owner (IsAccountOwner), unless the operator made one; the first user therefore cannot be
    created inactive (409 ``account_owner``).
    """
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_user(s, work.partner_id, body.raw, Actor.API),
        partner_user_out,
        status=201,
    )


@router.put("/{partner_user_id}")
def update_partner_user(
    partner_user_id: str, work: PartnerWork, body: Body = body_of(PARTNER_USER)
) -> Response:
    """Change the attributes sent; the others keep their value.

    The account owner cannot be deactivated (409 ``account_owner``).
    """
    uid = path_id(partner_user_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_user(s, work.partner_id, uid, body.raw, Actor.API),
        partner_user_out,
    )


@router.delete("/{partner_user_id}")
def delete_partner_user(partner_user_id: str, work: PartnerWork) -> Response:
    """Delete a user; the account owner cannot be deleted (409 ``account_owner``)."""
    uid = path_id(partner_user_id)
    return work.write(
        None,
        RESOURCE,
        lambda s: service.delete_user(s, work.partner_id, uid, Actor.API),
        partner_user_out,
    )
