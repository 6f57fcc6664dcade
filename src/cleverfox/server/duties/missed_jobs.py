"""The missed-job duty: a Missed Log for each pending run whose LateAfter window closed.

For every active job on an active device whose ``next_run_utc`` + LateAfter has passed with
no run started, it writes one Missed Log (with its snapshot), Job Missed (53) and the
missed mail, and advances NextRunOn past now — one Log per job even after a long downtime,
not one per occurrence missed. Each job's row is claimed with ``FOR UPDATE SKIP LOCKED``
(an agent starting that run holds the same lock), and checked again once held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cleverfox.server.runs import repository
from cleverfox.server.runs import service as runs

LOCK_ID = 0x43460001  # "CF" 1: pg_try_advisory_xact_lock id of this duty
BATCH = 200


def record_missed_jobs(session: Session, now: datetime, *, limit: int = BATCH) -> int:
    """Record at most ``limit`` missed runs at ``now``; returns how many it recorded."""
    recorded = 0
    for job_id in overdue_job_ids(session, now)[:limit]:
        job = repository.lock_job(session, job_id, skip_locked=True)
        if job is None or not runs.is_missed(job, now):
            continue  # an agent is starting it, or it changed since it was listed
        runs.record_missed(session, job, now)
        recorded += 1
    return recorded


def overdue_job_ids(session: Session, now: datetime) -> list[int]:
    """Ids of the active jobs on active devices whose pending run's window has closed."""
    return [
        job_id
        for job_id, due, late_after in repository.due_jobs(session, now)
        if due is not None and due + timedelta(minutes=late_after) <= now
    ]
