"""Starting and stopping a server process's duties with the app (FastAPI lifespan)."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from cleverfox.server.duties.registry import server_duties
from cleverfox.server.duties.runner import DutyRunner
from cleverfox.server.kit.api import Services


def duties_lifespan(services: Services) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan that runs the server's duties while the app serves, and stops them (after
    the call in progress) on shutdown; start-up objects are frozen out of the collector."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
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
