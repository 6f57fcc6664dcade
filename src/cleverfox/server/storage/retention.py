"""Deleting backup files: retention of cloud copies, and the deletes of a job, device or company.

Deleting a backup file is one cheap step in the caller's unit of work: its manifest row gets
``deleted_on`` and Event 62 (Backup File Deleted, with the Log and Log Item ids) is written
beside it. From that moment downloads answer 404 ``backup_file_not_available``; the Log Item
keeps its file attributes (they describe what the run made). The rest is garbage
collection's (``storage.gc``): it reads the manifest blob, releases its chunks' references
(``refs_released_on``) and, after the grace period, deletes the blob. So a DELETE request or a
run's finish never reads the backend nor holds its transaction for a large manifest, and a
crash anywhere leaves either a live file or a deleted one whose release is still pending.

Retention (``apply_retention``): after a run of a job completes, only the newest
CloudKeepLast (the Log's snapshot) completed runs of the job keep their files. Every file of
an older run goes — a failed run's too, once older than the oldest kept completed run; a
failed run newer than that keeps its files, and a failed finish deletes nothing, so a failed
run never costs a good one. CloudKeepLast 0 keeps none: the job keeps local copies only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.logs.schemas import COMPLETED
from cleverfox.server.models import Log, StorageManifest


def apply_retention(session: Session, log: Log, now: datetime) -> int:
    """Delete the files of the job's runs older than its newest CloudKeepLast completed ones.

    Call it when ``log`` has just finished (its job's row locked, as the finish holds it);
    it does nothing unless ``log`` Completed. Returns how many backup files it deleted.
    """
    if log.job_status != COMPLETED:
        return 0
    session.flush()  # the finish's own status must be what the count of completed runs sees
    keep = log.cloud_keep_last or 0
    oldest_kept = _oldest_kept_completed(session, log, keep) if keep else None
    if keep and oldest_kept is None:
        return 0  # fewer completed runs than CloudKeepLast: every one keeps its files
    older = (
        StorageManifest.log_id < oldest_kept if oldest_kept else StorageManifest.log_id <= log.id
    )
    return release_files(session, (StorageManifest.job_id == log.job_id, older), Actor.SERVER, now)


def release_job_files(session: Session, job_id: int, actor: Actor, now: datetime) -> int:
    """Delete every backup file of job ``job_id`` (the job is being deleted)."""
    return release_files(session, (StorageManifest.job_id == job_id,), actor, now)


def release_device_files(session: Session, device_id: int, actor: Actor, now: datetime) -> int:
    """Delete every backup file of device ``device_id`` (the device is being deleted)."""
    return release_files(session, (StorageManifest.device_id == device_id,), actor, now)


def release_company_files(session: Session, company_id: int, actor: Actor, now: datetime) -> int:
    """Delete every backup file of company ``company_id`` (the company is being deleted)."""
    return release_files(session, (StorageManifest.company_id == company_id,), actor, now)


def release_files(
    session: Session, where: tuple[ColumnElement[bool], ...], actor: Actor, now: datetime
) -> int:
    """Mark the live manifests matching ``where`` deleted, one Event 62 each; how many."""
    rows = session.execute(
        select(StorageManifest, Log.partner_id)
        .join(Log, Log.id == StorageManifest.log_id)
        .where(StorageManifest.deleted_on.is_(None), *where)
        .order_by(StorageManifest.id)
        .with_for_update(of=StorageManifest)
    ).all()
    for manifest, partner_id in rows:
        record_event(
            session,
            EventKind.BACKUP_FILE_DELETED,
            actor=actor,
            partner_id=partner_id,
            company_id=manifest.company_id,
            device_id=manifest.device_id,
            job_id=manifest.job_id,
            log_id=manifest.log_id,
            log_item_id=manifest.log_item_id,
        )
    ids = [manifest.id for manifest, _ in rows]
    if ids:
        session.execute(
            update(StorageManifest)
            .where(StorageManifest.id.in_(ids), StorageManifest.deleted_on.is_(None))
            .values(deleted_on=now)
        )
    return len(ids)


def _oldest_kept_completed(session: Session, log: Log, keep: int) -> int | None:
    """The id of the ``keep``-th newest completed Log of the job (ids follow start order)."""
    return session.scalar(
        select(Log.id)
        .where(Log.job_id == log.job_id, Log.job_status == COMPLETED, Log.id <= log.id)
        .order_by(Log.id.desc())
        .offset(keep - 1)
        .limit(1)
    )
