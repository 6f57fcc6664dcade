"""A stand-in for ``cleverfox.server.app`` that the runner's integration tests serve.

Importable as ``standin_app`` when this directory is on ``PYTHONPATH``; its factories take
no arguments and read ``Settings()`` from the environment, as the real one does.
"""

from __future__ import annotations

import asyncio
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from cleverfox.server.runner import wrap_for_proxies
from cleverfox.settings import Settings

SLOW_MARKER = "slow-request-started"


def create_app_from_env() -> ASGIApp:
    """The stand-in app, wrapped for proxies as the runner requires."""
    settings = Settings()
    return wrap_for_proxies(_app(settings), settings)


def create_unwrapped_app_from_env() -> ASGIApp:
    """A faulty factory that forgets ``wrap_for_proxies``."""
    return _app(Settings())


def _app(settings: Settings) -> Starlette:
    app = Starlette(routes=[Route("/ping", ping), Route("/slow", slow), Route("/whoami", whoami)])
    app.state.settings = settings
    return app


async def ping(request: Request) -> JSONResponse:
    """Which process answered, and settings as that process read them from the environment."""
    settings: Settings = request.app.state.settings
    return JSONResponse(
        {
            "pid": os.getpid(),
            "data_dir": str(settings.data_dir),
            "rate_limit": list(settings.rate_limit),
            "trusted_proxies": [str(n) for n in settings.trusted_proxies],
        }
    )


async def slow(request: Request) -> JSONResponse:
    """Leave a marker in the data directory, then take ``seconds`` to answer."""
    settings: Settings = request.app.state.settings
    seconds = float(request.query_params.get("seconds", "2"))
    (settings.data_dir / SLOW_MARKER).touch()
    await asyncio.sleep(seconds)
    return JSONResponse({"slept": seconds})


async def whoami(request: Request) -> JSONResponse:
    """The client address and scheme the app was given."""
    client = request.scope["client"]
    return JSONResponse({"client": [client[0], client[1]], "scheme": request.url.scheme})
