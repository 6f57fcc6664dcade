"""The schedule rules of resources.md, Jobs: unit cases, then properties across many zones."""

from __future__ import annotations

import calendar
import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cleverfox.server.jobs import schedule as schedule_module
from cleverfox.server.jobs.schedule import (
    Frequency,
    Schedule,
    is_expired,
    next_due,
    parse_frequency,
    roll_forward,
    to_local,
    to_utc,
    window_closes_utc,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
APIA = ZoneInfo("Pacific/Apia")
LONG_AGO = datetime(2000, 1, 1)

HOURLY = Schedule(Frequency.HOURLY, 1)
DAILY = Schedule(Frequency.DAILY, 1)
ONE_TIME = Schedule(Frequency.ONE_TIME, 1)

# Example counts come from the hypothesis profile tests/conftest.py loads; every case is
# cheap, but some draws take a while to build.
PROPERTIES = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def weekly(every: int, weekdays: set[int], anchor: str) -> Schedule:
    return Schedule(
        Frequency.WEEKLY, every, frozenset(weekdays), week_anchor=date.fromisoformat(anchor)
    )


def monthly(every: int, day_of_month: int) -> Schedule:
    return Schedule(Frequency.MONTHLY, every, day_of_month=day_of_month)


# --- Frequency ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hourly", Frequency.HOURLY),
        ("daily", Frequency.DAILY),
        ("WEEKLY", Frequency.WEEKLY),
        ("Monthy", Frequency.MONTHLY),
        ("Monthly", Frequency.MONTHLY),
        ("mOnThLy", Frequency.MONTHLY),
        ("One Time", Frequency.ONE_TIME),
        ("one time", Frequency.ONE_TIME),
        ("OneTime", None),
        ("Yearly", None),
        ("", None),
    ],
)
def test_parse_frequency(text: str, expected: Frequency | None) -> None:
    assert parse_frequency(text) is expected


def test_frequency_writes_the_published_spellings() -> None:
    assert [str(frequency) for frequency in Frequency] == [
        "Hourly",
        "Daily",
        "Weekly",
        "Monthy",
        "One Time",
    ]


# --- Schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arguments",
    [
        {"frequency": Frequency.DAILY, "every": 0},
        {"frequency": Frequency.DAILY, "every": 1000},
        {"frequency": Frequency.DAILY, "every": 1, "weekdays": frozenset({0})},
        {"frequency": Frequency.DAILY, "every": 1, "weekdays": frozenset({8})},
        {"frequency": Frequency.DAILY, "every": 1, "day_of_month": 0},
        {"frequency": Frequency.DAILY, "every": 1, "day_of_month": 32},
        {"frequency": Frequency.WEEKLY, "every": 1, "week_anchor": date(2024, 1, 1)},
        {"frequency": Frequency.WEEKLY, "every": 1, "weekdays": frozenset({1})},
        {"frequency": Frequency.MONTHLY, "every": 1},
    ],
)
def test_schedule_refuses_broken_attributes(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        Schedule(**arguments)


def test_schedule_ignores_attributes_of_other_frequencies() -> None:
    schedule = Schedule(Frequency.DAILY, 999, frozenset({1, 7}), 31, date(2024, 1, 1), LONG_AGO)
    assert next_due(schedule, at("2024-01-01T09:00"), NEW_YORK, LONG_AGO) == at("2026-09-26T09:00")


# --- to_utc / to_local -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "wall", "utc"),
    [
        # Plain times.
        (NEW_YORK, "2024-01-15T09:00", "2024-01-15T14:00"),
        (NEW_YORK, "2024-07-15T09:00", "2024-07-15T13:00"),
        # Gaps: the first instant after the gap.
        (NEW_YORK, "2024-03-10T02:00", "2024-03-10T07:00"),
        (NEW_YORK, "2024-03-10T02:30", "2024-03-10T07:00"),
        (NEW_YORK, "2024-03-10T02:59:59.999", "2024-03-10T07:00"),
        (NEW_YORK, "2024-03-10T03:00", "2024-03-10T07:00"),
        (LONDON, "2024-03-31T01:30", "2024-03-31T01:00"),
        (LORD_HOWE, "2024-10-06T02:15", "2024-10-05T15:30"),  # a 30-minute gap
        (APIA, "2011-12-30T12:00", "2011-12-30T10:00"),  # the day Samoa skipped
        # Folds: the first occurrence.
        (NEW_YORK, "2024-11-03T01:00", "2024-11-03T05:00"),
        (NEW_YORK, "2024-11-03T01:30", "2024-11-03T05:30"),
        (NEW_YORK, "2024-11-03T02:00", "2024-11-03T07:00"),
        (LONDON, "2024-10-27T01:30", "2024-10-27T00:30"),
        (LORD_HOWE, "2024-04-07T01:45", "2024-04-06T14:45"),  # a 30-minute fold
        (APIA, "2021-04-04T03:30", "2021-04-03T13:30"),  # Samoa's last fall back
    ],
)
def test_to_utc(zone: ZoneInfo, wall: str, utc: str) -> None:
    assert to_utc(at(wall), zone) == at(utc)


