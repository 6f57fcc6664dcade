"""Wire shapes of the catalogues."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.wire import Kind
from cleverfox.server.models import BackupType, EventType, Plan, PlanType


def plan_type_out(plan_type: PlanType | None) -> dict[str, Any] | None:
    if plan_type is None:
        return None
    return {
        "PlanTypeId": plan_type.id,
        "Name": plan_type.name,
        "IsInactive": plan_type.is_inactive,
        "HasApiAccess": plan_type.has_api_access,
    }


def plan_out(plan: Plan | None, *, embed: bool = True) -> dict[str, Any] | None:
    if plan is None:
        return None
    return {
        "PlanId": plan.id,
        "PlanTypeId": plan.plan_type_id,
        "PlanType": plan_type_out(plan.plan_type) if embed else None,
        "Name": plan.name,
        "Details": plan.details,
        "IsInactive": plan.is_inactive,
        "DeviceLimit": plan.device_limit,
        "StorageLimit": plan.storage_limit,
        "DownloadLimit": plan.download_limit,
    }


def plan_row_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Plan from a row of the ``plans`` table: the same JSON as ``plan_out(plan,
    embed=False)`` (PlanType null)."""
    return {
        "PlanId": row["id"],
        "PlanTypeId": row["plan_type_id"],
        "PlanType": None,
        "Name": row["name"],
        "Details": row["details"],
        "IsInactive": row["is_inactive"],
        "DeviceLimit": row["device_limit"],
        "StorageLimit": row["storage_limit"],
        "DownloadLimit": row["download_limit"],
    }


def backup_type_out(backup_type: BackupType | None) -> dict[str, Any] | None:
    if backup_type is None:
        return None
    return {
        "BackupTypeId": backup_type.id,
        "EngineId": backup_type.engine_id,
        "Name": backup_type.name,
        "EngineType": backup_type.engine_type,
        "Port": backup_type.port,
        "IsInactive": backup_type.is_inactive,
    }


def event_type_out(event_type: EventType) -> dict[str, Any]:
    return {"EventTypeId": event_type.id, "Name": event_type.name}


PLAN_TYPE_FILTERS = (Filter("IsInactive", Kind.BOOLEAN),)
PLAN_FILTERS = (Filter("PlanTypeId"), Filter("IsInactive", Kind.BOOLEAN))
BACKUP_TYPE_FILTERS = (Filter("IsInactive", Kind.BOOLEAN),)
EVENT_TYPE_FILTERS: tuple[Filter, ...] = ()
