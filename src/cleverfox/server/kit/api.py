"""The request pipeline shared by every endpoint, in the contract's order of checks.

route 404/405 → 401 → 403 → 429 → 413 → 415 → query data on POST/PUT 400 → malformed JSON
400 → object not found 404 → validation 400 → conflict 409. Authentication, rate limits and
body reading are FastAPI dependencies; the unit of work runs in the (sync) endpoint through
``Api.read`` / ``Api.write`` so a failed commit is never answered as a success.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import orjson
from fastapi import Depends, Request
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from cleverfox.server.kit.auth import (
    AuthCache,
    DevicePrincipal,
    KeyResolver,
    PartnerPrincipal,
    Principal,
    api_key_from_header,
)
from cleverfox.server.kit.conflicts import translate_integrity_error
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.errors import (
    AppError,
    Forbidden,
    MalformedJson,
    NotFound,
    PayloadTooLarge,
    QueryParametersNotAllowed,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
)
from cleverfox.server.kit.hot import HotReads
from cleverfox.server.kit.listing import Filter, ListQuery, parse_list_query
from cleverfox.server.kit.middleware import add_response_header
from cleverfox.server.kit.ratelimit import TokenBuckets
from cleverfox.server.kit.responses import JsonResponse, collection, element
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.tokens import check_token, record_token
from cleverfox.server.kit.wire import INT64_MAX, WireSchema
from cleverfox.settings import Settings

WIRE_SCHEMA = "cleverfox_wire_schema"

R = TypeVar("R")
Present = Callable[[Any], dict[str, Any] | None]
"""Writes a model on the wire (``None`` only for an absent embedded object)."""
MAX_BODY = 1024 * 1024
IGNORED_ATTRIBUTES = "X-CleverFox-Ignored-Attributes"
IGNORED_PARAMETERS = "X-CleverFox-Ignored-Parameters"


@dataclass
class Services:
    """What a server process shares between requests; built once by the app factory."""

    settings: Settings
    db: Database
    secret: ServerSecret
    resolvers: Sequence[KeyResolver]
    rate: TokenBuckets | None
    auth_failures: TokenBuckets
    extras: dict[str, Any] = field(default_factory=dict)
    auth_cache: AuthCache = field(init=False)
    hot: HotReads = field(init=False)

    def __post_init__(self) -> None:
        self.auth_cache = AuthCache(self.settings.auth_cache_seconds)
        self.hot = HotReads(self.db)


def services_of(request: Request) -> Services:
    # By item: ``State`` answers attribute access only after a failed look-up (~1 µs more).
    services: Services = request.app.state["services"]
    return services


async def authenticate(request: Request) -> Principal:
    """401 for a missing or unknown key, 429 after too many failures from one address."""
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
        principal = await run_in_threadpool(_resolve, services, key)
        if principal is not None and len(authorization) <= _CACHED_HEADER_MAX:
            cache.put(authorization, principal)
    return principal


# A key is at most 200 characters (``api_key_from_header``), so its header is at most ~300;
# a longer one carries a long password the API ignores, and is not worth the memory.
_CACHED_HEADER_MAX = 512


def _resolve(services: Services, key: str) -> Principal | None:
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


@dataclass(frozen=True)
class Body:
    """A JSON body read against a resource's attributes."""

    raw: dict[str, Any]
    ignored: tuple[str, ...]
    token: str | None


async def read_json_object(request: Request) -> dict[str, Any]:
    """413 → 415 → query data 400 → malformed JSON 400; unwraps ``{"data": {...}}``."""
    length = request.headers.get("content-length")
    if length is not None and (not _is_ascii_digits(length) or int(length) > MAX_BODY):
        raise PayloadTooLarge()
    _check_content_type(request.headers.get("content-type"))
    if request.url.query:
        raise QueryParametersNotAllowed()
    payload = await _read_capped(request)
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise MalformedJson() from None
    if not isinstance(parsed, dict):
        raise MalformedJson()
    if len(parsed) == 1:
        ((key, value),) = parsed.items()
        if key.casefold() == "data" and isinstance(value, dict):
            parsed = value
    return parsed


def _check_content_type(value: str | None) -> None:
    media = (value or "").split(";")[0].strip().lower()
    if media != "application/json":
        raise UnsupportedMediaType()


async def _read_capped(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise PayloadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def body_of(
    schema: WireSchema,
    auth: Callable[[Request], Awaitable[Principal]] = require_partner,
) -> Any:
    """A dependency reading the body of a POST/PUT against ``schema`` (after ``auth``)."""

    async def dependency(request: Request, _principal: Principal = Depends(auth)) -> Body:
        raw, ignored = schema.canonicalize(await read_json_object(request))
        token = raw.pop("Token", None)
        if ignored:
            add_response_header(request.scope, IGNORED_ATTRIBUTES, names_header(ignored))
        return Body(raw, tuple(ignored), _read_token(token))

    setattr(dependency, WIRE_SCHEMA, schema)
    return Depends(dependency)


_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "%,")


def names_header(names: Iterable[str]) -> str:
    """Client-chosen names as one header value: comma-separated, each percent-encoded
    (UTF-8) outside printable ASCII and for ``%`` and ``,`` — a raw control character or
    line break in a header would make the server drop the connection instead of answering."""
    return ",".join(quote(name, safe=_HEADER_SAFE) for name in names)