@pytest.mark.parametrize(
    ("zone", "utc", "wall"),
    [
        (NEW_YORK, "2024-11-03T05:30", "2024-11-03T01:30"),
        (NEW_YORK, "2024-11-03T06:30", "2024-11-03T01:30"),
        (APIA, "2011-12-30T09:59", "2011-12-29T23:59"),
        (APIA, "2011-12-30T10:00", "2011-12-31T00:00"),
    ],
)
def test_to_local(zone: ZoneInfo, utc: str, wall: str) -> None:
    local = to_local(at(utc), zone)
    assert local == at(wall)
    assert local.tzinfo is None
    assert local.fold == 0


def test_to_utc_reads_a_wall_time_as_its_first_occurrence_whatever_its_fold() -> None:
    second_pass = at("2024-11-03T01:30").replace(fold=1)
    assert to_utc(second_pass, NEW_YORK) == at("2024-11-03T05:30")


def test_aware_datetimes_are_refused() -> None:
    aware = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        to_utc(aware, NEW_YORK)
    with pytest.raises(ValueError, match="naive"):
        to_local(aware, NEW_YORK)
    with pytest.raises(ValueError, match="naive"):
        next_due(DAILY, at("2024-01-01T09:00"), NEW_YORK, aware)


# --- next_due: Hourly --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "zone", "last", "now", "expected"),
    [
        (1, NEW_YORK, "2024-01-15T09:30", "2024-01-15T14:30", "2024-01-15T10:30"),
        (1, NEW_YORK, "2024-01-15T23:30", "2024-01-16T04:30", "2024-01-16T00:30"),
        (5, NEW_YORK, "2024-01-15T09:30", "2024-01-15T14:30", "2024-01-15T14:30"),
        # Elapsed time: across spring forward the wall clock moves on two hours ...
        (1, NEW_YORK, "2024-03-10T01:30", "2024-03-10T06:30", "2024-03-10T03:30"),
        (3, NEW_YORK, "2024-03-09T23:00", "2024-03-10T04:00", "2024-03-10T03:00"),
        # ... and a run in the gap keeps the nominal minute for the next one.
        (1, NEW_YORK, "2024-03-10T02:30", "2024-03-10T07:00", "2024-03-10T04:30"),
        # Across fall back the repeated hour's second pass has no wall time of its own.
        (1, NEW_YORK, "2024-11-03T00:30", "2024-11-03T04:30", "2024-11-03T01:30"),
        (1, NEW_YORK, "2024-11-03T01:30", "2024-11-03T05:30", "2024-11-03T02:30"),
        (2, NEW_YORK, "2024-11-03T00:30", "2024-11-03T04:30", "2024-11-03T03:30"),
        (2, NEW_YORK, "2024-11-02T23:30", "2024-11-03T03:30", "2024-11-03T01:30"),
        # A 30-minute fold shifts the wall minute for good.
        (1, LORD_HOWE, "2024-04-07T00:40", "2024-04-06T13:40", "2024-04-07T01:40"),
        (1, LORD_HOWE, "2024-04-07T01:40", "2024-04-06T14:40", "2024-04-07T02:10"),
        # Samoa skipped a day: an hour later is the next day but one.
        (1, APIA, "2011-12-29T23:30", "2011-12-30T09:30", "2011-12-31T00:30"),
    ],
)
def test_hourly(every: int, zone: ZoneInfo, last: str, now: str, expected: str) -> None:
    schedule = Schedule(Frequency.HOURLY, every)
    assert next_due(schedule, at(last), zone, at(now)) == at(expected)


def test_hourly_skips_what_is_already_past() -> None:
    # 09:30 EST was 14:30Z; now is 20:15Z, so 15:30 EST (20:30Z) is next.
    got = next_due(HOURLY, at("2024-01-15T09:30"), NEW_YORK, at("2024-01-15T20:15"))
    assert got == at("2024-01-15T15:30")


def test_hourly_is_due_strictly_after_now() -> None:
    got = next_due(HOURLY, at("2024-01-15T09:30"), NEW_YORK, at("2024-01-15T20:30"))
    assert got == at("2024-01-15T16:30")


