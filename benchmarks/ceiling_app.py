"""The benchmark's server app: the real app plus the ceiling, ``GET /bench/ceiling``.

The ceiling answers a constant small JSON through the same ``JsonResponse``, middleware and
server stack as every API route, with no authentication and no database, so the ratio
"GET one company / ceiling" measures what the API itself costs. It exists only in this
factory, which only the benchmarks serve (``cleverfox.server.runner.serve(settings,
app_factory="benchmarks.ceiling_app:create")`` or granian); production code never has it.
"""

from __future__ import annotations

from starlette.types import ASGIApp

from cleverfox.server.app import create_app
from cleverfox.server.kit.proxy import wrap_for_proxies
from cleverfox.server.kit.responses import JsonResponse
from cleverfox.settings import Settings

CEILING_PATH = "/bench/ceiling"
CEILING_BODY = {"status": "ok", "benchmark": "ceiling"}


async def ceiling() -> JsonResponse:
    """A constant small JSON: the fastest answer this server stack can give."""
    return JsonResponse(CEILING_BODY)


def create() -> ASGIApp:
    """The app factory: settings from ``CLEVERFOX_*`` variables, as in production."""
    settings = Settings()
    app = create_app(settings)
    app.add_api_route(CEILING_PATH, ceiling, methods=["GET"], include_in_schema=False)
    # First in the routing table: Starlette tries routes in order, and a ceiling behind every
    # included router would pay for matching them all, flattering the ratio.
    app.router.routes.insert(0, app.router.routes.pop())
    return wrap_for_proxies(app, settings)
