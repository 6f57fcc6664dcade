"""Errors mapped to responses in one place: AppError, routing errors and bugs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from cleverfox.server.kit.errors import (
    AppError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
)
from cleverfox.server.kit.middleware import REQUEST_ID
from cleverfox.server.kit.responses import error_response

log = logging.getLogger("cleverfox.server")


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get(REQUEST_ID)
    return value if isinstance(value, str) else None


def install_handlers(app: FastAPI) -> None:
    """Register the error handlers of the whole API on ``app``."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return error_response(exc, request_id_of(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(_from_http(app, request, exc), request_id_of(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return error_response(BadRequest("The request is not valid."), request_id_of(request))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error (request %s)", request_id_of(request))
        return error_response(AppError(), request_id_of(request))


def _from_http(app: FastAPI, request: Request, exc: StarletteHTTPException) -> AppError:
    if exc.status_code == 405:
        allow = ", ".join(sorted(allowed_methods(app, request)))
        return MethodNotAllowed(headers={"Allow": allow})
    if exc.status_code == 404:
        return NotFound("No such resource.")
    if exc.status_code == 413:
        return PayloadTooLarge()
    return BadRequest(str(exc.detail), code="bad_request")


def allowed_methods(app: FastAPI, request: Request) -> set[str]:
    """Every method any route of this path answers (Starlette names only one route's)."""
    methods: set[str] = set()
    for regex, route_methods in app.state.route_methods:
        if regex.match(request.url.path):
            methods |= route_methods
    return methods


def index_route_methods(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Remember each path's methods, for the ``Allow`` header of a 405."""
    index: list[tuple[re.Pattern[str], set[str]]] = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                index.append((route.path_regex, set(route.methods or ())))
    app.state.route_methods = index