# --- next_due: Daily ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "zone", "last", "now", "expected"),
    [
        (1, NEW_YORK, "2024-01-15T09:00", "2024-01-15T14:00", "2024-01-16T09:00"),
        (3, NEW_YORK, "2024-01-30T09:00", "2024-01-30T14:00", "2024-02-02T09:00"),
        (1, NEW_YORK, "2024-03-09T09:00", "2024-03-09T14:00", "2024-03-10T09:00"),
        (1, NEW_YORK, "2024-11-02T01:30", "2024-11-02T05:30", "2024-11-03T01:30"),
        (1, NEW_YORK, "2024-11-03T01:30", "2024-11-03T05:30", "2024-11-04T01:30"),
        # Nominal wall times: in the gap today, at 02:30 again tomorrow.
        (1, NEW_YORK, "2024-03-09T02:30", "2024-03-09T07:30", "2024-03-10T02:30"),
        (1, NEW_YORK, "2024-03-10T02:30", "2024-03-10T07:00", "2024-03-11T02:30"),
        (1, LORD_HOWE, "2024-10-05T02:15", "2024-10-04T15:45", "2024-10-06T02:15"),
        (1, APIA, "2011-12-29T12:00", "2011-12-28T22:00", "2011-12-30T12:00"),
        (1, APIA, "2011-12-30T12:00", "2011-12-30T10:00", "2011-12-31T12:00"),
        # Far behind: the first one after now, three years on.
        (1, NEW_YORK, "2021-06-01T09:00", "2024-06-01T13:30", "2024-06-02T09:00"),
        (7, LONDON, "2021-06-01T09:00", "2024-06-01T13:30", "2024-06-04T09:00"),
    ],
)
def test_daily(every: int, zone: ZoneInfo, last: str, now: str, expected: str) -> None:
    schedule = Schedule(Frequency.DAILY, every)
    assert next_due(schedule, at(last), zone, at(now)) == at(expected)


def test_daily_in_a_gap_runs_at_the_end_of_the_gap_that_day_only() -> None:
    first = next_due(DAILY, at("2024-03-09T02:30"), NEW_YORK, at("2024-03-09T07:30"))
    assert first is not None
    assert to_utc(first, NEW_YORK) == at("2024-03-10T07:00")  # 03:00 EDT
    second = next_due(DAILY, first, NEW_YORK, at("2024-03-10T07:00"))
    assert second is not None
    assert to_utc(second, NEW_YORK) == at("2024-03-11T06:30")  # 02:30 EDT


# --- next_due: Weekly --------------------------------------------------------------------

MON_WED_FRI = {1, 3, 5}


@pytest.mark.parametrize(
    ("schedule", "last", "expected"),
    [
        (weekly(1, MON_WED_FRI, "2024-01-01"), "2024-01-01T09:00", "2024-01-03T09:00"),
        (weekly(1, MON_WED_FRI, "2024-01-01"), "2024-01-05T09:00", "2024-01-08T09:00"),
        (weekly(2, MON_WED_FRI, "2024-01-01"), "2024-01-05T09:00", "2024-01-15T09:00"),
        (weekly(2, MON_WED_FRI, "2024-01-01"), "2024-01-15T09:00", "2024-01-17T09:00"),
        (weekly(2, MON_WED_FRI, "2024-01-01"), "2024-01-19T09:00", "2024-01-29T09:00"),
        # NextRunOn set by POST on a day the schedule would not choose.
        (weekly(2, MON_WED_FRI, "2024-01-02"), "2024-01-02T09:00", "2024-01-03T09:00"),
        (weekly(2, {1}, "2024-01-03"), "2024-01-03T09:00", "2024-01-15T09:00"),
        (weekly(3, {6}, "2024-01-07"), "2024-01-07T09:00", "2024-01-27T09:00"),
        # Sunday ends the ISO week: an anchor on Sunday counts from the Monday before it.
        (weekly(2, {7}, "2024-01-07"), "2024-01-07T09:00", "2024-01-21T09:00"),
        (weekly(2, {1, 7}, "2024-01-07"), "2024-01-07T09:00", "2024-01-15T09:00"),
        # Cycles count weeks from the anchor, across a year with an ISO week 53.
        (weekly(2, {1}, "2026-12-21"), "2026-12-21T09:00", "2027-01-04T09:00"),
        (weekly(2, {1}, "2026-12-21"), "2027-01-04T09:00", "2027-01-18T09:00"),
        # A run that came after the anchor's week keeps the anchor's cycle.
        (weekly(4, {2, 4}, "2024-01-01"), "2024-01-30T09:00", "2024-02-01T09:00"),
        (weekly(4, {2, 4}, "2024-01-01"), "2024-02-01T09:00", "2024-02-27T09:00"),
    ],
)
def test_weekly(schedule: Schedule, last: str, expected: str) -> None:
    assert next_due(schedule, at(last), NEW_YORK, LONG_AGO) == at(expected)


def test_weekly_far_behind_lands_in_the_anchors_cycle() -> None:
    schedule = weekly(3, {2, 6}, "2021-01-04")
    # 2024-06-01 (a Saturday) is in week 177 after the anchor's, a multiple of 3.
    got = next_due(schedule, at("2021-01-05T22:00"), LONDON, at("2024-06-01T20:59"))
    assert got == at("2024-06-01T22:00")  # 21:00Z
    # Once that has passed, weeks 178 and 179 are skipped.
    got = next_due(schedule, at("2021-01-05T22:00"), LONDON, at("2024-06-01T21:00"))
    assert got == at("2024-06-18T22:00")


