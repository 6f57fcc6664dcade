"""Wire shape of an Event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cleverfox.server.kit.events import EventKind
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import NULL, Derived, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
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


EVENT = WireSchema(
    "Event",
    [
        Attr("EventId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
        Attr("EventTypeId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("EventType", rule=Rule.READ_ONLY),
        *(Attr(wire, Kind.INTEGER, Rule.READ_ONLY, field=f) for wire, f in EVENT_IDS.items()),
        Attr("PartnerPlanId", Kind.INTEGER, Rule.READ_ONLY, doc="Always null."),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("Actor", rule=Rule.READ_ONLY, doc="`Api`, `Agent`, `Server` or `Operator`."),
        Attr("Changes", Kind.OBJECT, Rule.READ_ONLY, doc="`{Attribute: [old, new]}`."),
    ],
)


def event_type_name(event_type_id: int) -> str | None:
    """The EventType's name (the same as seeded in ``event_types``), ``None`` if unknown."""
    try:
        return EventKind(event_type_id).title
    except ValueError:
        return None


EVENT_PRESENTER = Presenter(
    EVENT,
    derived={"EventType": Derived(event_type_name, ("event_type_id",)), "PartnerPlanId": NULL},
    token=False,
)
event_out: Callable[[Event], dict[str, Any]] = EVENT_PRESENTER.objects()
"""An Event: its type, the ids it concerns (of objects that may be gone), who, what."""
