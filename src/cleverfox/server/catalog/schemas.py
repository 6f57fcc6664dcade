"""Wire shapes of the catalogues."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import BackupType, EventType, Plan, PlanType

_RO = Rule.READ_ONLY

PLAN_TYPE = WireSchema(
    "PlanType",
    [
        Attr("PlanTypeId", Kind.INTEGER, _RO, field="id"),
        Attr("Name", rule=_RO),
        Attr("IsInactive", Kind.BOOLEAN, _RO),
        Attr("HasApiAccess", Kind.BOOLEAN, _RO),
    ],
)
PLAN = WireSchema(
    "Plan",
    [
        Attr("PlanId", Kind.INTEGER, _RO, field="id"),
        Attr("PlanTypeId", Kind.INTEGER, _RO),
        Attr("PlanType", Kind.OBJECT, _RO),
        Attr("Name", rule=_RO),
        Attr("Details", rule=_RO),
        Attr("IsInactive", Kind.BOOLEAN, _RO),
        Attr("DeviceLimit", Kind.INTEGER, _RO),
        Attr("StorageLimit", Kind.INTEGER, _RO),
        Attr("DownloadLimit", Kind.BOOLEAN, _RO),
    ],
)
BACKUP_TYPE = WireSchema(
    "BackupType",
    [
        Attr("BackupTypeId", Kind.INTEGER, _RO, field="id"),
        Attr("EngineId", rule=_RO),
        Attr("Name", rule=_RO),
        Attr("EngineType", rule=_RO),
        Attr("Port", Kind.INTEGER, _RO),
        Attr("IsInactive", Kind.BOOLEAN, _RO),
    ],
)
EVENT_TYPE = WireSchema(
    "EventType",
    [Attr("EventTypeId", Kind.INTEGER, _RO, field="id"), Attr("Name", rule=_RO)],
)

PLAN_TYPE_PRESENTER = Presenter(PLAN_TYPE, token=False)
PLAN_PRESENTER = Presenter(
    PLAN, embedded={"PlanType": Embed(PLAN_TYPE_PRESENTER, "plan_type_")}, token=False
)
BACKUP_TYPE_PRESENTER = Presenter(BACKUP_TYPE, token=False)

plan_type_out: Callable[[PlanType], dict[str, Any]] = PLAN_TYPE_PRESENTER.objects()
plan_out: Callable[[Plan], dict[str, Any]] = PLAN_PRESENTER.objects()
"""A Plan with its PlanType."""
plan_row_out: Callable[[Mapping[str, Any]], dict[str, Any]] = PLAN_PRESENTER.rows(flat=True)
"""A Plan from a row of the ``plans`` table, embedded (its PlanType null)."""
backup_type_out: Callable[[BackupType], dict[str, Any]] = BACKUP_TYPE_PRESENTER.objects()
event_type_out: Callable[[EventType], dict[str, Any]] = Presenter(EVENT_TYPE, token=False).objects()


PLAN_TYPE_FILTERS = (Filter("IsInactive", Kind.BOOLEAN),)
PLAN_FILTERS = (Filter("PlanTypeId"), Filter("IsInactive", Kind.BOOLEAN))
BACKUP_TYPE_FILTERS = (Filter("IsInactive", Kind.BOOLEAN),)
EVENT_TYPE_FILTERS: tuple[Filter, ...] = ()
