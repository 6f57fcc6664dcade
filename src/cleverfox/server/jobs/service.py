"""Rules of jobs: ownership, schedules in the device's zone, run now, deletion.

NextRunOn is stored as the device's wall time and ``next_run_utc`` as its instant
(``jobs.rules``). POST and PUT settle NextRunOn: a closed LateAfter window rolls forward to
the next due time without a Missed Log. Every change writes its Event here, in the caller's
transaction; nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cleverfox.server.jobs import repository
from cleverfox.server.jobs.rules import device_wall_time, schedule_problem, settle, zone_of
from cleverfox.server.jobs.schemas import JOB
from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, change_pair, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import fail_if, invalid_reference
from cleverfox.server.models import Device, Job
from cleverfox.server.storage.retention import release_job_files

_LOCAL_ATTRIBUTES = (("next_run_on", "NextRunOn"), ("expire_on", "ExpireOn"))


def get_job(session: Session, partner_id: int, job_id: int, *, lock: bool = False) -> Job:
    job = repository.get_job(session, partner_id, job_id, lock=lock)
    if job is None:
        raise NotFound()
    return job


def list_jobs(session: Session, partner_id: int, query: ListQuery) -> tuple[list[Job], bool]:
    return repository.list_jobs(session, partner_id, query)


def create_job(
    session: Session,
    partner_id: int,
    raw: dict[str, Any],
    actor: Actor,
    *,
    now: datetime | None = None,
) -> Job:
    """POST: DeviceId must be the caller's; writes Job Added (40)."""
    values = JOB.parse_create(raw)
    device = repository.get_device(session, partner_id, values["device_id"])
    if device is None:
        raise ValidationFailed([invalid_reference("DeviceId", "device")])
    fail_if(_local_values(values, zone_of(device)))
    job = Job(
        **values,
        partner_id=partner_id,
        company_id=device.company_id,
        week_anchor=values["next_run_on"].date(),
    )
    _settle_or_fail(job, zone_of(device), now or utcnow(), reset=True)
    session.add(job)
    session.flush()
    record_event(session, EventKind.JOB_ADDED, actor=actor, **_ids(job))
    return get_job(session, partner_id, job.id)


def update_job(
    session: Session,
    partner_id: int,
    job_id: int,
    raw: dict[str, Any],
    actor: Actor,
    *,
    now: datetime | None = None,
) -> Job:
    """PUT: only what is sent changes; the schedule is settled again; Job Modified (41)."""
    job = get_job(session, partner_id, job_id, lock=True)
    values = JOB.parse_update(raw)
    zone = zone_of(job.device)
    fail_if(_local_values(values, zone))
    before = job.next_run_on
    changes = apply_changes(job, JOB, values)
    if "NextRunOn" in changes:
        job.week_anchor = job.next_run_on.date()
    reset = "NextRunOn" in changes or "Frequency" in changes
    _settle_or_fail(job, zone, now or utcnow(), reset=reset)
    _note_next_run_change(job, before, changes)
    if changes:
        record_event(session, EventKind.JOB_MODIFIED, actor=actor, changes=changes, **_ids(job))
    return job


def delete_job(session: Session, partner_id: int, job_id: int, actor: Actor) -> Job:
    """DELETE: 409 ``job_running`` during a run; its items go too (one Event each), Logs stay."""
    job = get_job(session, partner_id, job_id, lock=True)
    _refuse_while_running(session, job)
    for item in job.items:
        record_event(
            session,
            EventKind.JOB_ITEM_DELETED,
            actor=actor,
            job_item_id=item.id,
            backup_type_id=item.backup_type_id,
            **_ids(job),
        )
        session.delete(item)
    session.flush()
    release_job_files(session, job.id, actor, utcnow())
    record_event(session, EventKind.JOB_DELETED, actor=actor, **_ids(job))
    session.delete(job)
    return job


def request_run(session: Session, partner_id: int, job_id: int, actor: Actor) -> Job:
    """Run now: the agent starts the job at its next check-in; Job Run Requested (54).

    409 ``job_running`` while a run is in progress, ``job_inactive`` for an inactive job
    or a job of an inactive device. Asking again before the agent started it changes nothing.
    """
    job = get_job(session, partner_id, job_id, lock=True)
    _refuse_while_running(session, job)
    if job.is_inactive or job.device.is_inactive:
        raise Conflict(
            "An inactive job, or a job of an inactive device, does not run.", code="job_inactive"
        )
    if not job.run_now_requested:
        job.run_now_requested = True
        record_event(session, EventKind.JOB_RUN_REQUESTED, actor=actor, **_ids(job))
    return job


def recompute_for_device(
    session: Session, device: Device, *, actor: Actor = Actor.API, now: datetime | None = None
) -> None:
    """After the device's time zone changed or it was reactivated: settle its jobs again.

    Wall times are kept (NextRunOn stays), ``next_run_utc`` is recomputed in the device's
    current zone, and a NextRunOn whose LateAfter window has closed rolls forward to the next
    due time without a Missed Log (Job Modified for each NextRunOn that moves). Locks the
    device's job rows; runs in the caller's transaction.
    """
    zone, moment = zone_of(device), now or utcnow()
    for job in repository.jobs_of_device(session, device.id):
        before = job.next_run_on
        try:
            settle(job, zone, moment, reset=False)
        except OverflowError:
            job.next_run_utc = None
        changes: dict[str, list[Any]] = {}
        _note_next_run_change(job, before, changes)
        if changes:
            record_event(session, EventKind.JOB_MODIFIED, actor=actor, changes=changes, **_ids(job))


def _local_values(values: dict[str, Any], zone: ZoneInfo) -> list[FieldError]:
    """Turn parsed "DateTime Local" inputs (value, zone) into the device's wall times."""
    errors = []
    for field, attribute in _LOCAL_ATTRIBUTES:
        if values.get(field) is None:
            continue
        value, value_zone = values[field]
        try:
            values[field] = device_wall_time(value, value_zone, zone)
        except OverflowError:
            errors.append(_out_of_range(attribute))
    return errors


def _settle_or_fail(job: Job, zone: ZoneInfo, now: datetime, *, reset: bool) -> None:
    """Check the schedule's conditional rules, then settle NextRunOn (or fail validation)."""
    problem = schedule_problem(job)
    if problem is not None:
        raise ValidationFailed([FieldError(*problem)])
    try:
        settle(job, zone, now, reset=reset)
    except OverflowError:
        raise ValidationFailed([_out_of_range("NextRunOn")]) from None


def _note_next_run_change(job: Job, before: datetime, changes: dict[str, list[Any]]) -> None:
    """Describe NextRunOn as the request and settling together moved it; touch UpdatedOn."""
    changes.pop("NextRunOn", None)
    if job.next_run_on != before:
        changes["NextRunOn"] = change_pair("NextRunOn", before, job.next_run_on)
    if changes:
        job.updated_on = utcnow()


def _refuse_while_running(session: Session, job: Job) -> None:
    if repository.is_running(session, job.id):
        raise Conflict("A run of this job is in progress.", code="job_running")


def _out_of_range(attribute: str) -> FieldError:
    return FieldError(attribute, "out_of_range", f"{attribute} is outside the supported dates.")


def _ids(job: Job) -> dict[str, Any]:
    return {
        "partner_id": job.partner_id,
        "company_id": job.company_id,
        "device_id": job.device_id,
        "job_id": job.id,
    }
