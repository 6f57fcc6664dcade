"""Wire shape of an Event."""

from __future__ import annotations

from typing import Any

from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.events import EventKind
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.wire import Kind
from cleverfox.server.models import Event

EVENT_FILTERS = (
    Filter("EventTypeId"),
    Filter("CompanyId"),
    Filter("DeviceId"),
    Filter("JobId"),
    Filter("Since", Kind.DATETIME_UTC),
    Filter("Until", Kind.DATETIME_UTC),
)

# Wire name → model field of every id an Event may carry, in the published order.
EVENT_IDS = {
    "BackupTypeId": "backup_type_id",
    "CompanyId": "company_id",
    "CompanyUserId": "company_user_id",
    "DeviceId": "device_id",
    "JobId": "job_id",
    "JobItemId": "job_item_id",
    "LogId": "log_id",
    "LogItemId": "log_item_id",
    "PartnerId": "partner_id",
    "PartnerUserId": "partner_user_id",
    "PlanId": "plan_id",
    "PlanTypeId": "plan_type_id",
    "SubscriptionId": "subscription_id",
}


def event_type_name(event_type_id: int) -> str | None:
    """The EventType's name (the same as seeded in ``event_types``), ``None`` if unknown."""
    try:
        return EventKind(event_type_id).title
    except ValueError:
        return None


def event_out(event: Event) -> dict[str, Any]:
    """An Event: its type, the ids it concerns (of objects that may be gone), who, what."""
    data: dict[str, Any] = {
        "EventId": event.id,
        "EventTypeId": event.event_type_id,
        "EventType": event_type_name(event.event_type_id),
    }
    data.update({wire: getattr(event, field) for wire, field in EVENT_IDS.items()})
    data["PartnerPlanId"] = None
    data["AddedOn"] = format_datetime(event.added_on)
    data["Actor"] = event.actor
    data["Changes"] = event.changes
    return data