def test_weekly_keeps_the_wall_time_across_dst() -> None:
    schedule = weekly(1, {7}, "2024-03-03")
    got = next_due(schedule, at("2024-03-03T02:30"), NEW_YORK, LONG_AGO)
    assert got == at("2024-03-10T02:30")
    assert to_utc(at("2024-03-10T02:30"), NEW_YORK) == at("2024-03-10T07:00")
    assert next_due(schedule, got, NEW_YORK, LONG_AGO) == at("2024-03-17T02:30")


# --- next_due: Monthly -------------------------------------------------------------------


def monthly_series(schedule: Schedule, first: str, count: int) -> list[datetime]:
    walls, wall = [], at(first)
    for _ in range(count):
        following = next_due(schedule, wall, NEW_YORK, LONG_AGO)
        assert following is not None
        walls.append(following)
        wall = following
    return walls


def test_monthly_on_the_31st_runs_on_short_months_last_day() -> None:
    assert monthly_series(monthly(1, 31), "2023-12-31T02:30", 5) == [
        at("2024-01-31T02:30"),
        at("2024-02-29T02:30"),  # leap year
        at("2024-03-31T02:30"),  # back on the 31st, and in a gap-free hour again
        at("2024-04-30T02:30"),
        at("2024-05-31T02:30"),
    ]
    assert monthly_series(monthly(1, 31), "2023-01-31T09:00", 1) == [at("2023-02-28T09:00")]


def test_monthly_on_the_29th_every_twelve_months() -> None:
    assert monthly_series(monthly(12, 29), "2024-02-29T09:00", 4) == [
        at("2025-02-28T09:00"),
        at("2026-02-28T09:00"),
        at("2027-02-28T09:00"),
        at("2028-02-29T09:00"),
    ]


def test_monthly_every_three_months_from_november() -> None:
    assert monthly_series(monthly(3, 30), "2023-11-30T09:00", 3) == [
        at("2024-02-29T09:00"),
        at("2024-05-30T09:00"),
        at("2024-08-30T09:00"),
    ]


def test_monthly_goes_every_months_on_even_from_an_earlier_day() -> None:
    # A NextRunOn set on the 5th with DayOfMonth 20: Every months on, not later that month.
    got = next_due(monthly(1, 20), at("2024-01-05T09:00"), NEW_YORK, LONG_AGO)
    assert got == at("2024-02-20T09:00")


def test_monthly_far_behind_stays_on_its_cycle() -> None:
    got = next_due(monthly(5, 15), at("2020-01-15T09:00"), NEW_YORK, at("2024-06-01T00:00"))
    assert got == at("2024-08-15T09:00")


def test_monthly_at_the_end_of_time_overflows() -> None:
    with pytest.raises(OverflowError):
        next_due(monthly(1, 15), at("9999-12-15T09:00"), ZoneInfo("UTC"), LONG_AGO)


# --- next_due: One Time, efficiency ------------------------------------------------------


def test_one_time_has_no_next_run() -> None:
    assert next_due(ONE_TIME, at("2024-01-15T09:00"), NEW_YORK, LONG_AGO) is None