def _read_token(value: Any) -> str | None:
    if value is None or value == "":
        return None
    text = str(value)
    if "\x00" in text:
        return None
    return text[:50] if len(text) <= 50 else _too_long_token()


def _too_long_token() -> str:
    from cleverfox.server.kit.errors import FieldError, ValidationFailed

    raise ValidationFailed(
        [FieldError("Token", "too_long", "Token must be at most 50 characters.")]
    )


def query_of(filters: Sequence[Filter]) -> Any:
    """A dependency reading a collection's query string (after partner auth)."""

    async def dependency(
        request: Request, _principal: PartnerPrincipal = Depends(require_partner)
    ) -> ListQuery:
        query = parse_list_query(request.query_params.multi_items(), filters)
        if query.ignored:
            add_response_header(request.scope, IGNORED_PARAMETERS, names_header(query.ignored))
        return query

    return Depends(dependency)


def path_id(text: str) -> int:
    """A path id: a positive 64-bit integer in ASCII digits, else 404 (an id that cannot exist)."""
    if not _is_ascii_digits(text) or len(text) > 19 or not 0 < int(text) <= INT64_MAX:
        raise NotFound()
    return int(text)


def _is_ascii_digits(text: str) -> bool:
    """``0-9`` only: ``str.isdigit`` also says yes to ``³`` (``int`` fails) and ``٣`` (reads 3)."""
    return text.isascii() and text.isdigit()


class Api:
    """The unit of work of one request: ``read`` or ``write`` with one transaction."""

    def __init__(self, services: Services, partner_id: int, actor: str) -> None:
        self.services = services
        self.partner_id = partner_id
        self.actor = actor

    def read(self, action: Callable[[Session], R]) -> R:
        with self.services.db.reading() as session:
            return action(session)

    def get(self, action: Callable[[Session], Any], present: Present) -> JsonResponse:
        with self.services.db.reading() as session:
            return element(_present(present, action(session)))

    def list(
        self,
        query: ListQuery,
        action: Callable[[Session, ListQuery], tuple[list[Any], bool]],
        present: Present,
    ) -> JsonResponse:
        with self.services.db.reading() as session:
            rows, has_more = action(session, query)
            data = [_present(present, row) for row in rows]
        return collection(data, page_no=query.page_no, page_size=query.page_size, has_more=has_more)

    async def fetch(
        self, action: Callable[[HotReads], Awaitable[Any]], present: Present
    ) -> JsonResponse:
        """``get`` for the hottest reads (``kit.hot``), from an ``async`` endpoint: ``action``
        reads with ``HotReads.fetch_one``, without leaving the event loop."""
        return element(_present(present, await action(self.services.hot)))

    def get_rows(self, action: Callable[[Connection], Any], present: Present) -> JsonResponse:
        """``get`` on a Core connection (``Database.connection_reading``): for hot read paths
        answered by one statement that selects columns, presented from its row."""
        with self.services.db.connection_reading() as connection:
            return element(_present(present, action(connection)))

    def list_rows(
        self,
        query: ListQuery,
        action: Callable[[Connection, ListQuery], tuple[Sequence[Any], bool]],
        present: Present,
        *,
        snapshot: bool = False,
    ) -> JsonResponse:
        """``list`` on a Core connection, like ``get_rows``; with ``snapshot``, ``action`` may
        run several statements (``Database.connection_snapshot``)."""
        db = self.services.db
        reading = db.connection_snapshot() if snapshot else db.connection_reading()
        with reading as connection:
            rows, has_more = action(connection, query)
        data = [_present(present, row) for row in rows]
        return collection(data, page_no=query.page_no, page_size=query.page_size, has_more=has_more)

    def write(
        self,
        body: Body | None,
        resource: tuple[str, str],
        action: Callable[[Session], Any],
        present: Present,
        *,
        status: int = 200,
    ) -> JsonResponse:
        """Run ``action`` in one transaction with Token handling; 201 adds ``Location``."""
        collection_name, id_attr = resource
        token = body.token if body else None
        try:
            with self.services.db.writing() as session:
                if token:
                    check_token(session, self.partner_id, token)
                result = action(session)
                session.flush()
                data = _present(present, result)
                if token:
                    record_token(
                        session, self.partner_id, token, collection_name, data.get(id_attr)
                    )
        except IntegrityError as exc:
            raise _conflict_or_bug(exc) from exc
        headers = {}
        if status == 201:
            headers["Location"] = f"/api/{collection_name}/{data[id_attr]}"
        return element(data, status=status, headers=headers)


def _present(present: Present, obj: Any) -> dict[str, Any]:
    data = present(obj)
    if data is None:
        raise NotFound()
    return data


def _conflict_or_bug(exc: IntegrityError) -> AppError | IntegrityError:
    return translate_integrity_error(exc) or exc


async def partner_api(
    request: Request, partner: PartnerPrincipal = Depends(require_partner)
) -> Api:
    return Api(services_of(request), partner.partner_id, "Api")


async def partner_api_of(request: Request) -> Api:
    """``partner_api`` called by the endpoint itself: the same checks in the same order,
    without FastAPI's dependency solving (a few tens of microseconds a level). For the
    hottest GETs, whose endpoints take the ``Request`` and call this first."""
    partner = await require_partner(request)
    return Api(services_of(request), partner.partner_id, "Api")
