"""Weeks of demo history: the Logs, Log Items and Events the demo's agents and the server
would have written, for ``cleverfox demo`` only.

Every run is built the way the agent endpoints build theirs: the Log's snapshot by
``runs.service.snapshot`` when the run starts, NextRunOn advanced past it by
``jobs.rules.advance`` (scheduled runs only), the Log Items by ``runs.service`` from what the
agent reports, the Log finished as ``PUT /api/agent/logs/{LogId}`` finishes it. Missed runs
are what the missed-job duty writes, and each job-result mail the device asked for is
recorded as sent (its Log's Notification…ProcessedOn and Notification Sent). AddedOn is UTC;
JobStartedOn and JobCompletedOn are the device's wall times.

Rows are written in bulk but in time order, so ids grow with AddedOn as they would have.
Outcomes come from a ``random.Random`` seeded by the job's and device's names: the same
clock gives the same history. Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from random import Random
from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.jobs.rules import advance, zone_of
from cleverfox.server.jobs.schedule import to_local
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.logs.schemas import COMPLETED, FAILED, MISSED, RUN_NOW, RUNNING, SCHEDULE
from cleverfox.server.models import Device, Event, Job, JobItem, Log
from cleverfox.server.runs.service import reported_log_item, snapshot

SEED = "cleverfox-demo"
DUTY_INTERVAL = timedelta(seconds=60)  # how often the missed-job and presence duties run
_PROCESSED_ON = {
    COMPLETED: ("send_notification_on_job_completed", "notification_job_completed_processed_on"),
    FAILED: ("send_notification_on_job_failed", "notification_job_failed_processed_on"),
    MISSED: ("send_notification_on_job_missed", "notification_job_missed_processed_on"),
}


@dataclass(frozen=True)
class ItemProfile:
    """What one job item's backups look like: ``size`` bytes on the first day, growing by
    ``growth`` a day; ``files`` in a file backup (0: a database, no backup list)."""

    size: int
    growth: float = 0.002
    files: int = 0
    extension: str = ".zip"
    server_version: str | None = None
    server_edition: str | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunProfile:
    """How a job's runs go: ``minutes`` a typical run takes; the share of runs that fail or
    are missed; how often a failure is retried with run now; ISO weekdays the device is off."""

    minutes: float
    fail_rate: float = 0.04
    miss_rate: float = 0.01
    retry_rate: float = 0.5
    days_off: frozenset[int] = frozenset()


@dataclass
class JobHistory:
    """A demo job (loaded with its device and subscription), its items, how its runs go,
    and the device's archive folder root (``C:\\ProgramData\\CleverFox`` or ``/var/lib/…``).

    The device's ``last_api_check_at`` is when its agent was last around: occurrences after
    it are missed.
    """

    job: Job
    items: list[tuple[JobItem, ItemProfile]]
    profile: RunProfile
    archive_root: str


@dataclass
class _Run:
    log: Log
    reports: list[tuple[JobItem, dict[str, Any]]] = field(default_factory=list)
    events: list[tuple[datetime, Callable[[Session], Event]]] = field(default_factory=list)


def write_history(
    session: Session, histories: Sequence[JobHistory], now: datetime, online_window: timedelta
) -> None:
    """Runs every demo job's schedule from its NextRunOn up to ``now``, writing each run's
    Log, Log Items and Events; leaves each job as its last run left it, NextRunOn past
    ``now`` — or, for a device that stopped checking in, a run still inside its LateAfter
    window, which the missed-job duty will record. Devices whose last check-in is older than
    ``online_window`` get their Device Offline."""
    runs = sorted(
        (run for h in histories for run in _runs_of(h, now)), key=lambda run: run.log.added_on
    )
    session.add_all([run.log for run in runs])
    session.flush()
    for run in runs:
        for job_item, values in run.reports:
            item = reported_log_item(run.log, values, job_item)
            item.added_on = run.log.updated_on or run.log.added_on
            session.add(item)
    events = [event for run in runs for event in run.events]
    events += _offline_events(
        {h.job.device.id: h.job.device for h in histories}.values(), now, online_window
    )
    for when, write in sorted(events, key=lambda event: event[0]):
        write(session).added_on = when
    session.flush()


def _runs_of(history: JobHistory, now: datetime) -> list[_Run]:
    job, profile = history.job, history.profile
    rng = Random(f"{SEED}:{job.device.name}:{job.name}")
    runs: list[_Run] = []
    while job.next_run_utc is not None and job.next_run_utc <= now:
        due = job.next_run_utc
        if _is_missed(history, due, rng):
            found = due + timedelta(minutes=job.late_after) + _seconds(rng, 5, 60)
            if found > now:
                break  # its window is still open: the missed-job duty records it later
            runs.append(_missed(job, found))
            continue
        run = _started(job, SCHEDULE, min(due + _seconds(rng, 3, 50), now))
        failed = rng.random() < profile.fail_rate
        runs.append(_finished(history, run, rng, now, failed=failed))
        if failed and rng.random() < profile.retry_rate:
            runs += _retried(history, run, rng, now)
    return runs


def _is_missed(history: JobHistory, due: datetime, rng: Random) -> bool:
    """The agent was gone, the device off that day, or (now and then) switched off."""
    device = history.job.device
    if device.last_api_check_at is None or due > device.last_api_check_at:
        return True
    if to_local(due, zone_of(device)).isoweekday() in history.profile.days_off:
        return True
    return rng.random() < history.profile.miss_rate


def _missed(job: Job, found: datetime) -> _Run:
    """As the missed-job duty records it (``runs.service.record_missed``), at ``found``."""
    run = _Run(snapshot(job, job.device, MISSED, SCHEDULE, found))
    advance(job, zone_of(job.device), found)
    job.last_job_status = MISSED
    run.events.append((found, _run_event(EventKind.JOB_MISSED, Actor.SERVER, run.log)))
    _mail_sent(run, MISSED, found)
    return run


def _started(job: Job, trigger: str, started: datetime) -> _Run:
    """As ``POST /api/agent/logs`` starts a run (``runs.service.start_run``), at ``started``."""
    zone = zone_of(job.device)
    run = _Run(snapshot(job, job.device, RUNNING, trigger, started))
    run.log.job_started_on = to_local(started, zone)
    run.log.started_utc = started
    if trigger == SCHEDULE:
        advance(job, zone, started)
    job.last_job_status = RUNNING
    run.events.append((started, _run_event(EventKind.JOB_STARTED, Actor.AGENT, run.log)))
    return run


def _finished(history: JobHistory, run: _Run, rng: Random, now: datetime, *, failed: bool) -> _Run:
    """As ``PUT /api/agent/logs/{LogId}`` finishes it: Completed with a Log Item per job
    item, or Failed with one item's error and the others' Log Items."""
    log, job = run.log, history.job
    assert log.started_utc is not None
    share = rng.uniform(0.1, 0.6) if failed else rng.uniform(0.8, 1.3)
    ended = min(log.started_utc + _millis(history.profile.minutes * share * 60_000), now)
    failing = rng.randrange(len(history.items)) if failed else -1
    errors = []
    for index, (job_item, profile) in enumerate(history.items):
        if index == failing:
            errors.append(f"{job_item.name}: {rng.choice(profile.errors)}")
        else:
            run.reports.append((job_item, _report(history, log, job_item, profile, rng)))
    log.job_status = FAILED if failed else COMPLETED
    log.job_completed_on = to_local(ended, zone_of(job.device))
    log.updated_on = ended
    log.duration_seconds = int((ended - log.started_utc).total_seconds())
    log.error_messages = "\n".join(errors) or None
    job.last_ran_on, job.last_job_status = log.job_started_on, log.job_status
    kind = EventKind.JOB_FAILED if failed else EventKind.JOB_COMPLETED
    run.events.append((ended, _run_event(kind, Actor.AGENT, log)))
    _mail_sent(run, log.job_status, ended)
    return run


def _retried(history: JobHistory, failed: _Run, rng: Random, now: datetime) -> list[_Run]:
    """Someone saw the failure and asked for a run now (Job Run Requested); it completed."""
    assert failed.log.updated_on is not None
    asked = failed.log.updated_on + _millis(rng.uniform(40, 150) * 60_000)
    started = asked + _seconds(rng, 20, 60)
    job = history.job
    if job.next_run_utc is None or started >= min(job.next_run_utc, now):
        return []
    run = _started(job, RUN_NOW, started)
    run.events.append((asked, _run_requested_event(run.log)))
    return [_finished(history, run, rng, now, failed=False)]


def _report(
    history: JobHistory, log: Log, job_item: JobItem, profile: ItemProfile, rng: Random
) -> dict[str, Any]:
    """The LogItems entry the agent sends for a job item backed up (REPORTED_ITEM fields)."""
    assert log.started_utc is not None and log.job_started_on is not None
    days = (log.started_utc - history.job.added_on).total_seconds() / 86400
    grown = (1 + profile.growth) ** max(days, 0)
    stamp = log.job_started_on.strftime("%Y%m%d-%H%M%S")
    name = job_item.database_name or _slug(job_item.name or f"item {job_item.id}")
    separator = "\\" if "\\" in history.archive_root else "/"
    report: dict[str, Any] = {
        "job_item_id": job_item.id,
        "server_version": profile.server_version,
        "server_edition": profile.server_edition,
        "backup_folder": separator.join((history.archive_root, "archive", f"job-{log.job_id}")),
        "backup_file_name": f"{name}-{stamp}{profile.extension}",
        "backup_file_size": int(profile.size * grown * rng.uniform(0.985, 1.015)),
    }
    if profile.files:
        files = int(profile.files * grown * rng.uniform(0.997, 1.003))
        report |= {
            "backup_list_name": f"{name}-{stamp}.lst",
            "backup_list_size": files * rng.randint(120, 180),
            "backup_list_count": files,
        }
    return report


def _mail_sent(run: _Run, status: str, decided: datetime) -> None:
    """The job-result mail the Log's snapshot asks for, as the dispatcher records it sent."""
    wanted, processed_on = _PROCESSED_ON[status]
    if not getattr(run.log, wanted) or not run.log.send_notification_to:
        return
    sent = decided + timedelta(seconds=4)
    setattr(run.log, processed_on, sent)
    run.events.append((sent, _mail_event(run.log)))


