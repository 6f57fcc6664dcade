"""Starting and stopping a server process's duties with the app (FastAPI lifespan)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from anyio.to_thread import current_default_thread_limiter
from starlette.concurrency import run_in_threadpool

from cleverfox.server.duties.registry import server_duties
from cleverfox.server.duties.runner import DutyRunner
from cleverfox.server.kit.services import Services


def duties_lifespan(services: Services) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan that runs the server's duties while the app serves, and stops them (after
    the call in progress) on shutdown; start-up objects are frozen out of the collector, and
    the worker threads are sized for the database (``worker_threads``)."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        current_default_thread_limiter().total_tokens = worker_threads(services)
        runner = DutyRunner(services.db, server_duties(services.settings))
        runner.start()
        # Everything built so far lives as long as the process: out of the collector's sight,
        # a full collection walks only what requests made — ~5 ms instead of ~60 ms here,
        # the worst of a Logs page's p99 (docs/benchmarks.md, Findings: Logs).
        gc.freeze()
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)
            await services.hot.close()

    return lifespan


def worker_threads(services: Services) -> int:
    """How many units of work a process runs at once in worker threads.

    On SQLite, two: the driver lets go of the GIL and takes it back for every row it steps,
    so many threads mostly hand the GIL to each other (a page of 100 companies cost 3.5× the
    CPU at 32 clients as at 1), and writers queued on SQLite's lock wait in its busy handler,
    which sleeps in steps of up to 100 ms (POST p99 1.1–1.5 s at 8 and 32 clients). Queued
    in the process instead, in arrival order: docs/benchmarks.md. On PostgreSQL a thread
    mostly waits for the server, so anyio's default (40) stays.
    """
    configured = services.settings.worker_threads
    if configured is not None:
        return configured
    return SQLITE_WORKER_THREADS if services.db.sqlite else POSTGRES_WORKER_THREADS


SQLITE_WORKER_THREADS = 2
POSTGRES_WORKER_THREADS = 40  # anyio's default
