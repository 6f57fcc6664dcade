"""The operator's catalogue commands (operator-cli.md): new plan types and plans.

The catalogues are shared by every partner and belong to no one, so these changes write no
Event (an Event is always some partner's history, and no event type names them).
Messages name the command's options, since an operator reads them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from cleverfox.server.catalog.repository import find_plan_type
from cleverfox.server.kit.errors import FieldError
from cleverfox.server.kit.references import fail_if
from cleverfox.server.models import Plan, PlanType

MAX_LIMIT = 2**31 - 1  # the columns are 32-bit integers on PostgreSQL


def create_plan_type(session: Session, name: str, *, has_api_access: bool = True) -> PlanType:
    """An active plan type; its partners may call the API only if ``has_api_access``."""
    fail_if(_name_errors(name))
    plan_type = PlanType(name=name, is_inactive=False, has_api_access=has_api_access)
    session.add(plan_type)
    session.flush()
    return plan_type


def create_plan(
    session: Session,
    name: str,
    *,
    plan_type_id: int,
    device_limit: int,
    storage_limit_gb: int,
    download_limit: bool = False,
) -> Plan:
    """An active plan of an existing plan type; Details lists its limits as the built-ins do."""
    errors = _name_errors(name)
    errors += _limit_errors("DeviceLimit", "--device-limit", device_limit)
    errors += _limit_errors("StorageLimit", "--storage-limit-gb", storage_limit_gb)
    if find_plan_type(session, plan_type_id) is None:
        errors.append(
            FieldError(
                "PlanTypeId", "invalid_reference", f"--plan-type-id: no plan type {plan_type_id}."
            )
        )
    fail_if(errors)
    plan = Plan(
        name=name,
        plan_type_id=plan_type_id,
        is_inactive=False,
        details=_details(device_limit, storage_limit_gb),
        device_limit=device_limit,
        storage_limit=storage_limit_gb,
        download_limit=download_limit,
    )
    session.add(plan)
    session.flush()
    return plan


def _details(device_limit: int, storage_limit_gb: int) -> str:
    return f"Up to {device_limit} device(s)\r\n{storage_limit_gb} GB of cloud storage"


def _name_errors(name: str) -> list[FieldError]:
    if name.strip() and len(name) <= 100 and "\x00" not in name:
        return []
    return [FieldError("Name", "invalid_value", "--name must be 1 to 100 characters.")]


def _limit_errors(attribute: str, option: str, value: int) -> list[FieldError]:
    if 1 <= value <= MAX_LIMIT:
        return []
    return [FieldError(attribute, "out_of_range", f"{option} must be between 1 and {MAX_LIMIT}.")]
