"""The database tables, as SQLAlchemy 2 models (one module per family).

Relationships are ``lazy="raise"``: a repository that forgets an eager load fails loudly.
History tables (events; logs later) keep plain ids with no foreign keys, so they outlive
what they describe.
"""

from cleverfox.server.models.accounts import (
    Company,
    CompanyUser,
    Partner,
    PartnerUser,
    Plan,
    PlanType,
    Subscription,
)
from cleverfox.server.models.base import Base
from cleverfox.server.models.catalog import BackupType, EventType
from cleverfox.server.models.devices import Device, Job, JobItem
from cleverfox.server.models.history import Event, RequestToken
from cleverfox.server.models.logs import Log, LogItem, Mail
from cleverfox.server.models.storage import (
    StorageChunk,
    StorageCompany,
    StorageManifest,
    StorageOrphan,
    StoragePack,
    StorageStagedPage,
)

__all__ = [
    "BackupType",
    "Base",
    "Company",
    "CompanyUser",
    "Device",
    "Event",
    "EventType",
    "Job",
    "JobItem",
    "Log",
    "LogItem",
    "Mail",
    "Partner",
    "PartnerUser",
    "Plan",
    "PlanType",
    "RequestToken",
    "StorageChunk",
    "StorageCompany",
    "StorageManifest",
    "StorageOrphan",
    "StoragePack",
    "StorageStagedPage",
    "Subscription",
]
