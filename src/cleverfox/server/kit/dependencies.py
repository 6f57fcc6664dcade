"""The FastAPI dependencies endpoints declare, in the contract's order of checks.

route 404/405 → 401 → 403 → 429 (``kit.access``) → 413 → 415 → query data on POST/PUT 400 →
malformed JSON 400 (``kit.inputs``) → object not found 404 → validation 400 → conflict 409
(the service, run by ``kit.unit_of_work``). A body or query dependency depends on the
authentication itself, so its checks follow the key's whatever order FastAPI solves an
endpoint's parameters in.

Endpoints name them through aliases: ``work: PartnerWork``, ``body: Body = body_of(SCHEMA)``,
``query: ListQuery = query_of(FILTERS)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

from fastapi import Depends
from starlette.requests import Request

from cleverfox.server.kit.access import require_partner
from cleverfox.server.kit.auth import PartnerPrincipal, Principal
from cleverfox.server.kit.inputs import (
    IGNORED_PARAMETERS,
    MAX_BODY,
    Body,
    read_body,
    report_ignored,
)
from cleverfox.server.kit.listing import Filter, ListQuery, parse_list_query
from cleverfox.server.kit.openapi import WIRE_SCHEMA
from cleverfox.server.kit.services import services_of
from cleverfox.server.kit.unit_of_work import UnitOfWork
from cleverfox.server.kit.wire import WireSchema


async def partner_work(
    request: Request, partner: PartnerPrincipal = Depends(require_partner)
) -> UnitOfWork:
    """The unit of work of an authenticated partner's request."""
    return UnitOfWork(services_of(request), partner.partner_id)


PartnerWork = Annotated[UnitOfWork, Depends(partner_work)]


async def partner_work_of(request: Request) -> UnitOfWork:
    """``partner_work`` called by the endpoint itself: the same checks in the same order,
    without FastAPI's dependency solving (a few tens of microseconds a level). For the
    hottest GETs, whose endpoints take the ``Request`` and call this first."""
    partner = await require_partner(request)
    return UnitOfWork(services_of(request), partner.partner_id)


def body_of(
    schema: WireSchema,
    auth: Callable[[Request], Awaitable[Principal]] = require_partner,
    *,
    limit: int = MAX_BODY,
) -> Any:
    """A dependency reading the body of a POST/PUT against ``schema`` (after ``auth``), of
    at most ``limit`` bytes."""

    async def dependency(request: Request, principal: Principal = Depends(auth)) -> Body:
        # README §3: agent endpoints (device keys) ignore Tokens.
        tokens = isinstance(principal, PartnerPrincipal)
        return await read_body(request, schema, tokens=tokens, limit=limit)

    setattr(dependency, WIRE_SCHEMA, schema)
    return Depends(dependency)


def query_of(filters: Sequence[Filter]) -> Any:
    """A dependency reading a collection's query string (after partner auth)."""

    async def dependency(
        request: Request, _principal: PartnerPrincipal = Depends(require_partner)
    ) -> ListQuery:
        query = parse_list_query(request.query_params.multi_items(), filters)
        report_ignored(request.scope, IGNORED_PARAMETERS, query.ignored)
        return query

    return Depends(dependency)
