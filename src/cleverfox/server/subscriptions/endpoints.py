"""``/api/subscriptions``: a company's plan (all four verbs)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from cleverfox.server.kit.dependencies import PartnerWork, body_of, query_of
from cleverfox.server.kit.events import Actor
from cleverfox.server.kit.inputs import Body, path_id
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.subscriptions import service
from cleverfox.server.subscriptions.schemas import (
    SUBSCRIPTION,
    SUBSCRIPTION_FILTERS,
    subscription_out,
)

router = APIRouter(
    prefix="/api/subscriptions", tags=["Subscriptions"], default_response_class=Response
)
RESOURCE = ("subscriptions", "SubscriptionId")


@router.get("")
def list_subscriptions(
    work: PartnerWork, query: ListQuery = query_of(SUBSCRIPTION_FILTERS)
) -> Response:
    """The caller's subscriptions, newest first; filter by `CompanyId`."""
    return work.list(
        query, lambda s, q: service.list_subscriptions(s, work.partner_id, q), subscription_out
    )


@router.get("/{subscription_id}")
def get_subscription(subscription_id: str, work: PartnerWork) -> Response:
    """One subscription of the caller."""
    sid = path_id(subscription_id)
    return work.get(lambda s: service.get_subscription(s, work.partner_id, sid), subscription_out)


@router.post("", status_code=201)
def create_subscription(work: PartnerWork, body: Body = body_of(SUBSCRIPTION)) -> Response:
    """Add a subscription: a company of the caller on an active plan of the company's plan
    type. ExternalId must be unique among the caller's subscriptions (409
    `external_id_taken`); SendNotificationTo is required when SendNotificationOnStorageLimit
    is true."""
    return work.write(
        body,
        RESOURCE,
        lambda s: service.create_subscription(s, work.partner_id, body.raw, Actor.API),
        subscription_out,
        status=201,
    )


@router.put("/{subscription_id}")
def update_subscription(
    subscription_id: str, work: PartnerWork, body: Body = body_of(SUBSCRIPTION)
) -> Response:
    """Change the attributes sent; the others keep their value. CompanyId and PlanId are
    fixed once created; IsInactive and AdditionalDevice are the operator's."""
    sid = path_id(subscription_id)
    return work.write(
        body,
        RESOURCE,
        lambda s: service.update_subscription(s, work.partner_id, sid, body.raw, Actor.API),
        subscription_out,
    )


@router.delete("/{subscription_id}")
def delete_subscription(subscription_id: str, work: PartnerWork) -> Response:
    """Delete a subscription no device uses (else 409 `subscription_in_use`)."""
    sid = path_id(subscription_id)
    return work.write(
        None,
        RESOURCE,
        lambda s: service.delete_subscription(s, work.partner_id, sid, Actor.API),
        subscription_out,
    )
