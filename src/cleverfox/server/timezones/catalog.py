"""The catalogue behind ``/api/timezones``: Windows time zones and the IANA zones they map to.

Time zone ids are Windows ids (``Eastern Standard Time``), mapped to IANA zones by the CLDR
table that ``tzlocal`` ships; their IANA ids are CLDR's stable ones (``Asia/Calcutta``, which
the tz database now calls ``Asia/Kolkata`` and still accepts). Display names are the Windows
ones where an installed package provides them (``win2utc``'s copy of the Windows list), else
``(UTC-05:00) America/New_York`` built from the zone's standard offset. An IANA name is
accepted wherever a time zone id is: it resolves to its Windows zone, keeping the IANA zone
for the arithmetic, or, for the few zones Windows lacks, stands as its own id.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tzlocal.windows_tz import tz_win, win_tz

__all__ = [
    "MAX_TIME_ZONE_ID_LENGTH",
    "TimeZone",
    "all_time_zones",
    "current_utc_offset_minutes",
    "resolve",
]

MAX_TIME_ZONE_ID_LENGTH = 50
_DISPLAY_NAMES_PACKAGE = "win2utc"
# Present in the tz database, but no place's time: never offered as a device's zone.
_NOT_PLACES = frozenset({"Factory", "localtime", "posixrules"})


@dataclass(frozen=True)
class TimeZone:
    """One time zone as ``/api/timezones`` shows it."""

    time_zone_id: str  # the Windows id (``Eastern Standard Time``), or an IANA name Windows lacks
    name: str  # the display name, ``(UTC-05:00) Eastern Time (US & Canada)``
    iana_id: str  # the IANA zone whose rules apply (``America/New_York``)

    def zone_info(self) -> ZoneInfo:
        """The IANA zone's rules."""
        return _zone_info(self.iana_id)


def all_time_zones(now_utc: datetime | None = None) -> list[TimeZone]:
    """Every Windows time zone whose IANA zone is installed, sorted by UTC offset at *now_utc*
    (naive UTC; default: the current time), then by id."""
    now = _now(now_utc)
    zones = [
        _windows_zone(windows_id, now.year) for windows_id in win_tz if _loads(win_tz[windows_id])
    ]
    return sorted(
        zones, key=lambda zone: (current_utc_offset_minutes(zone, now), zone.time_zone_id)
    )


def resolve(text: str, now_utc: datetime | None = None) -> TimeZone | None:
    """The time zone *text* names: a Windows id or an IANA name, case-insensitively; else None.

    An IANA name with a Windows zone gives that zone's id and display name with *text*'s
    IANA zone (so ``America/Detroit`` keeps Detroit's rules); one without gives a time zone
    whose id is the IANA name itself. *now_utc* only picks the year whose standard offset a
    computed display name shows.
    """
    year = _now(now_utc).year
    windows_id = _windows_ids_by_folded_name().get(text.casefold())
    if windows_id is not None:
        return _windows_zone(windows_id, year)
    iana_id = _iana_ids_by_folded_name().get(text.casefold())
    if iana_id is None:
        return None
    windows_id = tz_win.get(iana_id)
    if windows_id in win_tz:
        return replace(_windows_zone(windows_id, year), iana_id=iana_id)
    return TimeZone(time_zone_id=iana_id, name=_computed_name(iana_id, year), iana_id=iana_id)


def current_utc_offset_minutes(time_zone: TimeZone, now_utc: datetime) -> int:
    """The zone's UTC offset at the naive UTC instant *now_utc*, in whole minutes."""
    return _offset_minutes(time_zone.zone_info(), now_utc)


def _windows_zone(windows_id: str, year: int) -> TimeZone:
    iana_id = win_tz[windows_id]
    name = _windows_display_names().get(windows_id) or _computed_name(iana_id, year)
    return TimeZone(time_zone_id=windows_id, name=name, iana_id=iana_id)


def _computed_name(iana_id: str, year: int) -> str:
    """``(UTC±HH:MM) Area/City`` with the zone's standard offset in *year*.

    The standard offset is the lesser of the offsets on 1 January and 1 July: right for the
    zones that move their clocks forward in summer, and for Europe/Dublin, whose tz data
    calls its winter time the daylight-saving one.
    """
    zone = _zone_info(iana_id)
    minutes = min(_offset_minutes(zone, datetime(year, month, 1)) for month in (1, 7))
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"(UTC{sign}{hours:02d}:{rest:02d}) {iana_id}"


def _offset_minutes(zone: ZoneInfo, now_utc: datetime) -> int:
    offset = now_utc.replace(tzinfo=UTC).astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _now(now_utc: datetime | None) -> datetime:
    return datetime.now(UTC).replace(tzinfo=None) if now_utc is None else now_utc


@functools.cache
def _windows_display_names() -> dict[str, str]:
    """Windows display names by Windows id, where the package that has them is installed."""
    try:
        resource = importlib.resources.files(_DISPLAY_NAMES_PACKAGE) / "data" / "timezones.json"
        rows = json.loads(resource.read_text(encoding="utf-8"))
    except (ImportError, OSError, ValueError):
        return {}
    if not isinstance(rows, list):
        return {}
    return {
        row["Id"]: row["DisplayName"]
        for row in rows
        if isinstance(row, dict)
        and isinstance(row.get("Id"), str)
        and isinstance(row.get("DisplayName"), str)
    }


@functools.cache
def _windows_ids_by_folded_name() -> dict[str, str]:
    return {
        windows_id.casefold(): windows_id for windows_id in win_tz if _loads(win_tz[windows_id])
    }


@functools.cache
def _iana_ids_by_folded_name() -> dict[str, str]:
    names = (available_timezones() | set(tz_win)) - _NOT_PLACES
    return {
        name.casefold(): name
        for name in names
        if name and len(name) <= MAX_TIME_ZONE_ID_LENGTH and _loads(name)
    }


def _loads(iana_id: str) -> bool:
    try:
        _zone_info(iana_id)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@functools.cache
def _zone_info(iana_id: str) -> ZoneInfo:
    """The zone's rules, held for good: ``ZoneInfo``'s own cache keeps only a few alive."""
    return ZoneInfo(iana_id)
