"""The duties every server process runs, with their cadence from the settings."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from cleverfox.server.devices.presence import OFFLINE_BATCH, mark_offline_devices
from cleverfox.server.duties import expired_tokens, missed_jobs, stale_logs, storage_gc
from cleverfox.server.duties.runner import Duty
from cleverfox.server.mail.dispatch import mail_duty
from cleverfox.settings import Settings

OFFLINE_DEVICES_LOCK_ID = 0x43460003  # "CF" 3


def server_duties(settings: Settings) -> list[Duty]:
    """Missed jobs (every ``--missed-job-interval`` s), stale Running logs (every minute,
    after ``--running-log-timeout`` h), devices going offline (every check-in interval),
    the mail outbox (``mail.dispatch``), expired request Tokens (every
    ``token_purge_interval`` s) and storage garbage collection (every
    ``storage_gc_interval`` s). Raises ``ValueError`` for unusable mail settings.

    docs/architecture.md lists these by name; a test holds the two to the same list."""
    return [
        Duty(
            "missed-jobs",
            missed_jobs.LOCK_ID,
            settings.missed_job_interval,
            missed_jobs.record_missed_jobs,
            missed_jobs.BATCH,
        ),
        Duty(
            "stale-running-logs",
            stale_logs.LOCK_ID,
            stale_logs.INTERVAL_SECONDS,
            partial(stale_logs.fail_stale_logs, timeout_hours=settings.running_log_timeout),
            stale_logs.BATCH,
        ),
        Duty(
            "offline-devices",
            OFFLINE_DEVICES_LOCK_ID,
            settings.checkin_interval,
            partial(_offline_devices, settings),
            OFFLINE_BATCH,
        ),
        mail_duty(settings),
        Duty(
            "expired-tokens",
            expired_tokens.LOCK_ID,
            settings.token_purge_interval,
            expired_tokens.purge_tokens,
            expired_tokens.BATCH,
        ),
        Duty(
            "storage-gc",
            storage_gc.LOCK_ID,
            settings.storage_gc_interval,
            storage_gc.StorageGc(settings),
            1,
        ),
    ]


def _offline_devices(settings: Settings, session: Session, now: datetime) -> int:
    return mark_offline_devices(session, settings, now=now)
