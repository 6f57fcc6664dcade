"""What goes on the wire and what comes back: names, values, envelopes, errors.

Sans-IO: nothing here sends a request, so the sync and async clients share all of it.
"""

from __future__ import annotations

import email.utils
import functools
import json
import ssl
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar, cast

import httpx
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_pascal

from cleverfox.client._model_base import CleverFoxModel
from cleverfox.client._tls import PinnedCertificateError
from cleverfox.client.errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    Conflict,
    DuplicateRequest,
    FieldError,
    IgnoredAttributesWarning,
    IgnoredParameters,
    NotFound,
    PartnerPlanRequired,
    PermissionDenied,
    PinMismatch,
    RateLimited,
    RequestTimeout,
    ServerError,
    TLSError,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
)

M = TypeVar("M", bound=CleverFoxModel)

TOKEN_MAX_LENGTH = 50


# ---- requests ----------------------------------------------------------------------------


def new_token() -> str:
    """A fresh duplicate-prevention Token: 32 hex digits of a random UUID."""
    return uuid.uuid4().hex


def check_token(token: str) -> str:
    """A caller's Token, refused unless 1 to 50 characters (the contract's limit)."""
    if not 0 < len(token) <= TOKEN_MAX_LENGTH:
        raise ValueError(f"a Token has 1 to {TOKEN_MAX_LENGTH} characters")
    return token


def with_token(body: dict[str, object], token: str | None) -> dict[str, object]:
    """``body`` with its Token: the caller's (checked), else a fresh one."""
    body["Token"] = check_token(token) if token is not None else new_token()
    return body


def wire_names(*typed_dicts: type) -> dict[str, str]:
    """snake_case keys of TypedDicts → their PascalCase wire names."""
    names: dict[str, str] = {}
    for typed_dict in typed_dicts:
        keys = cast(frozenset[str], getattr(typed_dict, "__required_keys__", frozenset()))
        keys |= cast(frozenset[str], getattr(typed_dict, "__optional_keys__", frozenset()))
        names.update({key: to_pascal(key) for key in keys})
    return names


