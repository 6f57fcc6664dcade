"""Recording Events: every change writes one, in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.models import Event

SECRET_ATTRIBUTES = frozenset({"Password", "Username", "ApiKey"})
MASK = "***"


class Actor(StrEnum):
    API = "Api"
    AGENT = "Agent"
    SERVER = "Server"
    OPERATOR = "Operator"


class EventKind(IntEnum):
    """Event type ids; published (32) or ours, never renumbered."""

    PARTNER_MODIFIED = 1
    PARTNER_API_KEY_CHANGED = 2
    PARTNER_USER_ADDED = 3
    PARTNER_USER_MODIFIED = 4
    PARTNER_USER_DELETED = 5
    COMPANY_ADDED = 10
    COMPANY_MODIFIED = 11
    COMPANY_DELETED = 12
    COMPANY_USER_ADDED = 13
    COMPANY_USER_MODIFIED = 14
    COMPANY_USER_DELETED = 15
    SUBSCRIPTION_ADDED = 20
    SUBSCRIPTION_MODIFIED = 21
    SUBSCRIPTION_DELETED = 22
    DEVICE_ADDED = 30
    DEVICE_DELETED = 31
    DEVICE_MODIFIED = 32
    DEVICE_API_KEY_CHANGED = 33
    DEVICE_ONLINE = 34
    DEVICE_OFFLINE = 35
    AGENT_DOWNLOADED = 36
    JOB_ADDED = 40
    JOB_MODIFIED = 41
    JOB_DELETED = 42
    JOB_ITEM_ADDED = 43
    JOB_ITEM_MODIFIED = 44
    JOB_ITEM_DELETED = 45
    JOB_STARTED = 50
    JOB_COMPLETED = 51
    JOB_FAILED = 52
    JOB_MISSED = 53
    JOB_RUN_REQUESTED = 54
    BACKUP_FILE_DOWNLOADED = 60
    BACKUP_LIST_DOWNLOADED = 61
    BACKUP_FILE_DELETED = 62
    NOTIFICATION_SENT = 70
    NOTIFICATION_FAILED = 71
    STORAGE_LIMIT_REACHED = 80

    @property
    def title(self) -> str:
        """The EventType name as listed: ``Partner API Key Changed``."""
        words = self.name.split("_")
        return " ".join(w if w in ("API",) else w.capitalize() for w in words)


def record_event(
    session: Session,
    kind: EventKind,
    *,
    actor: Actor,
    partner_id: int | None,
    changes: dict[str, list[Any]] | None = None,
    **ids: int | None,
) -> Event:
    """Add the Event of a change to ``session`` (flushed with the change it records)."""
    event = Event(
        event_type_id=int(kind), actor=str(actor), partner_id=partner_id, changes=changes, **ids
    )
    session.add(event)
    return event


def wire_value(value: Any) -> Any:
    """A value as it appears in an Event's Changes (date-times in wire format)."""
    if isinstance(value, datetime):
        return format_datetime(value)
    return value


def change_pair(attribute: str, old: Any, new: Any) -> list[Any]:
    if attribute in SECRET_ATTRIBUTES:
        return [MASK, MASK]
    return [wire_value(old), wire_value(new)]
