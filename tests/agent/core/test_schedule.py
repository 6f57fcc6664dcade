"""Due times on the agent's side: the device's zone, the server's clock, LateAfter windows,
run-now first, one run per job, NextRunOn order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cleverfox.agent.core.schedule import (
    RUN_NOW,
    SCHEDULE,
    clock_offset,
    device_zone,
    due_runs,
    is_due,
    next_run_utc,
    still_due,
    window,
)

TOKYO = ZoneInfo("Asia/Tokyo")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def job(job_id: int, next_run_on: str | None, late_after: int = 60, **more: Any) -> dict[str, Any]:
    return {"JobId": job_id, "NextRunOn": next_run_on, "LateAfter": late_after, **more}


def test_next_run_on_is_a_wall_time_in_the_devices_zone() -> None:
    assert next_run_utc(job(1, "2026-03-10T21:00:00.000"), TOKYO) == NOW
    assert next_run_utc(job(1, None), TOKYO) is None
    assert next_run_utc(job(1, "garbage"), TOKYO) is None


@pytest.mark.parametrize(
    ("wall", "late_after", "due"),
    [
        ("2026-03-10T21:00:00", 60, True),  # exactly now
        ("2026-03-10T20:01:00", 60, True),  # 59 minutes late, window of 60
        ("2026-03-10T20:00:00", 60, False),  # window closed: the server records Missed
        ("2026-03-10T21:00:01", 60, False),  # not yet
        ("2026-03-10T20:59:30", 0, True),  # LateAfter 0 still gets a minute
        ("2026-03-10T20:58:59", 0, False),
    ],
)
def test_a_job_is_due_from_next_run_on_while_its_window_is_open(
    wall: str, late_after: int, due: bool
) -> None:
    assert is_due(job(1, wall, late_after), TOKYO, NOW) is due


def test_an_inactive_job_is_never_due() -> None:
    assert not is_due(job(1, "2026-03-10T21:00:00", IsInactive=True), TOKYO, NOW)


def test_window_is_at_least_a_minute() -> None:
    assert window(job(1, None, 0)) == timedelta(minutes=1)
    assert window(job(1, None, 15)) == timedelta(minutes=15)


def test_a_wall_time_across_a_dst_change_is_read_in_the_zone() -> None:
    # Berlin moved to summer time on 2026-03-29 at 02:00 → 03:00.
    before = next_run_utc(job(1, "2026-03-28T09:00:00"), BERLIN)
    after = next_run_utc(job(1, "2026-03-30T09:00:00"), BERLIN)
    assert before == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_the_server_clock_decides_not_ours() -> None:
    sent = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)  # our clock is an hour slow
    offset = clock_offset(NOW, sent, sent + timedelta(seconds=2))
    assert offset == timedelta(minutes=59, seconds=59)
    ours_now = sent + timedelta(seconds=2)
    assert not is_due(job(1, "2026-03-10T21:00:00"), TOKYO, ours_now)
    assert is_due(job(1, "2026-03-10T21:00:00"), TOKYO, ours_now + offset)


def test_run_now_comes_first_then_due_jobs_by_next_run_on() -> None:
    jobs = [
        job(1, "2026-03-10T20:50:00"),
        job(2, "2026-03-10T20:30:00"),
        job(3, "2026-03-11T09:00:00"),  # not due
        job(4, "2026-03-10T20:40:00"),
        job(5, "2026-03-12T00:00:00"),
    ]
    runs = due_runs(jobs, [5, 4, 99], TOKYO, NOW)

    assert [(r.job_id, r.trigger) for r in runs] == [
        (5, RUN_NOW),
        (4, RUN_NOW),
        (2, SCHEDULE),
        (1, SCHEDULE),
    ]


def test_a_job_requested_twice_or_also_due_runs_once() -> None:
    runs = due_runs([job(1, "2026-03-10T21:00:00")], [1, 1], TOKYO, NOW)

    assert [(r.job_id, r.trigger) for r in runs] == [(1, RUN_NOW)]


def test_a_fresh_check_in_decides_whether_a_run_still_happens() -> None:
    planned = due_runs(
        [job(1, "2026-03-10T21:00:00"), job(2, "2026-03-10T21:00:00")], [2], TOKYO, NOW
    )
    scheduled, requested = planned[1], planned[0]
    moved = [job(1, "2026-03-11T21:00:00"), job(2, "2026-03-10T21:00:00", Name="renamed")]

    assert still_due(scheduled, moved, [2], TOKYO, NOW) is None  # another run advanced it
    assert still_due(requested, moved, [], TOKYO, NOW) is None  # the request was withdrawn
    kept = still_due(requested, moved, [2], TOKYO, NOW)
    assert kept is not None and kept.job["Name"] == "renamed"
    assert still_due(scheduled, [], [], TOKYO, NOW) is None  # deleted


def test_the_devices_zone_falls_back_to_utc() -> None:
    assert device_zone({"IanaTimeZoneId": "Asia/Tokyo"}) == TOKYO
    assert device_zone({"IanaTimeZoneId": "Not/AZone"}) == ZoneInfo("UTC")
    assert device_zone({}) == ZoneInfo("UTC")
