"""What a change to a device means for its jobs' schedules (resources.md, Jobs).

NextRunOn is a wall time in the device's zone, so changing the zone keeps every job's
NextRunOn and moves the instant it stands for (``next_run_utc``). Reactivating a device rolls
forward each active job whose LateAfter window closed while the device was inactive, without
a Missed Log, as reactivating the job itself would.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cleverfox.server.jobs.schedule import (
    Frequency,
    Schedule,
    parse_frequency,
    roll_forward,
    to_utc,
)
from cleverfox.server.kit.events import Actor, EventKind, change_pair, record_event
from cleverfox.server.models import Device, Job

_WEEKDAY_FIELDS = (
    "on_monday",
    "on_tuesday",
    "on_wednesday",
    "on_thursday",
    "on_friday",
    "on_saturday",
    "on_sunday",
)


def reschedule_jobs(
    session: Session, device: Device, *, reactivated: bool, actor: Actor, now: datetime
) -> None:
    """Bring the device's jobs in line with its (new) zone and activity; Job Modified Events
    for the NextRunOn values that move. Runs in the caller's transaction."""
    zone = ZoneInfo(device.iana_time_zone_id)
    for job in session.scalars(select(Job).where(Job.device_id == device.id).order_by(Job.id)):
        if reactivated and not job.is_inactive:
            _roll_forward(session, job, zone, actor, now)
        job.next_run_utc = to_utc(job.next_run_on, zone)


def _roll_forward(session: Session, job: Job, zone: ZoneInfo, actor: Actor, now: datetime) -> None:
    schedule = schedule_of(job)
    if schedule is None:
        return
    rolled = roll_forward(schedule, job.next_run_on, job.late_after, zone, now)
    if rolled == job.next_run_on:
        return
    changes = {"NextRunOn": change_pair("NextRunOn", job.next_run_on, rolled)}
    job.next_run_on = rolled
    job.updated_on = now
    record_event(
        session,
        EventKind.JOB_MODIFIED,
        actor=actor,
        partner_id=job.partner_id,
        company_id=job.company_id,
        device_id=job.device_id,
        job_id=job.id,
        changes=changes,
    )


def schedule_of(job: Job) -> Schedule | None:
    """The job's schedule, or ``None`` when its stored attributes do not make one."""
    frequency = parse_frequency(job.frequency)
    if frequency is None:
        return None
    weekdays = frozenset(day for day, name in enumerate(_WEEKDAY_FIELDS, 1) if getattr(job, name))
    try:
        return Schedule(
            frequency=frequency,
            every=job.every,
            weekdays=weekdays if frequency is Frequency.WEEKLY else frozenset(),
            day_of_month=job.day_of_month,
            week_anchor=job.week_anchor,
            expire_on=job.expire_on,
        )
    except ValueError:
        return None