@pytest.mark.parametrize(
    "schedule",
    [
        Schedule(Frequency.HOURLY, 1),
        Schedule(Frequency.DAILY, 1),
        weekly(1, {1, 2, 3, 4, 5, 6, 7}, "2021-01-01"),
        monthly(1, 31),
    ],
    ids=["hourly", "daily", "weekly", "monthly"],
)
def test_three_years_behind_takes_few_steps(
    schedule: Schedule, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    real_to_utc = schedule_module.to_utc

    def counting_to_utc(wall: datetime, tz: ZoneInfo) -> datetime:
        nonlocal calls
        calls += 1
        return real_to_utc(wall, tz)

    monkeypatch.setattr(schedule_module, "to_utc", counting_to_utc)
    now = at("2024-06-01T12:00")
    got = next_due(schedule, at("2021-01-01T09:00"), NEW_YORK, now)
    assert got is not None
    assert real_to_utc(got, NEW_YORK) > now
    assert calls <= 60


# --- roll_forward, window_closes_utc, is_expired -----------------------------------------


def test_window_closes_late_after_minutes_after_the_run() -> None:
    closes = window_closes_utc(at("2024-03-10T02:30"), 30, NEW_YORK)
    assert closes == at("2024-03-10T07:30")  # the run is at 03:00 EDT, the end of the gap


@pytest.mark.parametrize(
    ("schedule", "next_run", "late_after", "now", "expected"),
    [
        # The window is open: the run stays due, even on a day the schedule would not choose.
        (DAILY, "2024-06-01T09:00", 30, "2024-06-01T13:29", "2024-06-01T09:00"),
        (
            weekly(1, {1}, "2024-06-04"),
            "2024-06-04T09:00",
            0,
            "2024-06-01T00:00",
            "2024-06-04T09:00",
        ),
        # Closed (a window of 0 minutes closes at the run itself): the next after now.
        (DAILY, "2024-06-01T09:00", 30, "2024-06-01T13:30", "2024-06-02T09:00"),
        (DAILY, "2024-06-01T09:00", 0, "2024-06-01T13:00", "2024-06-02T09:00"),
        (DAILY, "2020-06-01T09:00", 1439, "2024-06-01T13:00", "2024-06-02T09:00"),
        (
            weekly(1, {1}, "2024-06-04"),
            "2024-06-04T09:00",
            0,
            "2024-06-04T14:00",
            "2024-06-10T09:00",
        ),
        (HOURLY, "2024-06-01T09:00", 0, "2024-06-01T15:10", "2024-06-01T12:00"),
        (monthly(1, 31), "2024-01-31T09:00", 60, "2024-03-01T00:00", "2024-03-31T09:00"),
        # In a gap the window opens at the end of the gap.
        (DAILY, "2024-03-10T02:30", 30, "2024-03-10T07:29", "2024-03-10T02:30"),
        (DAILY, "2024-03-10T02:30", 30, "2024-03-10T07:30", "2024-03-11T02:30"),
        # One Time is done once its window has closed.
        (ONE_TIME, "2024-06-01T09:00", 30, "2024-06-01T13:00", "2024-06-01T09:00"),
        (ONE_TIME, "2024-06-01T09:00", 30, "2025-06-01T13:00", "2024-06-01T09:00"),
    ],
)
def test_roll_forward(
    schedule: Schedule, next_run: str, late_after: int, now: str, expected: str
) -> None:
    assert roll_forward(schedule, at(next_run), late_after, NEW_YORK, at(now)) == at(expected)


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (
            Schedule(Frequency.ONE_TIME, 1, expire_on=at("2024-06-01T12:00")),
            "2024-06-01T16:00",
            False,
        ),
        (
            Schedule(Frequency.ONE_TIME, 1, expire_on=at("2024-06-01T12:00")),
            "2024-06-01T16:00:01",
            True,
        ),
        (Schedule(Frequency.ONE_TIME, 1), "2099-01-01T00:00", False),
        (Schedule(Frequency.DAILY, 1, expire_on=at("2024-06-01T12:00")), "2099-01-01T00:00", False),
    ],
)
def test_is_expired(schedule: Schedule, now: str, expected: bool) -> None:
    assert is_expired(schedule, NEW_YORK, at(now)) is expected


# --- Properties across zones and the transitions of 2024-2030 ----------------------------

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Havana",  # changes at midnight
    "America/Santiago",
    "America/Asuncion",
    "America/Nuuk",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",  # negative DST in the tz data
    "Europe/Berlin",
    "Europe/Chisinau",
    "Africa/Cairo",
    "Africa/Casablanca",  # clocks go back for Ramadan
    "Asia/Beirut",
    "Asia/Jerusalem",
    "Asia/Tehran",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Australia/Lord_Howe",  # 30-minute DST
    "Antarctica/Troll",  # 2-hour DST
    "Pacific/Auckland",
    "Pacific/Chatham",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "UTC",
]


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    offset = instant.replace(tzinfo=UTC).astimezone(zone).utcoffset()
    assert offset is not None
    return offset


@functools.cache
def transitions(name: str) -> tuple[datetime, ...]:
    """The instants (naive UTC, to the second) at which *name*'s offset changed in 2024-2030.

    Scans a week at a time (no zone changes its clocks twice in a week), then bisects.
    """
    zone, found = ZoneInfo(name), []
    week, end, span = datetime(2024, 1, 1), datetime(2031, 1, 1), 7 * 86_400
    while week < end:
        if _offset(zone, week) != _offset(zone, week + timedelta(seconds=span)):
            low, high = 0, span
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, week + timedelta(seconds=middle)) == _offset(zone, week):
                    low = middle
                else:
                    high = middle
            found.append(week + timedelta(seconds=high))
        week += timedelta(seconds=span)
    return tuple(found)


def test_the_property_zones_change_clocks_often() -> None:
    changes = sum(len(transitions(name)) for name in ZONES)
    assert changes > 250
    assert len(transitions("Australia/Lord_Howe")) == 14


@st.composite
def instants(draw: st.DrawFn, zone_name: str) -> datetime:
    """An instant near one of the zone's 2024-2030 transitions, or anywhere in those years."""
    near, aim = transitions(zone_name), draw(st.booleans())
    if near and aim:
        base = draw(st.sampled_from(near))
        return base + timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    return draw(st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)))


Case = tuple[Schedule, datetime, ZoneInfo, datetime]


