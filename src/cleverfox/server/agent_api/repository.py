"""SQL of the check-in: the device's jobs as its agent receives them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from cleverfox.server.models import Job, JobItem


def active_jobs(session: Session, device_id: int) -> list[Job]:
    """The device's active jobs with their items and backup types loaded, oldest first."""
    stmt = (
        select(Job)
        .options(selectinload(Job.items).joinedload(JobItem.backup_type))
        .where(Job.device_id == device_id, Job.is_inactive.is_(False))
        .order_by(Job.id)
    )
    return list(session.scalars(stmt))


def run_now_job_ids(session: Session, device_id: int) -> list[int]:
    """Ids of the device's active jobs with a run-now request waiting, oldest first."""
    stmt = (
        select(Job.id)
        .where(
            Job.device_id == device_id, Job.is_inactive.is_(False), Job.run_now_requested.is_(True)
        )
        .order_by(Job.id)
    )
    return list(session.scalars(stmt))
