"""Rules of subscriptions: the company and plan they join, unique ExternalId, notification
lists, and deletion only while no device uses them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.conflicts import UniqueConflict
from cleverfox.server.kit.errors import Conflict, FieldError, NotFound
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import fail_if, invalid_reference
from cleverfox.server.models import Company, Subscription
from cleverfox.server.subscriptions import repository
from cleverfox.server.subscriptions.schemas import SUBSCRIPTION, SubscriptionView

EXTERNAL_ID_TAKEN = "ExternalId is already used by another of your subscriptions."
_TO_REQUIRED = "SendNotificationTo is required when SendNotificationOnStorageLimit is true."
CONFLICTS = (
    UniqueConflict(
        "uq_subscriptions_partner_id_external_id", "external_id_taken", EXTERNAL_ID_TAKEN
    ),
)


def get_subscription(session: Session, partner_id: int, subscription_id: int) -> SubscriptionView:
    """One of the caller's subscriptions; anyone else's is 404."""
    return view_of(session, _require(session, partner_id, subscription_id))


def list_subscriptions(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[SubscriptionView], bool]:
    rows, has_more = repository.list_subscriptions(session, partner_id, query)
    return views_of(session, rows), has_more


def create_subscription(
    session: Session, partner_id: int, raw: dict[str, Any], actor: Actor
) -> SubscriptionView:
    """POST: a company of the caller and an active plan of its plan type; Subscription Added."""
    values = SUBSCRIPTION.parse_create(raw)
    company = repository.get_company(session, partner_id, values["company_id"])
    errors = _reference_errors(session, company, values["plan_id"])
    errors += _notification_errors(values)
    fail_if(errors)
    _check_external_id(session, partner_id, values["external_id"], None)
    subscription = Subscription(partner_id=partner_id, **values)
    session.add(subscription)
    session.flush()
    record_event(
        session,
        EventKind.SUBSCRIPTION_ADDED,
        actor=actor,
        partner_id=partner_id,
        company_id=subscription.company_id,
        subscription_id=subscription.id,
        plan_id=subscription.plan_id,
    )
    return get_subscription(session, partner_id, subscription.id)


def update_subscription(
    session: Session, partner_id: int, subscription_id: int, raw: dict[str, Any], actor: Actor
) -> SubscriptionView:
    """PUT: only what is sent changes, rules checked on the result; Subscription Modified."""
    subscription = _require(session, partner_id, subscription_id, lock=True)
    values = SUBSCRIPTION.parse_update(raw)
    fail_if(_notification_errors({**_notification_state(subscription), **values}))
    if "external_id" in values:
        _check_external_id(session, partner_id, values["external_id"], subscription.id)
    changes = apply_changes(subscription, SUBSCRIPTION, values)
    if changes:
        record_event(
            session,
            EventKind.SUBSCRIPTION_MODIFIED,
            actor=actor,
            partner_id=partner_id,
            company_id=subscription.company_id,
            subscription_id=subscription.id,
            changes=changes,
        )
    return view_of(session, subscription)


def delete_subscription(
    session: Session, partner_id: int, subscription_id: int, actor: Actor
) -> SubscriptionView:
    """DELETE: 409 ``subscription_in_use`` while devices use it; Subscription Deleted."""
    subscription = _require(session, partner_id, subscription_id, lock=True)
    view = view_of(session, subscription)
    if view.device_count:
        raise Conflict(
            "Devices still use this subscription; move or delete them first.",
            code="subscription_in_use",
        )
    record_event(
        session,
        EventKind.SUBSCRIPTION_DELETED,
        actor=actor,
        partner_id=partner_id,
        company_id=subscription.company_id,
        subscription_id=subscription.id,
        plan_id=subscription.plan_id,
    )
    session.delete(subscription)
    return view


def view_of(session: Session, subscription: Subscription) -> SubscriptionView:
    return views_of(session, [subscription])[0]


def views_of(session: Session, rows: Sequence[Subscription]) -> list[SubscriptionView]:
    """The rows with their device counts, counted in two queries for the whole page."""
    by_sub = repository.device_counts_by_subscription(session, (s.id for s in rows))
    by_company = repository.device_counts_by_company(session, (s.company_id for s in rows))
    return [SubscriptionView(s, by_sub.get(s.id, 0), by_company.get(s.company_id, 0)) for s in rows]


def _require(
    session: Session, partner_id: int, subscription_id: int, *, lock: bool = False
) -> Subscription:
    subscription = repository.get_subscription(session, partner_id, subscription_id, lock=lock)
    if subscription is None:
        raise NotFound()
    return subscription


def _reference_errors(session: Session, company: Company | None, plan_id: int) -> list[FieldError]:
    """CompanyId must be the caller's; PlanId an active plan of that company's plan type."""
    errors: list[FieldError] = []
    if company is None:
        errors.append(invalid_reference("CompanyId", "company"))
    plan = repository.get_plan(session, plan_id)
    if plan is None or plan.is_inactive:
        errors.append(invalid_reference("PlanId", "plan"))
    elif company is not None and plan.plan_type_id != company.plan_type_id:
        errors.append(
            FieldError(
                "PlanId",
                "invalid_reference",
                "PlanId must name an active plan of the company's plan type.",
            )
        )
    return errors


def _notification_state(subscription: Subscription) -> dict[str, Any]:
    return {
        "send_notification_to": subscription.send_notification_to,
        "send_notification_on_storage_limit": subscription.send_notification_on_storage_limit,
    }


def _notification_errors(values: dict[str, Any]) -> list[FieldError]:
    """SendNotificationTo is required when SendNotificationOnStorageLimit is true."""
    if values.get("send_notification_on_storage_limit") and not values.get("send_notification_to"):
        return [FieldError("SendNotificationTo", "required", _TO_REQUIRED)]
    return []


def _check_external_id(
    session: Session, partner_id: int, external_id: str | None, exclude_id: int | None
) -> None:
    if external_id and repository.external_id_taken(session, partner_id, external_id, exclude_id):
        raise Conflict(EXTERNAL_ID_TAKEN, code="external_id_taken")