@st.composite
def cases(draw: st.DrawFn, frequencies: list[Frequency]) -> Case:
    """A schedule, a last due wall time, a zone and a now: half of them aimed so that the
    next occurrence falls near a clock change (in its gap or its fold, often)."""
    name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(name)
    frequency = draw(st.sampled_from(frequencies))
    small_every = st.integers(1, 5) if frequency is Frequency.WEEKLY else st.integers(1, 6)
    every = draw(small_every | st.integers(1, 999))
    jumps, aim = transitions(name), draw(st.booleans())
    if jumps and aim:
        last, schedule = draw(aimed(frequency, every, draw(st.sampled_from(jumps)), zone))
        soon = st.sampled_from(range(-120, 121)).map(lambda count: timedelta(minutes=count))
        return schedule, last, zone, to_utc(last, zone) + draw(soon | soon | aheads())
    instant = draw(st.datetimes(datetime(2024, 1, 1), datetime(2030, 12, 31)))
    last = to_local(instant, zone).replace(second=0, microsecond=0)
    anchor = last.date() - timedelta(days=draw(st.integers(0, 400)))
    weekdays = frozenset(draw(st.sets(st.integers(1, 7), min_size=1)))
    schedule = Schedule(frequency, every, weekdays, draw(st.integers(1, 31)), anchor)
    return schedule, last, zone, to_utc(last, zone) + draw(aheads())


@st.composite
def aimed(
    draw: st.DrawFn, frequency: Frequency, every: int, jump: datetime, zone: ZoneInfo
) -> tuple[datetime, Schedule]:
    """A last due wall time and a schedule whose next occurrence is near the clock change at
    *jump*: in its gap or its fold, or a few minutes either side."""
    # Uniform minutes (not hypothesis's small-first integers) so gaps and folds are hit often.
    minutes = timedelta(minutes=draw(st.sampled_from(range(-30, 151))))
    if frequency is Frequency.HOURLY:
        instant = jump + minutes - timedelta(minutes=60)
        return to_local(instant - timedelta(hours=every), zone), Schedule(frequency, every)
    wall = to_local(jump - timedelta(seconds=1), zone).replace(second=0) + minutes
    if frequency is Frequency.DAILY:
        return wall - timedelta(days=every), Schedule(frequency, every)
    if frequency is Frequency.MONTHLY:
        last = _month_on(wall, -every, wall.day)
        return last, Schedule(frequency, every, day_of_month=wall.day)
    others = draw(st.sets(st.integers(1, 7)))
    anchor = wall.date() - timedelta(weeks=every * draw(st.integers(0, 30)))
    weekly = Schedule(frequency, every, frozenset({wall.isoweekday(), *others}), week_anchor=anchor)
    return wall - timedelta(days=draw(st.integers(1, 7))), weekly


def aheads() -> st.SearchStrategy[timedelta]:
    """How long after the last run now is: minutes (even before it), days, or years."""
    minutes = st.integers(-3 * 1440, 3 * 1440).map(lambda count: timedelta(minutes=count))
    days = st.integers(-3 * 1440, 120 * 1440).map(lambda count: timedelta(minutes=count))
    years = st.integers(365, 3 * 366).map(lambda count: timedelta(days=count, minutes=17))
    return st.one_of(minutes, minutes, days, years)


