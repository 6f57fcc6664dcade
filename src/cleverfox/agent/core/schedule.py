"""Which jobs are due, and in what order (agent.md §3, "Due").

A job's ``NextRunOn`` is a wall time in the device's zone (the check-in's Device
``IanaTimeZoneId``). It is due once that moment has come on the *server's* clock (the agent's
clock corrected by the offset measured at check-in, so a device whose clock is wrong still
runs on time) and while its ``LateAfter`` window is open: ``LateAfter`` minutes after it
(0 counts as one minute, or a job could never be caught). After that the server records the
run as Missed. A run-now request is due at once.

Each job runs at most once per pass: a job both requested and scheduled runs as ``RunNow``
(the server then still shows it scheduled, and a later pass runs that). Run-now jobs come
first, in the server's order, then scheduled ones by NextRunOn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SCHEDULE = "Schedule"
RUN_NOW = "RunNow"
MINIMUM_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class DueRun:
    """A job to run now, why (``Schedule`` or ``RunNow``), and when it was due (UTC)."""

    job: Mapping[str, Any]
    trigger: str
    due_utc: datetime | None

    @property
    def job_id(self) -> int:
        return int(self.job["JobId"])


def clock_offset(server_time_utc: datetime, sent: datetime, received: datetime) -> timedelta:
    """How far the server's clock is ahead of ours: its time against the midpoint of the
    request (both ours, aware UTC)."""
    return server_time_utc - (sent + (received - sent) / 2)


def device_zone(device: Mapping[str, Any]) -> ZoneInfo:
    """The device's zone from its ``IanaTimeZoneId``; UTC when it is missing or unknown."""
    name = device.get("IanaTimeZoneId")
    try:
        return ZoneInfo(str(name)) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_wall(text: object) -> datetime | None:
    """A wire wall time (``YYYY-MM-DDTHH:MM:SS[.fff]``, no zone) as a naive datetime."""
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=None)
    except ValueError:
        return None


def next_run_utc(job: Mapping[str, Any], zone: ZoneInfo) -> datetime | None:
    """The job's NextRunOn as a UTC instant (a wall time in a DST gap or fold is read as
    ``zoneinfo`` reads it: fold 0)."""
    wall = parse_wall(job.get("NextRunOn"))
    if wall is None:
        return None
    return wall.replace(tzinfo=zone).astimezone(UTC)


def window(job: Mapping[str, Any]) -> timedelta:
    """How long after NextRunOn the job may still start: LateAfter minutes, at least one."""
    late_after = job.get("LateAfter")
    minutes = late_after if isinstance(late_after, int) and not isinstance(late_after, bool) else 0
    return max(timedelta(minutes=minutes), MINIMUM_WINDOW)


def is_due(job: Mapping[str, Any], zone: ZoneInfo, now_utc: datetime) -> bool:
    """Whether the job's scheduled run is due at ``now_utc`` (the server's clock)."""
    if job.get("IsInactive"):
        return False
    due = next_run_utc(job, zone)
    return due is not None and due <= now_utc < due + window(job)


def due_runs(
    jobs: Sequence[Mapping[str, Any]],
    run_now_job_ids: Sequence[int],
    zone: ZoneInfo,
    now_utc: datetime,
) -> list[DueRun]:
    """What to run now, in order: run-now requests first, then due jobs by NextRunOn."""
    by_id = {int(job["JobId"]): job for job in jobs}
    runs: list[DueRun] = []
    for job_id in dict.fromkeys(run_now_job_ids):
        if job_id in by_id:
            runs.append(DueRun(by_id[job_id], RUN_NOW, None))
    taken = {run.job_id for run in runs}
    scheduled = [
        DueRun(job, SCHEDULE, next_run_utc(job, zone))
        for job in jobs
        if int(job["JobId"]) not in taken and is_due(job, zone, now_utc)
    ]
    scheduled.sort(key=lambda run: (run.due_utc or now_utc, run.job_id))
    return runs + scheduled


def still_due(
    run: DueRun,
    jobs: Sequence[Mapping[str, Any]],
    run_now_job_ids: Sequence[int],
    zone: ZoneInfo,
    now_utc: datetime,
) -> DueRun | None:
    """``run`` as a fresh check-in shows it (the job's current items and settings), or None
    when it is no longer due (deleted, inactive, window closed, run-now withdrawn)."""
    for job in jobs:
        if int(job["JobId"]) != run.job_id:
            continue
        if run.trigger == RUN_NOW:
            return DueRun(job, RUN_NOW, None) if run.job_id in run_now_job_ids else None
        return (
            DueRun(job, SCHEDULE, next_run_utc(job, zone)) if is_due(job, zone, now_utc) else None
        )
    return None


def local_now(now_utc: datetime, zone: ZoneInfo) -> datetime:
    """The device's wall time (naive) at ``now_utc``."""
    return now_utc.astimezone(zone).replace(tzinfo=None)


def upcoming(
    jobs: Sequence[Mapping[str, Any]], zone: ZoneInfo
) -> list[tuple[Mapping[str, Any], datetime | None]]:
    """Every job with its next run (UTC), soonest first (for ``status``)."""
    pairs = [(job, next_run_utc(job, zone)) for job in jobs]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(pairs, key=lambda pair: pair[1] or far)
