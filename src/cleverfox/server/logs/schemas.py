"""Wire shapes of Logs and Log Items, and their filters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import NULL, Derived, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema

RUNNING = "Running"
COMPLETED = "Completed"
FAILED = "Failed"
MISSED = "Missed"
JOB_STATUSES = (RUNNING, COMPLETED, FAILED, MISSED)
SCHEDULE = "Schedule"
RUN_NOW = "RunNow"
TRIGGERS = (SCHEDULE, RUN_NOW)

LOG_FILTERS = (
    Filter("CompanyId"),
    Filter("DeviceId"),
    Filter("JobId"),
    Filter("JobStatus", Kind.CHOICE, choices=JOB_STATUSES),
    Filter("Since", Kind.DATETIME_UTC),
    Filter("Until", Kind.DATETIME_UTC),
    Filter("IncludeRunning", Kind.BOOLEAN),
)
LOG_ITEM_FILTERS = (
    Filter("LogId"),
    Filter("JobItemId"),
    Filter("JobId"),
    Filter("DeviceId"),
    Filter("CompanyId"),
)


def _ro(name: str, kind: Kind = Kind.STRING, field: str = "", doc: str = "") -> Attr:
    return Attr(name, kind, Rule.READ_ONLY, field=field, doc=doc)


# A Log and a Log Item on the wire, in order. ``logs.repository`` selects each attribute's
# column in this order (``LOG_WIRE``, ``LOG_ITEM_WIRE``), date-times already as wire text, and
# NULL where the presenter fills it in: the embedded objects and LogItems, and the download
# attributes (null here).
LOG = WireSchema(
    "Log",
    [
        _ro("LogId", Kind.INTEGER, "id"),
        _ro("CompanyId", Kind.INTEGER),
        _ro("Company", Kind.OBJECT),
        _ro("DeviceId", Kind.INTEGER),
        _ro("Device", Kind.OBJECT),
        _ro("TimeZoneId"),
        _ro("IanaTimeZoneId"),
        _ro("SubscriptionId", Kind.INTEGER),
        _ro("Subscription", Kind.OBJECT),
        _ro("PlanId", Kind.INTEGER),
        _ro("Plan", Kind.OBJECT),
        _ro("JobId", Kind.INTEGER),
        _ro("Job", Kind.OBJECT),
        # the job's settings at run start
        _ro("Name"),
        _ro("ArchiveFolder"),
        _ro("UploadFolder"),
        _ro("Frequency"),
        _ro("NextRunOn", Kind.DATETIME_LOCAL),
        _ro("LateAfter", Kind.INTEGER),
        _ro("ExpireOn", Kind.DATETIME_LOCAL),
        _ro("LocalKeepLast", Kind.INTEGER),
        _ro("CloudKeepLast", Kind.INTEGER),
        # the outcome
        _ro("JobStartedOn", Kind.DATETIME_LOCAL),
        _ro("JobCompletedOn", Kind.DATETIME_LOCAL),
        _ro("JobStatus"),
        _ro("ErrorMessages"),
        # the device's notification settings at run start, and what was sent
        _ro("SendNotificationTo"),
        _ro("SendNotificationCc"),
        _ro("SendNotificationBcc"),
        _ro("SendNotificationOnJobCompleted", Kind.BOOLEAN),
        _ro("SendNotificationOnJobFailed", Kind.BOOLEAN),
        _ro("SendNotificationOnJobMissed", Kind.BOOLEAN),
        _ro("NotificationJobCompletedProcessedOn", Kind.DATETIME_UTC),
        _ro("NotificationJobFailedProcessedOn", Kind.DATETIME_UTC),
        _ro("NotificationJobMissedProcessedOn", Kind.DATETIME_UTC),
        _ro("LogItems", Kind.ARRAY),
        _ro("Trigger"),
        _ro("DurationSeconds", Kind.INTEGER),
        _ro("BytesUploaded", Kind.INTEGER),
        _ro("Progress", Kind.OBJECT, doc="ours: the agent's last progress report while Running"),
        _ro("AddedOn", Kind.DATETIME_UTC),
        _ro("UpdatedOn", Kind.DATETIME_UTC),
    ],
)
LOG_ITEM = WireSchema(
    "LogItem",
    [
        _ro("LogItemId", Kind.INTEGER, "id"),
        _ro("LogId", Kind.INTEGER),
        _ro("JobItemId", Kind.INTEGER),
        _ro("JobId", Kind.INTEGER),
        _ro("DeviceId", Kind.INTEGER),
        _ro("CompanyId", Kind.INTEGER),
        # the job item as it was
        _ro("Name"),
        _ro("EngineId"),
        _ro("BaseFolder"),
        _ro("IncludeSubFolders", Kind.BOOLEAN),
        _ro("SearchPatterns"),
        _ro("ExcludeFolders"),
        _ro("ExcludePatterns"),
        _ro("NoCompressExtensions"),
        _ro("ServerName"),
        _ro("DatabaseName"),
        _ro("Port", Kind.INTEGER),
        _ro("AuthenticationMode"),
        _ro("OptionCompress", Kind.BOOLEAN),
        _ro("OptionCopyOnly", Kind.BOOLEAN),
        _ro("OptionLogOnly", Kind.BOOLEAN),
        # what the agent reported
        _ro("ServerVersion"),
        _ro("ServerEdition"),
        _ro("BackupFolder"),
        _ro("BackupFileName"),
        _ro("BackupFileSize", Kind.INTEGER),
        _ro("BackupListName"),
        _ro("BackupListSize", Kind.INTEGER),
        _ro("BackupListCount", Kind.INTEGER),
        _ro("StoredBytes", Kind.INTEGER, doc="ours: what the backup file added to storage"),
        _ro("Url"),
        _ro("Expires", Kind.DATETIME_UTC),
        _ro("AddedOn", Kind.DATETIME_UTC),
    ],
)

WireRow = Sequence[Any]
"""A row of ``LOG_WIRE``'s or ``LOG_ITEM_WIRE``'s columns, in order."""


def position(wire: tuple[tuple[str, str | None], ...], key: str) -> int:
    """Where the column ``key`` is in a row of ``wire`` (rows are read by position: by
    name, a Core row's attribute costs a microsecond)."""
    return [column for _, column in wire].index(key)


@dataclass
class Embeds:
    """The embedded objects of a page of Logs, written already, by id; a deleted one is
    absent (and so ``null``)."""

    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    devices: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[int, dict[str, Any]] = field(default_factory=dict)
    plans: dict[int, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class LogView:
    """A Log's row with its Log Items' rows (oldest first) and the embedded objects of its
    page."""

    log: WireRow
    items: Sequence[WireRow]
    embeds: Embeds


LOG_ITEM_PRESENTER = Presenter(LOG_ITEM, derived={"Url": NULL, "Expires": NULL}, token=False)
"""A Log Item: the job item as it was, and what the agent reported. ``Url`` and
``Expires`` are filled only by the download calls."""

log_item_out: Callable[[WireRow], dict[str, Any]] = LOG_ITEM_PRESENTER.positions()


def _log_items(view: LogView) -> list[dict[str, Any]]:
    return [log_item_out(item) for item in view.items]


def _progress(stored: str | None, job_status: str) -> Any:
    """The last progress report, only while the run is Running."""
    return orjson.loads(stored) if stored and job_status == RUNNING else None


LOG_PRESENTER = Presenter(
    LOG,
    derived={
        "Company": Derived(lambda v, i: v.embeds.companies.get(i), ("company_id",), True),
        "Device": Derived(lambda v, i: v.embeds.devices.get(i), ("device_id",), True),
        "Subscription": Derived(
            lambda v, i: v.embeds.subscriptions.get(i), ("subscription_id",), True
        ),
        "Plan": Derived(lambda v, i: v.embeds.plans.get(i), ("plan_id",), True),
        "Job": Derived(lambda v, i: v.embeds.jobs.get(i), ("job_id",), True),
        "LogItems": Derived(_log_items, context=True),
        "Progress": Derived(_progress, ("progress", "job_status")),
    },
    token=False,
)
"""A Log: its embedded objects those of its page (``LogView.embeds``), its LogItems its
own; date-times "Local" are in the log's own zone (its TimeZoneId snapshot)."""

LOG_WIRE = LOG_PRESENTER.columns()
LOG_ITEM_WIRE = LOG_ITEM_PRESENTER.columns()
_LOGS = LOG_PRESENTER.positions()


def log_out(view: LogView) -> dict[str, Any]:
    """A Log with its embedded objects and Log Items."""
    return _LOGS(view.log, view)
