"""Whether a device's agent is around: ConnectionStatus, and the Online/Offline Events.

A device is *online* while its last check-in is at most three check-in intervals old.
``reported_online`` remembers what the Events last said, so each change is recorded once:
a check-in after silence writes Device Online (34, in the check-in's transaction), and the
``mark_offline_devices`` duty writes Device Offline (35) for devices that went quiet.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cleverfox.server.devices.repository import LastCheck, devices_gone_quiet
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.models import Device
from cleverfox.settings import Settings

ONLINE = "Online"
OFFLINE = "Offline"
NEVER_CONNECTED = "Never Connected"
CONNECTION_STATUSES = (ONLINE, OFFLINE, NEVER_CONNECTED)
INTERVALS_BEFORE_OFFLINE = 3
OFFLINE_BATCH = 1000


def online_window(settings: Settings) -> timedelta:
    """How long after its last check-in a device still counts as online."""
    return timedelta(seconds=INTERVALS_BEFORE_OFFLINE * settings.checkin_interval)


def is_recent(last_check: datetime | None, now: datetime, window: timedelta) -> bool:
    return last_check is not None and last_check >= now - window


def connection_status(last_check: datetime | None, now: datetime, window: timedelta) -> str:
    """``Online``, ``Offline`` or ``Never Connected`` for a last check-in (naive UTC)."""
    if last_check is None:
        return NEVER_CONNECTED
    return ONLINE if is_recent(last_check, now, window) else OFFLINE


def last_check_of(status: str, online_since: datetime) -> LastCheck:
    """The last check-ins of the devices whose ConnectionStatus is ``status``, for a device
    online while it checked in at or after ``online_since``."""
    if status == NEVER_CONNECTED:
        return LastCheck(never=True)
    if status == ONLINE:
        return LastCheck(since=online_since)
    return LastCheck(before=online_since)


def record_offline(session: Session, device: Device) -> None:
    """Device Offline (35, by the Server): the device stopped checking in."""
    device.reported_online = False
    record_event(
        session,
        EventKind.DEVICE_OFFLINE,
        actor=Actor.SERVER,
        partner_id=device.partner_id,
        company_id=device.company_id,
        device_id=device.id,
        subscription_id=device.subscription_id,
    )


def mark_offline_devices(
    session: Session, settings: Settings, *, now: datetime | None = None, limit: int = OFFLINE_BATCH
) -> int:
    """The duty: Device Offline for every device reported online whose check-ins stopped.

    Marks at most ``limit`` devices and returns how many it marked (call again while it
    returns ``limit``). Rows are locked, so several server processes running the duty on one
    database, or a check-in arriving meanwhile, never record the same change twice.
    Runs in the caller's transaction; never commits.
    """
    devices = devices_gone_quiet(session, (now or utcnow()) - online_window(settings), limit)
    for device in devices:
        record_offline(session, device)
    session.flush()
    return len(devices)
