"""Every exception the SDK raises, all below :class:`CleverFoxError`.

::

    CleverFoxError
    ├── TransportError            no HTTP answer was read: connect, timeout, dropped connection
    │   ├── RequestTimeout
    │   └── TLSError              the handshake failed or the certificate was refused
    │       └── PinMismatch       the certificate's SHA-256 is not the pinned one
    ├── UnexpectedResponse        a 2xx answer that is not shaped as the contract says
    ├── IgnoredParameters         the server ignored a filter, so a listing would be unfiltered
    └── APIError                  the server answered with an error (status, code, request_id)
        ├── BadRequest            400
        │   └── ValidationFailed  400 validation_failed: ``errors`` names every attribute
        ├── AuthenticationError   401
        ├── PermissionDenied      403
        │   └── PartnerPlanRequired   403 partner_plan_required
        ├── NotFound              404
        ├── Conflict              409, ``code`` says which rule
        │   └── DuplicateRequest  409 duplicate_request: ``resource`` and ``id`` of the original
        ├── RateLimited           429, ``retry_after`` seconds
        └── ServerError           5xx

Warnings (not errors): :class:`IgnoredAttributesWarning` when a create or update succeeded
but the server ignored attributes it was sent (``X-CleverFox-Ignored-Attributes``).

A status without a class of its own (405, 413, 415, another 4xx) is a plain :class:`APIError`.
Subclasses sit under the class a caller would catch for the same status, so ``except
PermissionDenied`` also catches :class:`PartnerPlanRequired` and ``except Conflict`` also
catches :class:`DuplicateRequest`. Every :class:`APIError` carries the response's
``X-Request-Id`` so a failure can be found in the server's log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadRequest",
    "CleverFoxError",
    "Conflict",
    "DuplicateRequest",
    "FieldError",
    "IgnoredAttributesWarning",
    "IgnoredParameters",
    "NotFound",
    "PartnerPlanRequired",
    "PermissionDenied",
    "PinMismatch",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "TLSError",
    "TransportError",
    "UnexpectedResponse",
    "ValidationFailed",
]


class CleverFoxError(Exception):
    """Base of every exception the SDK raises on purpose."""


class TransportError(CleverFoxError):
    """No HTTP answer was read.

    ``request_sent`` is False when the request surely never reached the server (the
    connection could not be made), True when it may have been applied before the failure.
    ``retryable`` is False for failures a new attempt cannot mend (TLS, bad URL, proxy).
    """

    def __init__(self, message: str, *, request_sent: bool = True, retryable: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent
        self.retryable = retryable


class RequestTimeout(TransportError):
    """Connecting, sending or reading took longer than the client's ``timeout``."""


class TLSError(TransportError):
    """The TLS handshake failed: untrusted certificate, wrong host name, old protocol."""

    def __init__(self, message: str) -> None:
        super().__init__(message, request_sent=False, retryable=False)


class PinMismatch(TLSError):
    """The server's certificate is not the pinned one; nothing was sent to it.

    ``expected`` and ``actual`` are SHA-256 fingerprints, lower-case hex without colons.
    """

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"server certificate SHA-256 {actual} does not match the pinned {expected}"
        )
        self.expected = expected
        self.actual = actual


class UnexpectedResponse(CleverFoxError):
    """A successful status whose body is not what the contract promises (not JSON, no
    ``data`` envelope, an attribute of the wrong type). Points at a proxy in the way or a
    server that does not follow the contract."""

    def __init__(self, message: str, *, status: int, request_id: str | None) -> None:
        super().__init__(f"{message} (HTTP {status}, request {request_id or '-'})")
        self.status = status
        self.request_id = request_id


class IgnoredParameters(CleverFoxError):
    """The server ignored query parameters the SDK sent (``X-CleverFox-Ignored-Parameters``).

    Raised instead of yielding results, because a filter the server did not apply would
    silently widen a listing (think of a delete loop over "the inactive devices").
    """

    def __init__(self, parameters: Sequence[str]) -> None:
        super().__init__("the server ignored the parameters " + ", ".join(parameters))
        self.parameters = tuple(parameters)


class IgnoredAttributesWarning(UserWarning):
    """A write succeeded but the server ignored some of the attributes it was sent
    (a typo passed through ``extra_attributes``, or an attribute read-only there)."""


@dataclass(frozen=True)
class FieldError:
    """One failing attribute of a :class:`ValidationFailed` (wire name, e.g. ``Name``)."""

    attribute: str
    code: str
    message: str


class APIError(CleverFoxError):
    """The server answered with an error status.

    ``code`` is the contract's stable machine word (``not_found``, ``device_limit_reached``
    …), ``message`` a sentence for a person, ``request_id`` the ``X-Request-Id`` header.
    ``body`` is the decoded ``error`` object as sent, for attributes the SDK does not know.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        errors: Sequence[FieldError] = (),
        body: dict[str, object] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message} (request {request_id or '-'})")
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.errors = tuple(errors)
        self.body = body or {}


class BadRequest(APIError):
    """400: the request was refused as malformed (``code`` says how)."""


class ValidationFailed(BadRequest):
    """400 ``validation_failed``: ``errors`` lists every failing attribute at once."""

    def for_attribute(self, attribute: str) -> tuple[FieldError, ...]:
        """The errors of one attribute, matched case-insensitively by wire name."""
        wanted = attribute.casefold()
        return tuple(e for e in self.errors if e.attribute.casefold() == wanted)


class AuthenticationError(APIError):
    """401: the API key is missing, malformed or unknown."""


class PermissionDenied(APIError):
    """403: the key is valid but may not do this."""


class PartnerPlanRequired(PermissionDenied):
    """403 ``partner_plan_required``: the key's owner is not an active partner on a plan
    with API access (or it is a device's key)."""


class NotFound(APIError):
    """404: no such object, or one the caller may not see."""


class Conflict(APIError):
    """409: the change collides with existing data; ``code`` names the rule
    (``external_id_taken``, ``company_not_empty``, ``job_running`` …)."""


class DuplicateRequest(Conflict):
    """409 ``duplicate_request``: the request's Token was already used by a request that
    succeeded; ``resource`` (e.g. ``companies``) and ``id`` name what that request made.

    The SDK resolves it to that object when it names what the call writes: the same
    collection, and for an update or an action the same element (its own retry, or a
    repeat with the caller's Token). A caller sees it when the Token was used for another
    collection or another element: the Token was reused, and nothing was applied.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        resource: str | None,
        id: int | str | None,  # the contract names it "id"
        request_id: str | None = None,
        body: dict[str, object] | None = None,
    ) -> None:
        super().__init__(status, code, message, request_id=request_id, body=body)
        self.resource = resource
        self.id = id


class RateLimited(APIError):
    """429: over the key's request budget; ``retry_after`` is seconds to wait (or None)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None,
        request_id: str | None = None,
        body: dict[str, object] | None = None,
    ) -> None:
        super().__init__(status, code, message, request_id=request_id, body=body)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed (500 is a bug there; 502/503/504 are usually passing).
    ``retry_after`` is set when a 503 said how long to wait."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        request_id: str | None = None,
        body: dict[str, object] | None = None,
    ) -> None:
        super().__init__(status, code, message, request_id=request_id, body=body)
        self.retry_after = retry_after