@st.composite
def clock_changes(draw: st.DrawFn, *, forward: bool) -> tuple[ZoneInfo, datetime, datetime]:
    """A zone, the instant its clocks went forward (back) and a wall time in the gap (fold)."""
    name = draw(st.sampled_from([name for name in ZONES if _changes(name, forward=forward)]))
    zone = ZoneInfo(name)
    jump = draw(st.sampled_from(_changes(name, forward=forward)))
    length = abs(_offset(zone, jump) - _offset(zone, jump - timedelta(seconds=1)))
    minute = draw(st.sampled_from(range(1, length // timedelta(minutes=1) + 1)))
    just_before = to_local(jump - timedelta(seconds=1), zone).replace(second=0)
    step = timedelta(minutes=minute if forward else 1 - minute)
    return zone, jump, just_before + step


def _changes(name: str, *, forward: bool) -> list[datetime]:
    zone = ZoneInfo(name)
    return [
        jump
        for jump in transitions(name)
        if (_offset(zone, jump) > _offset(zone, jump - timedelta(seconds=1))) is forward
    ]


def _periods_on(frequency: Frequency, every: int, wall: datetime, periods: int) -> datetime:
    """*wall* moved on (back) by *periods* times *every* days, weeks or months."""
    if frequency is Frequency.DAILY:
        return wall + timedelta(days=every * periods)
    if frequency is Frequency.WEEKLY:
        return wall + timedelta(weeks=every * periods)
    return _month_on(wall, every * periods, wall.day)


def _schedule_through(frequency: Frequency, every: int, wall: datetime) -> Schedule:
    """A schedule one of whose occurrences is *wall*."""
    anchor = wall.date()
    return Schedule(frequency, every, frozenset({wall.isoweekday()}), wall.day, anchor)


def _in_gap(wall: datetime, zone: ZoneInfo) -> bool:
    return to_local(to_utc(wall, zone), zone) != wall


def _weeks_from_anchor(day: date, anchor: date) -> int:
    return (day.toordinal() - day.isoweekday() - (anchor.toordinal() - anchor.isoweekday())) // 7


def _reference(schedule: Schedule, last: datetime, zone: ZoneInfo, now: datetime) -> datetime:
    """The spec read literally: walk the occurrences one at a time."""
    threshold = max(now, to_utc(last, zone))
    for wall in _walk(schedule, last, zone):
        if wall > last and to_utc(wall, zone) > threshold:
            return wall
    raise AssertionError("unreachable")


def _walk(schedule: Schedule, last: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    every, index = schedule.every, 0
    start = last.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    while True:
        index += 1
        if schedule.frequency is Frequency.HOURLY:
            instant = start + timedelta(hours=every * index)
            wall = to_local(instant, zone)
            if to_utc(wall, zone) == instant:
                yield wall
        elif schedule.frequency is Frequency.DAILY:
            yield last + timedelta(days=every * index)
        elif schedule.frequency is Frequency.MONTHLY:
            yield _month_on(last, every * index, schedule.day_of_month or 0)
        else:
            day = last.date() + timedelta(days=index)
            anchor = schedule.week_anchor or day
            if (
                day.isoweekday() in schedule.weekdays
                and _weeks_from_anchor(day, anchor) % every == 0
            ):
                yield datetime.combine(day, last.time())


def _month_on(wall: datetime, months: int, day_of_month: int) -> datetime:
    year, month = divmod(wall.month - 1 + months, 12)
    year, month = wall.year + year, month + 1
    return wall.replace(
        year=year, month=month, day=min(day_of_month, calendar.monthrange(year, month)[1])
    )


ALL_REPEATING = [Frequency.HOURLY, Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY]
NOMINAL = [Frequency.DAILY, Frequency.WEEKLY, Frequency.MONTHLY]


@PROPERTIES
@given(cases(ALL_REPEATING))
def test_next_due_is_after_now_and_after_the_last_run(
    case: Case,
) -> None:
    schedule, last, zone, now = case
    got = next_due(schedule, last, zone, now)
    assert got is not None
    assert got > last
    assert to_utc(got, zone) > now
    assert to_utc(got, zone) > to_utc(last, zone)


@PROPERTIES
@given(cases(NOMINAL))
def test_next_due_keeps_the_wall_time_except_in_a_gap(
    case: Case,
) -> None:
    schedule, last, zone, now = case
    got = next_due(schedule, last, zone, now)
    assert got is not None
    assert got.time() == last.time()
    runs_at = to_local(to_utc(got, zone), zone)
    if runs_at != got:
        # In a gap: the run is at the first instant after it, where the clock jumped.
        instant = to_utc(got, zone)
        assert runs_at > got
        assert to_local(instant - timedelta(seconds=1), zone) < got
        assert _offset(zone, instant) > _offset(zone, instant - timedelta(seconds=1))


@PROPERTIES
@given(clock_changes(forward=True), st.sampled_from(NOMINAL), st.integers(1, 999))
def test_an_occurrence_in_a_gap_runs_as_it_ends_and_shifts_no_later_one(
    change: tuple[ZoneInfo, datetime, datetime], frequency: Frequency, every: int
) -> None:
    zone, jump, wall = change
    assert _in_gap(wall, zone)
    schedule = _schedule_through(frequency, every, wall)
    last = _periods_on(frequency, every, wall, -1)
    got = next_due(schedule, last, zone, to_utc(last, zone))
    assert got == wall
    assert to_utc(got, zone) == jump
    assert next_due(schedule, got, zone, jump) == _periods_on(frequency, every, wall, 1)


@PROPERTIES
@given(clock_changes(forward=False), st.sampled_from(NOMINAL), st.integers(1, 999))
def test_an_occurrence_in_a_fold_runs_at_its_first_pass(
    change: tuple[ZoneInfo, datetime, datetime], frequency: Frequency, every: int
) -> None:
    zone, _, wall = change
    first_pass = wall.replace(tzinfo=zone, fold=0).astimezone(UTC).replace(tzinfo=None)
    second_pass = wall.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(tzinfo=None)
    assert first_pass < second_pass
    schedule = _schedule_through(frequency, every, wall)
    last = _periods_on(frequency, every, wall, -1)
    got = next_due(schedule, last, zone, to_utc(last, zone))
    assert got == wall
    assert to_utc(got, zone) == first_pass
    # Even when now is between the two passes, the next is a period on.
    assert next_due(schedule, got, zone, second_pass) == _periods_on(frequency, every, wall, 1)


@PROPERTIES
@given(clock_changes(forward=False), st.integers(1, 999))
def test_hourly_skips_the_second_pass_of_a_fold(
    change: tuple[ZoneInfo, datetime, datetime], every: int
) -> None:
    zone, _, wall = change
    second_pass = wall.replace(tzinfo=zone, fold=1).astimezone(UTC).replace(tzinfo=None)
    schedule = Schedule(Frequency.HOURLY, every)
    last = to_local(second_pass - timedelta(hours=every), zone)
    now = to_utc(last, zone)
    assume(now == second_pass - timedelta(hours=every))  # not itself in the fold's second pass
    got = next_due(schedule, last, zone, now)
    assert got is not None
    assert to_utc(got, zone) > second_pass
    assert got == _reference(schedule, last, zone, now)


@PROPERTIES
@given(cases([Frequency.WEEKLY]))
def test_weekly_lands_on_a_chosen_day_of_an_eligible_week(
    case: Case,
) -> None:
    schedule, last, zone, now = case
    got = next_due(schedule, last, zone, now)
    assert got is not None
    assert schedule.week_anchor is not None
    assert got.isoweekday() in schedule.weekdays
    assert _weeks_from_anchor(got.date(), schedule.week_anchor) % schedule.every == 0


@PROPERTIES
@given(cases([Frequency.MONTHLY]))
def test_monthly_lands_on_its_day_every_months_on(
    case: Case,
) -> None:
    schedule, last, zone, now = case
    got = next_due(schedule, last, zone, now)
    assert got is not None
    assert schedule.day_of_month is not None
    months = (got.year - last.year) * 12 + got.month - last.month
    assert months > 0
    assert months % schedule.every == 0
    assert got.day == min(schedule.day_of_month, calendar.monthrange(got.year, got.month)[1])


@PROPERTIES
@given(cases([Frequency.HOURLY]))
def test_hourly_steps_are_whole_multiples_of_every_hours(
    case: Case,
) -> None:
    schedule, last, zone, now = case
    got = next_due(schedule, last, zone, now)
    assert got is not None
    start = last.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    elapsed = to_utc(got, zone) - start
    assert elapsed > timedelta(0)
    assert elapsed % timedelta(hours=schedule.every) == timedelta(0)
    assert to_local(to_utc(got, zone), zone) == got  # a wall time of its own


def _near(case: Case) -> bool:
    """Whether the reference walk is cheap for this case."""
    schedule, last, zone, now = case
    span = now - to_utc(last, zone)
    if schedule.frequency is Frequency.HOURLY:
        return span < timedelta(hours=300 * schedule.every)
    return span < timedelta(days=800)


@PROPERTIES
@given(cases(ALL_REPEATING).filter(_near))
def test_next_due_is_the_first_occurrence_after_now(
    case: Case,
) -> None:
    schedule, last, zone, now = case
    assume(schedule.frequency is not Frequency.WEEKLY or schedule.every <= 5)
    assert next_due(schedule, last, zone, now) == _reference(schedule, last, zone, now)


@PROPERTIES
@given(cases(ALL_REPEATING), st.integers(0, 1439))
def test_roll_forward_keeps_an_open_window_and_leaves_a_closed_one(
    case: Case, late_after: int
) -> None:
    schedule, next_run, zone, now = case
    got = roll_forward(schedule, next_run, late_after, zone, now)
    if window_closes_utc(next_run, late_after, zone) > now:
        assert got == next_run
    else:
        assert got == next_due(schedule, next_run, zone, now)
        assert window_closes_utc(got, late_after, zone) > now


@PROPERTIES
@given(st.sampled_from(ZONES).flatmap(lambda name: st.tuples(st.just(name), instants(name))))
def test_to_local_and_to_utc_round_trip(named_instant: tuple[str, datetime]) -> None:
    name, instant = named_instant
    zone = ZoneInfo(name)
    wall = to_local(instant, zone)
    back = to_utc(wall, zone)
    # Back to the same instant, unless it was the second pass of a repeated wall time.
    assert back <= instant
    if back != instant:
        assert to_local(back, zone) == wall
        assert _offset(zone, back) > _offset(zone, instant)


@PROPERTIES
@given(
    st.sampled_from(ZONES).flatmap(
        lambda name: st.tuples(st.just(name), instants(name), st.integers(0, 600))
    )
)
def test_to_utc_is_monotone_and_ends_gaps_at_the_jump(named: tuple[str, datetime, int]) -> None:
    name, instant, minutes = named
    zone = ZoneInfo(name)
    earlier = to_local(instant, zone) - timedelta(minutes=minutes % 181)
    later = earlier + timedelta(minutes=minutes)
    assert to_utc(earlier, zone) <= to_utc(later, zone)
    if _in_gap(earlier, zone):
        jump = to_utc(earlier, zone)
        assert to_local(jump - timedelta(seconds=1), zone) < earlier < to_local(jump, zone)
