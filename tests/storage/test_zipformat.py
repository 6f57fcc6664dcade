"""ZIP records: DOS time clamps to its range, the extended timestamp to u32."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cleverfox.storage.manifest import MAX_MODIFIED_MS
from cleverfox.storage.zipformat import dos_date_time, end_records, end_records_size, unix_seconds


def ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp() * 1000)


def decoded(dos: tuple[int, int]) -> tuple[int, ...]:
    time, date = dos
    return (
        (date >> 9) + 1980,
        (date >> 5) & 15,
        date & 31,
        time >> 11,
        (time >> 5) & 63,
        (time & 31) * 2,
    )


@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        (0, "UTC", (1980, 1, 1, 0, 0, 0)),
        (ms(1980, 1, 1, 0, 30), "America/New_York", (1980, 1, 1, 0, 0, 0)),
        (ms(2000, 6, 15, 13, 14, 15), "UTC", (2000, 6, 15, 13, 14, 14)),
        (ms(2107, 12, 31, 23, 59, 59), "UTC", (2107, 12, 31, 23, 59, 58)),
        (ms(2200, 1, 1), "Pacific/Kiritimati", (2107, 12, 31, 23, 59, 58)),
        (MAX_MODIFIED_MS, "Pacific/Kiritimati", (2107, 12, 31, 23, 59, 58)),
        (ms(2024, 3, 31, 1, 30), "Europe/Berlin", (2024, 3, 31, 3, 30, 0)),
    ],
)
def test_dos_time_is_local_and_clamped_to_1980_through_2107(
    when: int, zone: str, expected: tuple[int, ...]
) -> None:
    assert decoded(dos_date_time(when, ZoneInfo(zone))) == expected


def test_the_extended_timestamp_is_whole_seconds_clamped_to_u32() -> None:
    assert unix_seconds(1_999) == 1
    assert unix_seconds(ms(2050, 1, 1)) == 2_524_608_000
    assert unix_seconds(MAX_MODIFIED_MS) == 2**32 - 1


@pytest.mark.parametrize(
    ("count", "offset", "size", "zip64"),
    [(65_534, 0, 0, False), (65_535, 0, 0, True), (1, 2**32 - 1, 0, True), (1, 0, 2**32 - 1, True)],
)
def test_the_zip64_end_records_appear_exactly_when_needed(
    count: int, offset: int, size: int, zip64: bool
) -> None:
    records = end_records(count, offset, size)
    assert len(records) == end_records_size(count, offset, size) == (22 + 76 if zip64 else 22)
    assert records.startswith(b"PK\x06\x06") == zip64
