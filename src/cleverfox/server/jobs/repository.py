"""SQL of jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.logs.schemas import RUNNING
from cleverfox.server.models import Device, Job, JobItem, Log

_PAGING = newest_first(Job.id, added_on=Job.added_on, updated_on=Job.updated_on)


def _with_embedded(stmt: Select[Any]) -> Select[Any]:
    """Load what a Job's wire shape embeds: its Device (with what a Device embeds) and items."""
    return stmt.options(
        joinedload(Job.device).joinedload(Device.company),
        joinedload(Job.device).joinedload(Device.subscription),
        selectinload(Job.items).joinedload(JobItem.backup_type),
    )


def get_job(session: Session, partner_id: int, job_id: int, *, lock: bool = False) -> Job | None:
    """One of the partner's jobs, its row locked for the transaction when ``lock``."""
    stmt = _with_embedded(select(Job)).where(Job.id == job_id, Job.partner_id == partner_id)
    if lock:
        stmt = stmt.with_for_update(of=Job)
    return session.scalars(stmt).unique().one_or_none()


def list_jobs(session: Session, partner_id: int, query: ListQuery) -> tuple[list[Job], bool]:
    stmt = _with_embedded(select(Job)).where(Job.partner_id == partner_id)
    for name, column in (
        ("DeviceId", Job.device_id),
        ("CompanyId", Job.company_id),
        ("IsInactive", Job.is_inactive),
        ("Frequency", Job.frequency),
    ):
        if (value := query.get(name)) is not None:
            stmt = stmt.where(column == value)
    return page_of(session, stmt, _PAGING, query)


def get_device(session: Session, partner_id: int, device_id: int) -> Device | None:
    """The partner's device a job is added to, share-locked so it cannot be deleted meanwhile."""
    stmt = (
        select(Device)
        .options(joinedload(Device.company), joinedload(Device.subscription))
        .where(Device.id == device_id, Device.partner_id == partner_id)
        .with_for_update(of=Device, read=True)
    )
    return session.scalars(stmt).one_or_none()


def is_running(session: Session, job_id: int) -> bool:
    """Whether a run of the job is ``Running`` (at most one is: ``uq_logs_running_job``)."""
    stmt = select(Log.id).where(Log.job_id == job_id, Log.job_status == RUNNING).limit(1)
    return session.scalars(stmt).first() is not None


def jobs_of_device(session: Session, device_id: int) -> list[Job]:
    """The device's jobs, rows locked, oldest first."""
    stmt = select(Job).where(Job.device_id == device_id).order_by(Job.id).with_for_update()
    return list(session.scalars(stmt))
