"""Typed errors that carry their HTTP status; rendered in one place (``kit.handlers``).

AppError (500 internal_error)
├── BadRequest (400)
│   ├── ValidationFailed (400 validation_failed, per-attribute errors)
│   ├── InvalidParameter (400 invalid_parameter)
│   ├── MalformedJson (400 malformed_json)
│   └── QueryParametersNotAllowed (400 query_parameters_not_allowed)
├── Unauthorized (401)
├── Forbidden (403, e.g. partner_plan_required)
├── NotFound (404)
├── MethodNotAllowed (405)
├── Conflict (409, e.g. external_id_taken)
│   └── DuplicateRequest (409 duplicate_request, with resource and id)
├── PayloadTooLarge (413)
├── UnsupportedMediaType (415)
├── TooManyRequests (429, with Retry-After)
└── ServiceUnavailable (503)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One failing attribute of a validation failure."""

    attribute: str
    code: str
    message: str

    def to_wire(self) -> dict[str, str]:
        return {"attribute": self.attribute, "code": self.code, "message": self.message}


class AppError(Exception):
    """An error with a status, a stable machine ``code`` and a sentence for a person."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "The server failed to answer this request."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        errors: list[FieldError] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.errors = errors or []
        self.extra = extra or {}
        self.headers = headers or {}
        super().__init__(self.message)


class BadRequest(AppError):
    status = 400
    default_code = "bad_request"
    default_message = "The request is not valid."


class ValidationFailed(BadRequest):
    default_code = "validation_failed"
    default_message = "One or more attributes are not valid."

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(errors=errors)


class InvalidParameter(BadRequest):
    default_code = "invalid_parameter"
    default_message = "A query parameter is not valid."

    def __init__(self, errors: list[FieldError]) -> None:
        names = ", ".join(e.attribute for e in errors)
        super().__init__(f"Query parameter not valid: {names}.", errors=errors)


class MalformedJson(BadRequest):
    default_code = "malformed_json"
    default_message = "The request body must be a JSON object."


class QueryParametersNotAllowed(BadRequest):
    default_code = "query_parameters_not_allowed"
    default_message = "POST and PUT take their data in the JSON body, not in the query string."


class Unauthorized(AppError):
    status = 401
    default_code = "unauthorized"
    default_message = "A valid API key is required as the HTTP Basic username."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Basic realm="CleverFox Backup"'})


class Forbidden(AppError):
    status = 403
    default_code = "forbidden"
    default_message = "This key may not do that."


class NotFound(AppError):
    status = 404
    default_code = "not_found"
    default_message = "No such object."


class MethodNotAllowed(AppError):
    status = 405
    default_code = "method_not_allowed"
    default_message = "This method is not allowed here."


class Conflict(AppError):
    status = 409
    default_code = "conflict"
    default_message = "The request conflicts with existing data."


class DuplicateRequest(Conflict):
    default_code = "duplicate_request"
    default_message = "A request with this Token was already applied."

    def __init__(self, resource: str, object_id: int | None) -> None:
        super().__init__(extra={"resource": resource, "id": object_id})


class PayloadTooLarge(AppError):
    status = 413
    default_code = "payload_too_large"
    default_message = "The request body is larger than 1 MiB."


class UnsupportedMediaType(AppError):
    status = 415
    default_code = "unsupported_media_type"
    default_message = "The request body must be JSON sent as Content-Type: application/json."


class TooManyRequests(AppError):
    status = 429
    default_code = "rate_limited"
    default_message = "Too many requests; retry after the time in Retry-After."

    def __init__(self, retry_after: int, *, code: str | None = None, message: str | None = None):
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(AppError):
    status = 503
    default_code = "service_unavailable"
    default_message = "The server is starting or shutting down; try again shortly."


def required(attribute: str) -> FieldError:
    return FieldError(attribute, "required", f"{attribute} is required.")
