"""Who may call, checked first on every authenticated request: 401 → 403 → 429.

``require_partner`` and ``require_device`` authenticate the ``Authorization`` header
(``kit.auth``), refuse the wrong kind of key with 403 and take one request from the key's
rate-limit budget. A failed authentication is counted against the client's address, and
an address past ``--auth-failure-limit`` failures is refused with 429 before its key is
even read.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from cleverfox.server.kit.auth import (
    DevicePrincipal,
    PartnerPrincipal,
    Principal,
    api_key_from_header,
)
from cleverfox.server.kit.errors import Forbidden, TooManyRequests, Unauthorized
from cleverfox.server.kit.middleware import add_response_header
from cleverfox.server.kit.services import Services, services_of


async def authenticate(request: Request) -> Principal:
    """401 for a missing, malformed or unknown key, 429 after too many failures from one
    address; every 401 counts as a failure of that address."""
    services = services_of(request)
    client = request.scope.get("client")
    address = client[0] if client else "unknown"
    if services.auth_failures.exhausted(address):
        raise TooManyRequests(60, message="Too many failed authentications from this address.")
    header = request.headers.get("authorization")
    principal = None if header is None else await _owner_of(services, header)
    if principal is None:
        services.auth_failures.take(address)
        raise Unauthorized()
    return principal


async def require_partner(request: Request) -> PartnerPrincipal:
    """The calling partner; device keys are refused with 403 ``partner_plan_required``."""
    principal = await authenticate(request)
    if not isinstance(principal, PartnerPrincipal):
        raise Forbidden(
            "The public API needs a partner's API key on a Partner Plan.",
            code="partner_plan_required",
        )
    _limit(request, principal.key_digest)
    return principal


async def require_device(request: Request) -> DevicePrincipal:
    """The calling agent; partner keys get 403 ``device_key_required``."""
    principal = await authenticate(request)
    if not isinstance(principal, DevicePrincipal):
        raise Forbidden("Agent endpoints need a device's ApiKey.", code="device_key_required")
    if principal.is_inactive:
        raise Forbidden("This device is inactive.", code="device_inactive")
    _limit(request, principal.key_digest)
    return principal


async def _owner_of(services: Services, authorization: str) -> Principal | None:
    """The owner of the key in an ``Authorization`` header: from the process's ``AuthCache``
    (no digest, no thread, no query) when it authenticated this header within the window,
    else from the database; ``None`` for a malformed header or a key nobody owns.

    Keyed by the header as sent, so a hit costs one dict look-up: the digest is an HMAC, and
    the cache exists to skip the work a repeated key would cost."""
    cache = services.auth_cache
    principal: Principal | None = cache.get(authorization)
    if principal is None:
        key = api_key_from_header(authorization)
        if key is None:
            return None
        principal = await run_in_threadpool(resolve_key, services, key)
        if principal is not None and len(authorization) <= _CACHED_HEADER_MAX:
            cache.put(authorization, principal)
    return principal


# A key is at most 200 characters (``api_key_from_header``), so its header is at most ~300;
# a longer one carries a long password the API ignores, and is not worth the memory.
_CACHED_HEADER_MAX = 512


def resolve_key(services: Services, key: str) -> Principal | None:
    """The owner of a key, looked up by its digest under each master of the keyring.

    The current master's digest comes first, so a key stored since the last rotation costs
    the same look-ups as with one master; partner keys issued before a rotation are found
    under the older master they were stored with (``kit.secrets``).
    """
    with services.db.reading() as session:
        for digest in services.secret.digests(key):
            for resolver in services.resolvers:
                principal = resolver(session, digest)
                if principal is not None:
                    return principal
    return None


def _limit(request: Request, key_digest: str) -> None:
    buckets = services_of(request).rate
    if buckets is None:
        return
    decision = buckets.take(key_digest)
    scope = request.scope
    add_response_header(scope, "RateLimit-Limit", str(decision.limit))
    add_response_header(scope, "RateLimit-Remaining", str(decision.remaining))
    add_response_header(scope, "RateLimit-Reset", str(decision.reset_seconds))
    if not decision.allowed:
        raise TooManyRequests(decision.retry_after)
