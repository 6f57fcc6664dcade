"""A stored job's schedule rules (``jobs.rules``): the Schedule of a row, its due instant,
settling on POST/PUT/reactivation, advancing after a run or a miss, the missed check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleverfox.server.jobs.rules import (
    advance,
    device_wall_time,
    pending_instant,
    schedule_of,
    schedule_problem,
    settle,
    weekdays_of,
    window_closed,
)
from cleverfox.server.jobs.schedule import Frequency, to_utc
from cleverfox.server.models import Job

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2030, 6, 12, 15, 0)  # a Wednesday, UTC
ZONES = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Africa/Casablanca",
]
PROPERTIES = settings(max_examples=80, deadline=None)


def job(
    frequency: str = "Daily", next_run_on: datetime = datetime(2030, 6, 12, 9, 0), **overrides: Any
) -> Job:
    values: dict[str, Any] = {
        "frequency": frequency,
        "next_run_on": next_run_on,
        "late_after": 60,
        "every": 1,
        "next_run_utc": None,
        "week_anchor": next_run_on.date(),
        "day_of_month": None,
        "expire_on": None,
        "is_inactive": False,
        **{
            f"on_{day}": False
            for day in (
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            )
        },
    }
    values.update(overrides)
    return Job(**values)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- inputs and the row's Schedule -------------------------------------------------------


def test_an_unzoned_local_input_is_the_devices_wall_time() -> None:
    assert device_wall_time(at("2030-01-15T10:00"), None, TOKYO) == at("2030-01-15T10:00")


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (UTC, "2030-01-15T19:00"),
        (timezone(timedelta(hours=-5)), "2030-01-16T00:00"),
        (timezone(timedelta(hours=9)), "2030-01-15T10:00"),
    ],
)
def test_a_zoned_local_input_is_converted_to_the_devices_zone(zone: Any, expected: str) -> None:
    assert device_wall_time(at("2030-01-15T10:00"), zone, TOKYO) == at(expected)


def test_a_zoned_input_past_the_datetime_range_overflows() -> None:
    with pytest.raises(OverflowError):
        device_wall_time(at("9999-12-31T23:00"), timezone(timedelta(hours=-5)), TOKYO)


def test_weekdays_are_iso_numbers() -> None:
    row = job("Weekly", on_monday=True, on_sunday=True)
    assert weekdays_of(row) == frozenset({1, 7})
    assert schedule_of(row).frequency is Frequency.WEEKLY
    assert schedule_of(job("Weekly", on_friday=True, week_anchor=None)).week_anchor == date(
        2030, 6, 12
    )


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (job("Weekly"), ("OnMonday", "weekday_required")),
        (job("Monthy"), ("DayOfMonth", "required")),
        (job("Weekly", on_tuesday=True), None),
        (job("Monthy", day_of_month=31), None),
        (job("Hourly"), None),
        (job("One Time"), None),
    ],
)
def test_schedule_problems(row: Job, problem: tuple[str, str] | None) -> None:
    found = schedule_problem(row)
    assert (found[:2] if found else None) == problem


# --- pending instant and settling --------------------------------------------------------


def test_the_pending_instant_is_next_run_on_in_the_devices_zone() -> None:
    assert pending_instant(job(next_run_on=at("2030-06-12T16:30")), NEW_YORK, NOW) == at(
        "2030-06-12T20:30"
    )
    gap = job(next_run_on=at("2030-03-10T02:30"))  # clocks go forward at 02:00
    assert pending_instant(gap, NEW_YORK, datetime(2030, 1, 1)) == at("2030-03-10T07:00")


def test_a_one_time_job_whose_window_closed_has_nothing_pending() -> None:
    closed = job("One Time", next_run_on=at("2030-06-12T13:00"), late_after=60)  # UTC zone
    assert pending_instant(closed, ZoneInfo("UTC"), NOW) is None
    still_open = job("One Time", next_run_on=at("2030-06-12T14:30"), late_after=60)
    assert pending_instant(still_open, ZoneInfo("UTC"), NOW) == at("2030-06-12T14:30")


def test_settling_rolls_a_closed_window_forward_and_keeps_an_open_one() -> None:
    utc = ZoneInfo("UTC")
    closed = job(next_run_on=at("2030-06-01T09:00"), late_after=0)
    settle(closed, utc, NOW, reset=True)
    assert closed.next_run_on == at("2030-06-13T09:00") and closed.next_run_utc == at(
        "2030-06-13T09:00"
    )
    open_window = job(next_run_on=at("2030-06-12T14:30"), late_after=60)
    settle(open_window, utc, NOW, reset=True)
    assert open_window.next_run_on == at("2030-06-12T14:30")


def test_settling_honours_a_day_the_schedule_would_not_choose() -> None:
    friday_job = job("Weekly", next_run_on=at("2030-06-13T09:00"), on_friday=True)  # a Thursday
    settle(friday_job, ZoneInfo("UTC"), NOW, reset=True)
    assert friday_job.next_run_on == at("2030-06-13T09:00")


def test_a_done_one_time_job_stays_done_unless_its_next_run_on_is_set_again() -> None:
    utc = ZoneInfo("UTC")
    done = job("One Time", next_run_on=at("2030-06-12T14:30"), next_run_utc=None)
    settle(done, utc, NOW, reset=False)
    assert done.next_run_utc is None  # a PUT of its Name does not make it run again
    settle(done, utc, NOW, reset=True)
    assert done.next_run_utc == at("2030-06-12T14:30")


def test_settling_after_a_zone_change_keeps_the_wall_time() -> None:
    row = job(next_run_on=at("2030-06-20T09:00"))
    settle(row, ZoneInfo("UTC"), NOW, reset=False)
    settle(row, TOKYO, NOW, reset=False)
    assert row.next_run_on == at("2030-06-20T09:00") and row.next_run_utc == at("2030-06-20T00:00")


# --- advancing and the missed check ------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (job("Hourly", every=6, next_run_on=at("2030-06-12T09:00")), "2030-06-12T21:00"),
        (job("Daily", every=2, next_run_on=at("2030-06-01T09:00")), "2030-06-13T09:00"),
        (
            job(
                "Weekly",
                every=1,
                next_run_on=at("2030-06-03T09:00"),
                on_monday=True,
                on_thursday=True,
            ),
            "2030-06-13T09:00",
        ),
        (
            job(
                "Weekly",
                every=2,
                next_run_on=at("2030-06-03T09:00"),
                on_monday=True,
                on_thursday=True,
            ),
            "2030-06-17T09:00",
        ),  # the week of June 10 is not a run week
        (
            job(
                "Weekly",
                every=2,
                next_run_on=at("2030-06-13T09:00"),
                on_monday=True,
                week_anchor=date(2030, 6, 3),
            ),
            "2030-06-17T09:00",
        ),
        (job("Monthy", day_of_month=31, next_run_on=at("2030-01-31T09:00")), "2030-06-30T09:00"),
    ],
)
def test_advancing_goes_to_the_next_due_time_past_now(row: Job, expected: str) -> None:
    advance(row, ZoneInfo("UTC"), NOW)
    assert row.next_run_on == at(expected) and row.next_run_utc == at(expected)


def test_advancing_a_one_time_job_leaves_nothing_pending() -> None:
    row = job("One Time", next_run_on=at("2030-06-12T14:00"), next_run_utc=at("2030-06-12T14:00"))
    advance(row, ZoneInfo("UTC"), NOW)
    assert row.next_run_on == at("2030-06-12T14:00") and row.next_run_utc is None


def test_advancing_past_the_end_of_time_leaves_nothing_pending() -> None:
    row = job("Monthy", every=999, day_of_month=1, next_run_on=at("9990-01-01T00:00"))
    advance(row, ZoneInfo("UTC"), datetime(9990, 6, 1))
    assert row.next_run_utc is None


@pytest.mark.parametrize(("late_after", "closed"), [(59, True), (60, True), (61, False)])
def test_a_window_closes_late_after_minutes_after_the_due_instant(
    late_after: int, closed: bool
) -> None:
    row = job(next_run_utc=NOW - timedelta(hours=1), late_after=late_after)
    assert window_closed(row, NOW) is closed
    assert window_closed(job(next_run_utc=None), NOW) is False


# --- properties across zones and DST transitions -----------------------------------------

frequencies = st.sampled_from(["Hourly", "Daily", "Weekly", "Monthy"])
walls = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2034, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0)
)


def arbitrary_job(
    frequency: str,
    next_run_on: datetime,
    every: int,
    late_after: int,
    weekdays: set[int],
    day_of_month: int,
) -> Job:
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    return job(
        frequency,
        next_run_on,
        every=every,
        late_after=late_after,
        day_of_month=day_of_month,
        **{f"on_{days[d - 1]}": True for d in weekdays},
    )


@PROPERTIES
@given(
    zone=st.sampled_from(ZONES),
    frequency=frequencies,
    next_run_on=walls,
    now=walls,
    every=st.integers(1, 30),
    late_after=st.integers(0, 1439),
    weekdays=st.sets(st.integers(1, 7), min_size=1),
    day_of_month=st.integers(1, 31),
)
def test_settling_never_leaves_a_closed_window(
    zone: str,
    frequency: str,
    next_run_on: datetime,
    now: datetime,
    every: int,
    late_after: int,
    weekdays: set[int],
    day_of_month: int,
) -> None:
    tz = ZoneInfo(zone)
    row = arbitrary_job(frequency, next_run_on, every, late_after, weekdays, day_of_month)
    settle(row, tz, now, reset=True)
    assert row.next_run_utc == to_utc(row.next_run_on, tz)
    assert not window_closed(row, now)
    assert row.next_run_on == next_run_on or row.next_run_utc > now


@PROPERTIES
@given(
    zone=st.sampled_from(ZONES),
    frequency=frequencies,
    next_run_on=walls,
    behind=st.integers(0, 5 * 366 * 24 * 60),
    every=st.integers(1, 30),
    weekdays=st.sets(st.integers(1, 7), min_size=1),
    day_of_month=st.integers(1, 31),
)
def test_advancing_lands_past_now_once_however_far_behind(
    zone: str,
    frequency: str,
    next_run_on: datetime,
    behind: int,
    every: int,
    weekdays: set[int],
    day_of_month: int,
) -> None:
    tz = ZoneInfo(zone)
    row = arbitrary_job(frequency, next_run_on, every, 5, weekdays, day_of_month)
    now = to_utc(next_run_on, tz) + timedelta(minutes=behind)
    advance(row, tz, now)
    assert row.next_run_utc is not None and row.next_run_utc > now
    assert row.next_run_utc == to_utc(row.next_run_on, tz) and row.next_run_on > next_run_on
    assert not window_closed(row, now)