def _offline_events(
    devices: Iterable[Device], now: datetime, window: timedelta
) -> list[tuple[datetime, Callable[[Session], Event]]]:
    """Device Offline for each device the presence duty would have seen go quiet."""
    events = []
    for device in devices:
        last = device.last_api_check_at
        if device.reported_online and last is not None and last + window < now:
            device.reported_online = False
            events.append((last + window + DUTY_INTERVAL / 2, _offline_event(device)))
    return events


def _run_event(kind: EventKind, actor: Actor, log: Log) -> Callable[[Session], Event]:
    def write(session: Session) -> Event:
        return record_event(
            session,
            kind,
            actor=actor,
            partner_id=log.partner_id,
            company_id=log.company_id,
            device_id=log.device_id,
            job_id=log.job_id,
            log_id=log.id,
            subscription_id=log.subscription_id,
            plan_id=log.plan_id,
        )

    return write


def _run_requested_event(log: Log) -> Callable[[Session], Event]:
    """Job Run Requested as ``POST /api/jobs/{JobId}/run`` writes it: the job's ids only."""

    def write(session: Session) -> Event:
        return record_event(
            session,
            EventKind.JOB_RUN_REQUESTED,
            actor=Actor.API,
            partner_id=log.partner_id,
            company_id=log.company_id,
            device_id=log.device_id,
            job_id=log.job_id,
        )

    return write


def _mail_event(log: Log) -> Callable[[Session], Event]:
    def write(session: Session) -> Event:
        return record_event(
            session,
            EventKind.NOTIFICATION_SENT,
            actor=Actor.SERVER,
            partner_id=log.partner_id,
            log_id=log.id,
            company_id=log.company_id,
            device_id=log.device_id,
            job_id=log.job_id,
        )

    return write


def _offline_event(device: Device) -> Callable[[Session], Event]:
    def write(session: Session) -> Event:
        return record_event(
            session,
            EventKind.DEVICE_OFFLINE,
            actor=Actor.SERVER,
            partner_id=device.partner_id,
            company_id=device.company_id,
            device_id=device.id,
            subscription_id=device.subscription_id,
        )

    return write


def _slug(text: str) -> str:
    """``User folders`` → ``user-folders``: a backup file's name for a file item."""
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _millis(count: float) -> timedelta:
    """Whole milliseconds, as the database keeps date-times."""
    return timedelta(milliseconds=int(count))


def _seconds(rng: Random, low: int, high: int) -> timedelta:
    return timedelta(seconds=rng.randint(low, high))
