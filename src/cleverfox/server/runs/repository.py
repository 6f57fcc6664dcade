"""SQL of a job's runs: the rows agents, the missed-job duty and the stale-log duty lock and
change (ORM). The read API's SQL is ``logs.repository``'s."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.logs.schemas import RUNNING
from cleverfox.server.models import Company, Device, Job, JobItem, Log

# The run lifecycle. Lock order, everywhere: the job's row, then the log's, so an agent
# starting or finishing a run, the missed-job duty and the stale-log duty never deadlock.


def lock_job(
    session: Session, job_id: int, *, device_id: int | None = None, skip_locked: bool = False
) -> Job | None:
    """The job (of ``device_id``, when given) with its device, subscription and plan, its
    row locked; ``None`` when missing — or locked elsewhere, with ``skip_locked``."""
    stmt = (
        select(Job)
        .options(joinedload(Job.device).joinedload(Device.subscription))
        .where(Job.id == job_id)
        .with_for_update(of=Job, skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    if device_id is not None:
        stmt = stmt.where(Job.device_id == device_id)
    return session.scalars(stmt).one_or_none()


def log_of_device(session: Session, device_id: int, log_id: int) -> Log | None:
    return session.scalars(
        select(Log).where(Log.id == log_id, Log.device_id == device_id)
    ).one_or_none()


def lock_log(session: Session, log_id: int, *, skip_locked: bool = False) -> Log | None:
    """The log, its row locked and read afresh (another transaction may have finished it
    since it was first read)."""
    stmt = (
        select(Log)
        .where(Log.id == log_id)
        .with_for_update(skip_locked=skip_locked)
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one_or_none()


def names_of(session: Session, log: Log) -> tuple[str | None, str | None]:
    """The names of the log's company and device, while they exist (the session's own
    objects when it holds them)."""
    company = session.get(Company, log.company_id)
    device = session.get(Device, log.device_id)
    return (company.name if company else None), (device.name if device else None)


def job_exists(session: Session, job_id: int) -> bool:
    return session.scalars(select(Job.id).where(Job.id == job_id)).first() is not None


def job_items_of(session: Session, job_id: int, ids: Iterable[int]) -> dict[int, JobItem]:
    """The job's items among ``ids``, with their backup types, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = (
        select(JobItem)
        .options(joinedload(JobItem.backup_type))
        .where(JobItem.job_id == job_id, JobItem.id.in_(wanted))
    )
    return {item.id: item for item in session.scalars(stmt)}


def due_jobs(session: Session, now: datetime) -> list[tuple[int, datetime | None, int]]:
    """``(id, next_run_utc, late_after)`` of every active job on an active device whose
    pending run is due by ``now`` (``ix_jobs_due``); whose window closed is decided by the
    caller."""
    stmt = (
        select(Job.id, Job.next_run_utc, Job.late_after)
        .join(Device, Device.id == Job.device_id)
        .where(Job.is_inactive.is_(False), Job.next_run_utc <= now, Device.is_inactive.is_(False))
        .order_by(Job.next_run_utc, Job.id)
    )
    return [(int(row[0]), row[1], int(row[2])) for row in session.execute(stmt)]


def stale_logs(session: Session, started_before: datetime, limit: int) -> list[tuple[int, int]]:
    """``(log id, job id)`` of Running logs started before ``started_before``
    (``ix_logs_status_started``), oldest first."""
    stmt = (
        select(Log.id, Log.job_id)
        .where(Log.job_status == RUNNING, Log.started_utc < started_before)
        .order_by(Log.started_utc, Log.id)
        .limit(limit)
    )
    return [(int(row[0]), int(row[1])) for row in session.execute(stmt)]
