"""The stale-log duty: a Log left Running past the limit is finished as Failed.

``--running-log-timeout`` hours (default 24) after a run started, a Log still ``Running``
becomes ``Failed`` with the message "The agent stopped reporting.", Job Failed (52, by the
Server) and the device's failed mail. Rows are claimed job first, then log, with
``FOR UPDATE SKIP LOCKED``: an agent finishing the run at that moment wins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cleverfox.server.logs.schemas import RUNNING
from cleverfox.server.runs import repository
from cleverfox.server.runs import service as runs

LOCK_ID = 0x43460002  # "CF" 2
BATCH = 200
INTERVAL_SECONDS = 60


def fail_stale_logs(
    session: Session, now: datetime, *, timeout_hours: float, limit: int = BATCH
) -> int:
    """Finish at most ``limit`` stale Running logs as Failed; returns how many it finished."""
    finished = 0
    started_before = now - timedelta(hours=timeout_hours)
    for log_id, job_id in repository.stale_logs(session, started_before, limit):
        job = repository.lock_job(session, job_id, skip_locked=True)
        log = repository.lock_log(session, log_id, skip_locked=True)
        if log is None or log.job_status != RUNNING:
            continue
        if job is None and repository.job_exists(session, job_id):
            continue  # locked by an agent finishing it right now
        runs.fail_stale(session, log, job, now)
        finished += 1
    return finished
