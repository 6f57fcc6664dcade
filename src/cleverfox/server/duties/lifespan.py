"""Starting and stopping a server process's duties with the app (FastAPI lifespan)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.concurrency import run_in_threadpool

from cleverfox.server.duties.registry import server_duties
from cleverfox.server.duties.runner import DutyRunner
from cleverfox.server.kit.api import Services


def duties_lifespan(services: Services) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A lifespan that runs the server's duties while the app serves, and stops them (after
    the call in progress) on shutdown."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        runner = DutyRunner(services.db, server_duties(services.settings))
        runner.start()
        try:
            yield
        finally:
            await run_in_threadpool(runner.stop)
            await services.hot.close()

    return lifespan
