"""A stored job's schedule rules: its ``Schedule``, its due instant, and settling NextRunOn.

``jobs.schedule`` knows the calendar; this module applies it to a ``Job`` row. The stored
invariant it keeps: ``next_run_utc`` is the instant (``schedule.to_utc`` in the device's
zone) of ``next_run_on`` while a run is pending, and ``None`` when none is — a One Time job
that ran or was missed (it is done), or a schedule whose next occurrence is past the
datetime range. The missed-job duty and the agent look only at ``next_run_utc``.
Nothing here reads the clock or the database: callers pass ``now_utc``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from cleverfox.server.jobs.schedule import (
    Frequency,
    Schedule,
    next_due,
    parse_frequency,
    roll_forward,
    to_local,
    to_utc,
    window_closes_utc,
)
from cleverfox.server.models import Device, Job

WEEKDAY_FIELDS = (
    "on_monday",
    "on_tuesday",
    "on_wednesday",
    "on_thursday",
    "on_friday",
    "on_saturday",
    "on_sunday",
)


def zone_of(device: Device) -> ZoneInfo:
    """The IANA zone whose rules apply to the device's wall times."""
    return ZoneInfo(device.iana_time_zone_id)


def device_wall_time(value: datetime, zone: tzinfo | None, device_zone: ZoneInfo) -> datetime:
    """A "DateTime Local" input as the device's wall time.

    Unzoned input already is the device's wall time; a zoned one (``Z``, ``±HH:MM``) is
    converted to the device's zone. Raises ``OverflowError`` past the datetime range.
    """
    if zone is None:
        return value
    instant = value.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    return to_local(instant, device_zone)


def weekdays_of(job: Job) -> frozenset[int]:
    """The ISO weekdays (1 Monday … 7 Sunday) the job's OnMonday … OnSunday choose."""
    return frozenset(day for day, name in enumerate(WEEKDAY_FIELDS, 1) if getattr(job, name))


def schedule_of(job: Job) -> Schedule:
    """The job's ``Schedule``; raises ``ValueError`` when its attributes break the rules."""
    frequency = parse_frequency(job.frequency)
    if frequency is None:
        raise ValueError(f"unknown frequency {job.frequency!r}")
    return Schedule(
        frequency=frequency,
        every=job.every,
        weekdays=weekdays_of(job),
        day_of_month=job.day_of_month,
        week_anchor=job.week_anchor or job.next_run_on.date(),
        expire_on=job.expire_on,
    )


def schedule_problem(job: Job) -> tuple[str, str, str] | None:
    """The failing attribute, code and message when the job's schedule is not valid."""
    frequency = parse_frequency(job.frequency)
    if frequency is Frequency.WEEKLY and not weekdays_of(job):
        return (
            "OnMonday",
            "weekday_required",
            "A Weekly job runs on at least one day: set one of OnMonday … OnSunday.",
        )
    if frequency is Frequency.MONTHLY and job.day_of_month is None:
        return ("DayOfMonth", "required", "DayOfMonth is required for a Monthy job.")
    return None


def pending_instant(job: Job, zone: ZoneInfo, now_utc: datetime) -> datetime | None:
    """``next_run_utc`` for the job's current NextRunOn, as if it had just been set.

    ``None`` for a One Time job whose LateAfter window has already closed (it is done).
    Raises ``OverflowError`` past the datetime range.
    """
    one_time = job.frequency == Frequency.ONE_TIME.value
    if one_time and window_closes_utc(job.next_run_on, job.late_after, zone) <= now_utc:
        return None
    return to_utc(job.next_run_on, zone)


def settle(job: Job, zone: ZoneInfo, now_utc: datetime, *, reset: bool) -> None:
    """NextRunOn and next_run_utc as POST, PUT, reactivation or a zone change leave them.

    A NextRunOn whose LateAfter window has closed rolls forward to the next due time after
    now (no Missed Log); an open one stays due. ``reset`` says NextRunOn or Frequency was
    just set: a One Time job that is done (``next_run_utc`` ``None``) stays done otherwise.
    Raises ``OverflowError`` when the next run is past the datetime range.
    """
    done = job.frequency == Frequency.ONE_TIME.value and job.next_run_utc is None
    job.next_run_on = roll_forward(schedule_of(job), job.next_run_on, job.late_after, zone, now_utc)
    job.next_run_utc = None if done and not reset else pending_instant(job, zone, now_utc)


def advance(job: Job, zone: ZoneInfo, now_utc: datetime) -> None:
    """After the run due at NextRunOn started or was missed: the next due time past now.

    One Time has no next run: NextRunOn stays and ``next_run_utc`` becomes ``None``. A next
    run past the datetime range leaves the job with none pending.
    """
    try:
        following = next_due(schedule_of(job), job.next_run_on, zone, now_utc)
    except OverflowError:
        following = None
    if following is None:
        job.next_run_utc = None
        return
    job.next_run_on = following
    job.next_run_utc = to_utc(following, zone)


def window_closed(job: Job, now_utc: datetime) -> bool:
    """Whether the pending run's LateAfter window has closed by ``now_utc`` (a missed run)."""
    if job.next_run_utc is None:
        return False
    return job.next_run_utc + timedelta(minutes=job.late_after) <= now_utc
