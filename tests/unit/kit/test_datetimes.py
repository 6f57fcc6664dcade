"""Date-times on the wire (README §4) as properties of ``kit.datetimes``.

What ``format_datetime`` writes parses back to the same millisecond; fractions are truncated,
never rounded; ``Z`` and ``±HH:MM`` are converted to UTC; impossible dates and times are
refused with ``ValueError`` (which the wire layer turns into a 400), never anything else.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.kit.datetimes import (
    format_datetime,
    format_utc_z,
    parse_datetime,
    parse_utc,
    utcnow,
)

MILLISECOND_TIMES = st.datetimes().map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
# What parse_utc's ValueErrors say: its own words, or datetime's for an impossible field.
REFUSED = r"date-time|offset|out of range|must be in"
# Offsets the input form can spell: ±HH:MM up to ±23:59.
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda m: timedelta(minutes=m))


def spelled_offset(offset: timedelta, colon: bool = True) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{rest:02d}"


def truncated(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@given(st.datetimes())
def test_what_format_writes_parses_back_to_the_millisecond(value: datetime) -> None:
    text = format_datetime(value)
    assert text is not None
    assert parse_datetime(text) == (truncated(value), None)
    assert parse_utc(text) == truncated(value)


@given(st.datetimes())
def test_the_written_form_is_fixed_width(value: datetime) -> None:
    text = format_datetime(value)
    assert text is not None and len(text) == len("2024-01-02T03:04:05.678")
    assert text[4] == "-" and text[10] == "T" and text[19] == "."


@given(st.datetimes())
def test_the_utc_form_adds_z_and_reads_back(value: datetime) -> None:
    text = format_utc_z(value)
    assert text is not None and text.endswith("Z")
    assert parse_utc(text) == truncated(value)


def test_none_is_written_as_none() -> None:
    assert format_datetime(None) is None and format_utc_z(None) is None


def test_years_before_1000_keep_four_digits() -> None:
    assert format_datetime(datetime(999, 1, 2, 3, 4, 5, 6000)) == "0999-01-02T03:04:05.006"
    assert format_datetime(datetime(1, 1, 1)) == "0001-01-01T00:00:00.000"


@given(MILLISECOND_TIMES, st.text("0123456789", min_size=1, max_size=9))
def test_fractions_are_truncated_to_milliseconds_not_rounded(value: datetime, digits: str) -> None:
    seconds = (format_datetime(value) or "")[:19]
    parsed, _ = parse_datetime(f"{seconds}.{digits}")
    assert parsed.microsecond == int(digits[:3].ljust(3, "0")) * 1000


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2024-01-01T00:00:00.9999", 999),
        ("2024-01-01T00:00:00.5", 500),
        ("2024-01-01T00:00:00,12", 120),
    ],
)
def test_fraction_examples(text: str, millis: int) -> None:
    assert parse_datetime(text)[0].microsecond == millis * 1000


@given(st.datetimes())
def test_seconds_and_fraction_are_optional(value: datetime) -> None:
    minutes = value.replace(second=0, microsecond=0)
    date, time = (format_datetime(minutes) or "")[:16].split("T")
    assert parse_utc(f"{date}T{time}") == minutes
    assert parse_utc(f"{date} {time}") == minutes


@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    OFFSETS,
    st.booleans(),
)
def test_zoned_input_is_converted_to_utc(value: datetime, offset: timedelta, colon: bool) -> None:
    value = truncated(value)
    text = format_datetime(value)
    assert text is not None
    parsed, zone = parse_datetime(text + spelled_offset(offset, colon))
    assert parsed == value and zone == timezone(offset)
    expected = value.replace(tzinfo=timezone(offset)).astimezone(UTC).replace(tzinfo=None)
    assert parse_utc(text + spelled_offset(offset, colon)) == expected


@given(st.datetimes(), st.sampled_from(["Z", "z", "+00:00", "-0000"]))
def test_utc_spellings_change_nothing(value: datetime, suffix: str) -> None:
    text = format_datetime(value)
    assert text is not None
    assert parse_utc(text + suffix) == truncated(value)


@pytest.mark.parametrize(
    "text",
    [
        "2023-02-29T00:00:00",  # not a leap year
        "2024-02-30T00:00",
        "2024-04-31T00:00",
        "2024-13-01T00:00",
        "2024-00-10T00:00",
        "0000-01-01T00:00",
        "2024-01-01T24:00:00",  # hour 24
        "2024-01-01T23:60:00",
        "2024-01-01T23:59:60",  # no leap seconds
        "2024-01-01T10:00+24:00",
        "2024-01-01T10:00+05:60",
        "2024-01-01",
        "2024-1-1T10:00",
        "24-01-01T10:00",
        "2024-01-01T10",
        "2024-01-01T10:00:00.",
        "2024-01-01T10:00 +01:00",
        "2024-01-01T10:00:00 UTC",
        "",
        "now",
    ],
)
def test_impossible_or_malformed_date_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=REFUSED):
        parse_utc(text)


@given(
    st.integers(1, 9999),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 30),
    st.integers(0, 70),
    st.integers(0, 70),
)
def test_any_numbers_either_name_a_real_moment_or_are_refused(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    try:
        expected = datetime(year, month, day, hour, minute, second)
    except ValueError:
        with pytest.raises(ValueError, match=REFUSED):
            parse_utc(text)
    else:
        assert parse_utc(text) == expected


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_value_error_only(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_utc(text)


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00+01:00", "0001-01-01T00:30:00+00:31", "9999-12-31T23:59-01:00"],
)
def test_conversions_beyond_the_calendar_are_refused_not_crashed(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_utc(text)


@given(st.datetimes(), OFFSETS)
def test_every_zoned_value_converts_or_is_refused(value: datetime, offset: timedelta) -> None:
    text = (format_datetime(value) or "")[:19] + spelled_offset(offset)
    try:
        converted = parse_utc(text)
    except ValueError:
        low, high = datetime.min + abs(offset), datetime.max - abs(offset)
        assert not low <= value.replace(microsecond=0) <= high
    else:
        assert converted == value.replace(microsecond=0) - offset


def test_utcnow_is_naive_and_whole_milliseconds() -> None:
    now = utcnow()
    assert now.tzinfo is None and now.microsecond % 1000 == 0
    assert abs(datetime.now(UTC).replace(tzinfo=None) - now) < timedelta(seconds=5)
