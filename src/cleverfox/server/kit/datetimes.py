"""Date-times on the wire: ``YYYY-MM-DDTHH:MM:SS.fff`` with no zone, as published.

Inside the server every stored date-time is a naive UTC ``datetime`` (or a naive wall time in
a device's zone for "DateTime Local" attributes). Input accepts ``YYYY-MM-DDTHH:MM[:SS[.f…]]``
with an optional ``Z`` or ``±HH:MM``; fractions are truncated to milliseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

_INPUT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def utcnow() -> datetime:
    """Now as a naive UTC datetime truncated to milliseconds (what the database stores)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_datetime(value: datetime | None) -> str | None:
    """Write a naive datetime as ``YYYY-MM-DDTHH:MM:SS.fff`` (``None`` stays ``None``)."""
    if value is None:
        return None
    # Not strftime: glibc writes year 999 as "999", which no client (nor we) would read back.
    return value.replace(tzinfo=None).isoformat(timespec="milliseconds")


def format_utc_z(value: datetime | None) -> str | None:
    """Write a naive UTC datetime as ours: ``YYYY-MM-DDTHH:MM:SS.fffZ``."""
    text = format_datetime(value)
    return None if text is None else text + "Z"


def parse_datetime(text: str) -> tuple[datetime, tzinfo | None]:
    """Parse an input date-time into a naive datetime and its zone (``None`` when unzoned).

    Raises ``ValueError`` for anything that is not a valid date-time of the accepted form.
    """
    match = _INPUT.match(text.strip())
    if not match:
        raise ValueError("not a date-time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    millis = int((fraction or "0")[:3].ljust(3, "0"))
    value = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), millis * 1000
    )
    return value, _zone(zone)


def _zone(text: str | None) -> tzinfo | None:
    if text is None:
        return None
    if text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise ValueError("bad offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def parse_utc(text: str) -> datetime:
    """Parse an input date-time meant as UTC: unzoned values are UTC, zoned ones converted.

    Raises ``ValueError`` also when the conversion leaves the calendar (year 1 to 9999).
    """
    value, zone = parse_datetime(text)
    if zone is None:
        return value
    try:
        return value.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError("date-time out of range") from None
