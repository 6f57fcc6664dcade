"""The Python SDK of the CleverFox Backup API.

Owns everything a partner's program needs to speak the API of ``spec/``: the clients
(:class:`Client`, and :class:`AsyncClient` for asyncio or trio), typed models, the exception
tree (``errors``), safe retries and TLS pinning. It speaks HTTP only and imports nothing of
the server.

    from cleverfox.client import Client

    with Client("https://backup.example.com:8443", api_key) as client:
        for company in client.companies.list(is_inactive=False):
            print(company.company_id, company.name)

The sync client (``_sync_*.py``) is generated from the async one (``_async_*.py``) by
``scripts/unasync.py``: change the async modules, then run ``make generate``.
"""

from typing import TYPE_CHECKING

from cleverfox.client._retry import RetryPolicy
from cleverfox.client._sync_client import Client
from cleverfox.client._tls import normalize_fingerprint, ssl_context
from cleverfox.client.enums import (
    Actor,
    AuthenticationMode,
    ConnectionStatus,
    Frequency,
    JobStatus,
    SubscriptionStatus,
    Trigger,
)
from cleverfox.client.errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    CleverFoxError,
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
from cleverfox.client.models import (
    BackupType,
    CleverFoxModel,
    Company,
    CompanyUser,
    Device,
    Event,
    EventType,
    Job,
    JobItem,
    Log,
    LogItem,
    Partner,
    PartnerUser,
    Plan,
    PlanType,
    Subscription,
    TimeZone,
)

if TYPE_CHECKING:
    from cleverfox.client._async_client import AsyncClient

__all__ = [
    "APIError",
    "Actor",
    "AsyncClient",
    "AuthenticationError",
    "AuthenticationMode",
    "BackupType",
    "BadRequest",
    "CleverFoxError",
    "CleverFoxModel",
    "Client",
    "Company",
    "CompanyUser",
    "Conflict",
    "ConnectionStatus",
    "Device",
    "DuplicateRequest",
    "Event",
    "EventType",
    "FieldError",
    "Frequency",
    "IgnoredAttributesWarning",
    "IgnoredParameters",
    "Job",
    "JobItem",
    "JobStatus",
    "Log",
    "LogItem",
    "NotFound",
    "Partner",
    "PartnerPlanRequired",
    "PartnerUser",
    "PermissionDenied",
    "PinMismatch",
    "Plan",
    "PlanType",
    "RateLimited",
    "RequestTimeout",
    "RetryPolicy",
    "ServerError",
    "Subscription",
    "SubscriptionStatus",
    "TLSError",
    "TimeZone",
    "TransportError",
    "Trigger",
    "UnexpectedResponse",
    "ValidationFailed",
    "normalize_fingerprint",
    "ssl_context",
]


def __getattr__(name: str) -> object:
    # AsyncClient is imported on first use: it brings anyio and the async namespaces, which
    # a program of the sync client (and the command line) never needs.
    if name == "AsyncClient":
        from cleverfox.client._async_client import AsyncClient

        return AsyncClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "AsyncClient"})
