"""What a request sends besides its key, read in the contract's order of checks.

413 → 415 → query data on POST/PUT 400 → malformed JSON 400 for a body; the body's keys
are matched against a resource's ``WireSchema``, its ``Token`` read (README §3), and the
names the server ignored — unknown attributes or query parameters — named back in a
bounded response header. Path ids that cannot exist are 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from starlette.requests import Request
from starlette.types import Scope

from cleverfox.server.kit.errors import (
    FieldError,
    MalformedJson,
    NotFound,
    PayloadTooLarge,
    QueryParametersNotAllowed,
    UnsupportedMediaType,
    ValidationFailed,
)
from cleverfox.server.kit.middleware import add_response_header
from cleverfox.server.kit.wire import INT64_MAX, Attr, FieldErrorSignal, WireSchema, coerce

MAX_BODY = 1024 * 1024
IGNORED_ATTRIBUTES = "X-CleverFox-Ignored-Attributes"
IGNORED_PARAMETERS = "X-CleverFox-Ignored-Parameters"
# The bound on those headers: proxies and clients refuse headers of tens of kilobytes, and
# a client that cannot read the answer never learns that its write succeeded.
MAX_NAMED = 20
MAX_NAMES_HEADER = 1024
TOKEN = Attr("Token", max_length=50)


@dataclass(frozen=True)
class Body:
    """A JSON body read against a resource's attributes: the known writable values by wire
    name (``raw``), the unknown names (``ignored``) and the request's ``token``."""

    raw: dict[str, Any]
    ignored: tuple[str, ...]
    token: str | None


async def read_body(
    request: Request, schema: WireSchema, *, tokens: bool, limit: int = MAX_BODY
) -> Body:
    """The body of a POST/PUT read against ``schema``, its unknown names reported in
    ``X-CleverFox-Ignored-Attributes``. With ``tokens`` off (agent endpoints) a ``Token`` is
    dropped unread, as README §3 says they ignore it. ``limit``: the largest body, in bytes
    (1 MiB but for the agent's manifest uploads)."""
    raw, ignored = schema.canonicalize(await read_json_object(request, limit=limit))
    value = raw.pop(TOKEN.name, None)
    report_ignored(request.scope, IGNORED_ATTRIBUTES, ignored)
    return Body(raw, tuple(ignored), read_token(value) if tokens else None)


async def read_json_object(request: Request, *, limit: int = MAX_BODY) -> dict[str, Any]:
    """413 → 415 → query data 400 → malformed JSON 400; unwraps ``{"data": {...}}``."""
    check_declared_length(request, limit)
    _check_content_type(request.headers.get("content-type"))
    if request.url.query:
        raise QueryParametersNotAllowed()
    payload = await read_capped(request, limit)
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


def check_declared_length(request: Request, limit: int) -> None:
    """413 when the request's ``Content-Length`` is not a number or exceeds ``limit``."""
    length = request.headers.get("content-length")
    if length is not None and (not _is_ascii_digits(length) or int(length) > limit):
        raise too_large(limit)


async def read_capped(request: Request, limit: int) -> bytes:
    """The whole body, or 413 as soon as it passes ``limit`` bytes (nothing more is read)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large(limit: int) -> PayloadTooLarge:
    if limit == MAX_BODY:
        return PayloadTooLarge()
    return PayloadTooLarge(f"The request body is larger than {limit // (1024 * 1024)} MiB.")


def read_token(value: Any) -> str | None:
    """A request's Token (README §3): a JSON string of at most 50 characters, without NUL;
    ``null`` and ``""`` mean none. Anything else is 400 ``validation_failed`` on Token —
    a number too, unlike other string attributes: a Token identifies a request, and the
    text of a number (``1``, ``1.0``, ``1e0``) is not what the client sent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        error = FieldError(TOKEN.name, "invalid_type", "Token must be a string.")
        raise ValidationFailed([error])
    try:
        token: str = coerce(TOKEN, value)
    except FieldErrorSignal as signal:
        raise ValidationFailed([signal.error]) from None
    return token


def report_ignored(scope: Scope, header: str, names: Sequence[str]) -> None:
    """Name ``names`` (if any) in this response's ``header`` (``names_header``)."""
    if names:
        add_response_header(scope, header, names_header(names))


_HEADER_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in "%,")


def names_header(names: Sequence[str]) -> str:
    """Client-chosen names as one header value: comma-separated, each percent-encoded
    (UTF-8) outside printable ASCII and for ``%`` and ``,`` — a raw control character or
    line break in a header would make the server drop the connection instead of answering.

    Bounded: the first names, at most ``MAX_NAMED`` of them, in at most ``MAX_NAMES_HEADER``
    characters; when some are left out, the last element is ``and N more``, whose spaces
    tell it from a name (a space in a name is always encoded)."""
    named: list[str] = []
    size = 0  # of the names so far, each with the comma after it
    for index, name in enumerate(names[:MAX_NAMED]):
        encoded = quote(name, safe=_HEADER_SAFE)
        after = len(names) - index - 1
        tail = 1 + len(_rest(after)) if after else 0
        if size + len(encoded) + tail > MAX_NAMES_HEADER:
            break
        named.append(encoded)
        size += len(encoded) + 1
    if len(named) < len(names):
        named.append(_rest(len(names) - len(named)))
    return ",".join(named)


def _rest(count: int) -> str:
    return f"and {count} more"


def path_id(text: str) -> int:
    """A path id: a positive 64-bit integer in ASCII digits, else 404 (an id that cannot exist)."""
    if not _is_ascii_digits(text) or len(text) > 19 or not 0 < int(text) <= INT64_MAX:
        raise NotFound()
    return int(text)


def _is_ascii_digits(text: str) -> bool:
    """``0-9`` only: ``str.isdigit`` also says yes to ``³`` (``int`` fails) and ``٣`` (reads 3)."""
    return text.isascii() and text.isdigit()
