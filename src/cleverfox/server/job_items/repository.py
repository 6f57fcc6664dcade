"""SQL of job items."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.models import BackupType, Job, JobItem

_PAGING = newest_first(JobItem.id, added_on=JobItem.added_on, updated_on=JobItem.updated_on)


def _visible(partner_id: int) -> Select[Any]:
    return (
        select(JobItem)
        .options(joinedload(JobItem.backup_type))
        .where(JobItem.partner_id == partner_id)
    )


def get_item(
    session: Session, partner_id: int, item_id: int, *, lock: bool = False
) -> JobItem | None:
    stmt = _visible(partner_id).where(JobItem.id == item_id)
    if lock:
        stmt = stmt.with_for_update(of=JobItem)
    return session.scalars(stmt).one_or_none()


def list_items(session: Session, partner_id: int, query: ListQuery) -> tuple[list[JobItem], bool]:
    stmt = _visible(partner_id)
    if (job_id := query.get("JobId")) is not None:
        stmt = stmt.where(JobItem.job_id == job_id)
    if (backup_type_id := query.get("BackupTypeId")) is not None:
        stmt = stmt.where(JobItem.backup_type_id == backup_type_id)
    if (device_id := query.get("DeviceId")) is not None:
        stmt = stmt.where(JobItem.job_id.in_(select(Job.id).where(Job.device_id == device_id)))
    return page_of(session, stmt, _PAGING, query)


def get_job(session: Session, partner_id: int, job_id: int) -> Job | None:
    """The partner's job an item is added to, share-locked so it cannot be deleted meanwhile."""
    stmt = (
        select(Job).where(Job.id == job_id, Job.partner_id == partner_id).with_for_update(read=True)
    )
    return session.scalars(stmt).one_or_none()


def job_of(session: Session, item: JobItem) -> Job:
    return session.scalars(select(Job).where(Job.id == item.job_id)).one()


def active_backup_type(session: Session, backup_type_id: int) -> BackupType | None:
    backup_type = session.get(BackupType, backup_type_id)
    if backup_type is None or backup_type.is_inactive:
        return None
    return backup_type
