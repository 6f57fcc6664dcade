"""The operator's ``subscription set``: IsInactive and AdditionalDevice (read-only to partners)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, change_pair, record_event
from cleverfox.server.models import Subscription
from cleverfox.server.subscriptions import repository, service
from cleverfox.server.subscriptions.schemas import SubscriptionView

MAX_ADDITIONAL_DEVICES = 2**31 - 1


def set_subscription(
    session: Session,
    subscription_id: int,
    *,
    additional_devices: int | None = None,
    inactive: bool | None = None,
) -> SubscriptionView:
    """Change what was given (``None`` keeps it); a change writes Subscription Modified
    with Actor Operator, no change writes nothing."""
    _check_additional_devices(additional_devices)
    subscription = repository.get_any_subscription(session, subscription_id)
    if subscription is None:
        raise NotFound(f"No subscription {subscription_id}.")
    changes = _apply(subscription, additional_devices, inactive)
    if changes:
        subscription.updated_on = utcnow()
        record_event(
            session,
            EventKind.SUBSCRIPTION_MODIFIED,
            actor=Actor.OPERATOR,
            partner_id=subscription.partner_id,
            company_id=subscription.company_id,
            subscription_id=subscription.id,
            changes=changes,
        )
    return service.view_of(session, subscription)


def _apply(
    subscription: Subscription, additional_devices: int | None, inactive: bool | None
) -> dict[str, list[object]]:
    changes: dict[str, list[object]] = {}
    if additional_devices is not None and additional_devices != subscription.additional_device:
        changes["AdditionalDevice"] = change_pair(
            "AdditionalDevice", subscription.additional_device, additional_devices
        )
        subscription.additional_device = additional_devices
    if inactive is not None and inactive != subscription.is_inactive:
        changes["IsInactive"] = change_pair("IsInactive", subscription.is_inactive, inactive)
        subscription.is_inactive = inactive
    return changes


def _check_additional_devices(value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_ADDITIONAL_DEVICES:
        raise ValidationFailed(
            [
                FieldError(
                    "AdditionalDevice",
                    "out_of_range",
                    f"--additional-devices must be between 0 and {MAX_ADDITIONAL_DEVICES}.",
                )
            ]
        )
