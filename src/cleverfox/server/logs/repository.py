"""SQL of logs and log items: the read API's queries and the loads that embed objects.

List queries are shaped for the indexes of ``models.logs``: newest first by id, with the
most selective filter leading. When a DeviceId, JobId or CompanyId filter is present, the
partner condition is written ``partner_id + 0 = …`` on SQLite, so that its planner (which
has no statistics: nothing runs ``ANALYZE``) does not walk the partner's whole
``(partner_id, id)`` index instead of the ``(device_id, id)``, ``(job_id, id)`` or
``(company_id, job_status, id)`` one. PostgreSQL gets the plain condition: its statistics
already steer it to the narrower index, and ``+ 0`` would blind its row estimate (an
expression gets a default 0.5% selectivity), so that it read every matching Log of the
device or company in a bitmap scan and sorted them, instead of walking the index backwards
for one page (docs/benchmarks.md, Logs: 7–16 ms and growing with the history, against
0.1–0.2 ms, at 1,000,000 Logs).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from cleverfox.server.kit.listing import ListQuery, page_of
from cleverfox.server.models import Company, Device, Job, JobItem, Log, LogItem, Plan, Subscription

RUNNING = "Running"
_NARROWING = ("DeviceId", "JobId", "CompanyId")


def get_log(session: Session, partner_id: int, log_id: int) -> Log | None:
    return session.scalars(
        select(Log).where(Log.id == log_id, Log.partner_id == partner_id)
    ).one_or_none()


def list_logs(session: Session, partner_id: int, query: ListQuery) -> tuple[list[Log], bool]:
    """A page of the partner's logs; Running ones only with JobStatus=Running or
    IncludeRunning=true."""
    stmt = select(Log).where(_partner_is(session, Log.partner_id, partner_id, query))
    for name, column in (("DeviceId", Log.device_id), ("JobId", Log.job_id),
                         ("CompanyId", Log.company_id)):
        if (value := query.get(name)) is not None:
            stmt = stmt.where(column == value)
    if (status := query.get("JobStatus")) is not None:
        stmt = stmt.where(Log.job_status == status)
    elif not query.get("IncludeRunning"):
        stmt = stmt.where(Log.job_status != RUNNING)
    if (since := query.get("Since")) is not None:
        stmt = stmt.where(Log.added_on >= since)
    if (until := query.get("Until")) is not None:
        stmt = stmt.where(Log.added_on <= until)
    return page_of(session, stmt, Log.id, query, added_on=Log.added_on, updated_on=Log.updated_on)


def get_log_item(session: Session, partner_id: int, item_id: int) -> LogItem | None:
    return session.scalars(
        select(LogItem).where(LogItem.id == item_id, LogItem.partner_id == partner_id)
    ).one_or_none()


def list_log_items(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[LogItem], bool]:
    stmt = select(LogItem).where(_partner_is(session, LogItem.partner_id, partner_id, query))
    for name, column in (("LogId", LogItem.log_id), ("JobItemId", LogItem.job_item_id),
                         ("JobId", LogItem.job_id), ("DeviceId", LogItem.device_id),
                         ("CompanyId", LogItem.company_id)):
        if (value := query.get(name)) is not None:
            stmt = stmt.where(column == value)
    return page_of(session, stmt, LogItem.id, query, added_on=LogItem.added_on)


def _partner_is(
    session: Session, column: InstrumentedAttribute[int], partner_id: int, query: ListQuery
) -> ColumnElement[bool]:
    """The partner condition; on SQLite kept off the partner's index when a narrower filter
    is present (see the module's docstring)."""
    narrowed = any(query.get(name) is not None for name in (*_NARROWING, "LogId"))
    if narrowed and session.get_bind().dialect.name == "sqlite":
        return (column + 0) == partner_id
    return column == partner_id


def items_of(session: Session, log_ids: Iterable[int]) -> dict[int, list[LogItem]]:
    """The Log Items of the given logs, by log id, oldest first."""
    wanted = sorted(set(log_ids))
    found: dict[int, list[LogItem]] = {log_id: [] for log_id in wanted}
    if wanted:
        stmt = select(LogItem).where(LogItem.log_id.in_(wanted)).order_by(LogItem.id)
        for item in session.scalars(stmt):
            found[item.log_id].append(item)
    return found


def companies(session: Session, partner_id: int, ids: Iterable[int]) -> list[Company]:
    return _load(session, select(Company).options(joinedload(Company.partner),
                                                  joinedload(Company.plan_type)),
                 Company, partner_id, ids)


def devices(session: Session, partner_id: int, ids: Iterable[int]) -> list[Device]:
    stmt = select(Device).options(joinedload(Device.company), joinedload(Device.subscription))
    return _load(session, stmt, Device, partner_id, ids)


def jobs(session: Session, partner_id: int, ids: Iterable[int]) -> list[Job]:
    return _load(session, select(Job), Job, partner_id, ids)


def subscriptions(session: Session, partner_id: int, ids: Iterable[int]) -> list[Subscription]:
    return _load(session, select(Subscription), Subscription, partner_id, ids)


def plans(session: Session, ids: Iterable[int]) -> list[Plan]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = select(Plan).options(joinedload(Plan.plan_type)).where(Plan.id.in_(wanted))
    return list(session.scalars(stmt))


def _load(session: Session, stmt: Select[Any], model: Any, partner_id: int,
          ids: Iterable[int]) -> list[Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    stmt = stmt.where(model.id.in_(wanted), model.partner_id == partner_id)
    return list(session.scalars(stmt).unique())


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
        .where(Job.is_inactive.is_(False), Job.next_run_utc <= now,
               Device.is_inactive.is_(False))
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
