"""Wire shape of a Time Zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cleverfox.server.timezones.catalog import TimeZone, current_utc_offset_minutes

UNPAGED_PARAMETERS = ("BeforeId", "UpdatedSince")
"""Collection parameters that do not apply to time zones (no integer ids, no changes)."""


def time_zone_out(zone: TimeZone, now_utc: datetime) -> dict[str, Any]:
    """A Time Zone: the Windows id and display name, its IANA zone and today's UTC offset."""
    return {
        "TimeZoneId": zone.time_zone_id,
        "Name": zone.name,
        "IanaId": zone.iana_id,
        "CurrentUtcOffset": current_utc_offset_minutes(zone, now_utc),
    }
