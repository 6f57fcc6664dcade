"""The storage GC duty: a garbage collection pass (``server.storage.gc``) every
``--storage-gc-interval`` seconds (default an hour), with ``--storage-gc-grace``.

A pass is many short transactions of its own, not the runner's one: the runner's
transaction holds only the duty's advisory lock on PostgreSQL (on SQLite it takes none),
and the pass takes ``gc_lock`` as ``cleverfox storage gc`` does, so a pass runs once across
processes and alongside no operator's. The database, backend and secret the pass uses are
opened on its first round, so a process that never collects opens none of them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy.orm import Session

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.storage.gc import GarbageCollector, gc_lock_file, run_gc
from cleverfox.settings import Settings
from cleverfox.storage.backends.opening import open_backend

LOCK_ID = 0x43460006  # "CF" 6
log = logging.getLogger("cleverfox.storage.gc")


class StorageGc:
    """The duty's call: one pass at ``now``; returns 0 (a pass is never followed by another
    at once — it already drained every step)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def collector(self) -> GarbageCollector:
        settings = self.settings
        return GarbageCollector(
            Database(settings.resolved_database_url, pool_size=2),
            open_backend(settings),
            load_or_create_secret(settings.secret_key_path),
            grace=timedelta(seconds=settings.storage_gc_grace),
        )

    def __call__(self, _session: Session, now: datetime) -> int:
        report = run_gc(self.collector, gc_lock_file(self.settings), now)
        if report.ran:
            log.info("storage gc: %s", report.as_dict())
        return 0