def format_datetime(value: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.fff``; with ``Z`` for UTC or ``±HH:MM`` when aware."""
    if value.tzinfo is None:
        return value.isoformat(timespec="milliseconds")
    if value.utcoffset() == timedelta(0):
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return value.isoformat(timespec="milliseconds")


def encode_value(value: object) -> object:
    """A body value as JSON: enums by value, date-times formatted, lines joined by CRLF."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return "\r\n".join(str(line) for line in value)
    return value


def encode_body(
    attributes: Mapping[str, object],
    names: Mapping[str, str],
    extra: Mapping[str, object] | None,
    *,
    where: str,
) -> dict[str, object]:
    """The JSON body of a write: known snake_case names mapped, ``extra`` sent verbatim.

    Raises TypeError for a name the resource does not have (as a function would).
    """
    body: dict[str, object] = {}
    for name, value in attributes.items():
        wire = names.get(name)
        if wire is None:
            raise TypeError(f"{where} got an unexpected attribute {name!r}")
        body[wire] = encode_value(value)
    for wire, value in (extra or {}).items():
        body[wire] = encode_value(value)
    return body


def encode_filter(value: object, now: Callable[[], datetime]) -> str | None:
    """A query value: booleans as true/false, date-times in UTC with ``Z``, a timedelta as
    that long before now; None leaves the filter out."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        value = now() - value
    if isinstance(value, datetime):
        return format_datetime(value.astimezone(UTC) if value.tzinfo else value)
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def encode_filters(
    filters: Mapping[str, object],
    names: Mapping[str, str],
    extra: Mapping[str, object] | None,
    *,
    where: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, str]:
    """Query parameters of a listing; TypeError for a filter the resource does not take."""
    wired: list[tuple[str, object]] = []
    for name, value in filters.items():
        wire = names.get(name)
        if wire is None:
            raise TypeError(f"{where} got an unexpected filter {name!r}")
        wired.append((wire, value))
    wired.extend((extra or {}).items())
    params: dict[str, str] = {}
    for wire, value in wired:
        text = encode_filter(value, now)
        if text is not None:
            params[wire] = text
    return params


# ---- responses ---------------------------------------------------------------------------


class _Element(BaseModel, Generic[M]):
    data: M


class _Page(BaseModel, Generic[M]):
    data: list[M]
    page_no: int | None = None
    page_size: int | None = None
    has_more: bool | None = None


@dataclass(frozen=True)
class Page(Generic[M]):
    """One decoded page of a collection; ``has_more`` None when the server did not say."""

    items: list[M]
    has_more: bool | None
    status: int
    request_id: str | None


@functools.cache
def _envelope(kind: type[BaseModel], model: type[CleverFoxModel]) -> type[BaseModel]:
    return cast(type[BaseModel], kind.__class_getitem__(model))


def request_id(response: httpx.Response) -> str | None:
    """The response's ``X-Request-Id``."""
    value: str | None = response.headers.get("x-request-id")
    return value


def _decode(response: httpx.Response, envelope: type[BaseModel]) -> Any:
    try:
        return envelope.model_validate_json(response.content)
    except ValidationError as exc:
        raise UnexpectedResponse(
            f"the body is not the contract's envelope: {exc.errors(include_input=False)[:3]}",
            status=response.status_code,
            request_id=request_id(response),
        ) from exc


def decode_element(response: httpx.Response, model: type[M]) -> M:
    """The model in a ``{"data": {...}}`` answer."""
    return cast(M, _decode(response, _envelope(_Element, model)).data)


def decode_page(response: httpx.Response, model: type[M]) -> Page[M]:
    """The models and ``has_more`` of a ``{"data": [...], …}`` answer."""
    page = _decode(response, _envelope(_Page, model))
    return Page(page.data, page.has_more, response.status_code, request_id(response))


def _header_list(response: httpx.Response, name: str) -> list[str]:
    return [part.strip() for part in response.headers.get(name, "").split(",") if part.strip()]


def check_ignored_parameters(response: httpx.Response) -> None:
    """Raise IgnoredParameters when the server says it ignored query parameters."""
    ignored = _header_list(response, "x-cleverfox-ignored-parameters")
    if ignored:
        raise IgnoredParameters(ignored)


def warn_ignored_attributes(response: httpx.Response) -> None:
    """Warn when a write succeeded but the server ignored attributes it was sent."""
    ignored = _header_list(response, "x-cleverfox-ignored-attributes")
    if ignored:
        warnings.warn(
            "the server ignored the attributes " + ", ".join(ignored),
            IgnoredAttributesWarning,
            stacklevel=5,  # the caller of create/update/an action
        )


# ---- errors ------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def _error_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    429: "rate_limited",
}


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error answer, chosen by status and ``code``."""
    status = response.status_code
    body = _error_object(response)
    code = str(body.get("code") or _DEFAULT_CODES.get(status) or f"http_{status}")
    message = str(body.get("message") or response.reason_phrase or f"HTTP {status}")
    rid = request_id(response) or (str(body["request_id"]) if body.get("request_id") else None)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    common: dict[str, Any] = {"request_id": rid, "body": body}
    if status == 409 and code == "duplicate_request":
        resource, ident = body.get("resource"), body.get("id")
        return DuplicateRequest(
            status,
            code,
            message,
            resource=str(resource) if resource is not None else None,
            id=ident if isinstance(ident, int | str) else None,
            **common,
        )
    if status == 429:
        return RateLimited(status, code, message, retry_after=retry_after, **common)
    if status >= 500:
        return ServerError(status, code, message, retry_after=retry_after, **common)
    errors = [
        FieldError(str(e.get("attribute", "")), str(e.get("code", "")), str(e.get("message", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    return _error_class(status, code)(status, code, message, errors=errors, **common)


def _error_class(status: int, code: str) -> type[APIError]:
    if status == 400:
        return ValidationFailed if code == "validation_failed" else BadRequest
    if status == 403:
        return PartnerPlanRequired if code == "partner_plan_required" else PermissionDenied
    by_status: dict[int, type[APIError]] = {
        401: AuthenticationError,
        404: NotFound,
        409: Conflict,
    }
    return by_status.get(status, APIError)


def _find_cause(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_TRANSIENT = (
    *_NOT_SENT,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)


def transport_error_from(exc: httpx.TransportError) -> TransportError:
    """Our exception for an httpx transport failure (the original becomes its cause)."""
    if isinstance(exc, httpx.ConnectError):
        pinned = _find_cause(exc, PinnedCertificateError)
        if isinstance(pinned, PinnedCertificateError):
            return PinMismatch(pinned.expected, pinned.actual)
        refused = _find_cause(exc, ssl.SSLError)
        if refused is not None:
            return TLSError(f"TLS handshake failed: {refused}")
    sent = not isinstance(exc, _NOT_SENT)
    transient = isinstance(exc, _TRANSIENT)
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(text, request_sent=sent, retryable=transient)
    return TransportError(text, request_sent=sent, retryable=transient)


@dataclass(frozen=True)
class Call:
    """One API request. ``replayable``: may be re-sent after a failure that left its fate
    unknown (GETs, and writes carrying a Token, which the server applies at most once)."""

    method: str
    url: str
    params: Mapping[str, str] | None = None
    body: Mapping[str, object] | None = None
    replayable: bool = True
