"""Wire shapes of Logs and Log Items, and their filters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.wire import Kind

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


# A Log and a Log Item on the wire, in order: each attribute with the column it is read from
# (``logs.repository`` selects exactly these, in this order, date-times already as wire text),
# or ``None`` where no column holds it: the embedded objects and LogItems, which ``log_out``
# fills in, and the download attributes, null here.
LOG_WIRE: tuple[tuple[str, str | None], ...] = (
    ("LogId", "id"),
    ("CompanyId", "company_id"),
    ("Company", None),
    ("DeviceId", "device_id"),
    ("Device", None),
    ("TimeZoneId", "time_zone_id"),
    ("IanaTimeZoneId", "iana_time_zone_id"),
    ("SubscriptionId", "subscription_id"),
    ("Subscription", None),
    ("PlanId", "plan_id"),
    ("Plan", None),
    ("JobId", "job_id"),
    ("Job", None),
    # the job's settings at run start
    ("Name", "name"),
    ("ArchiveFolder", "archive_folder"),
    ("UploadFolder", "upload_folder"),
    ("Frequency", "frequency"),
    ("NextRunOn", "next_run_on"),
    ("LateAfter", "late_after"),
    ("ExpireOn", "expire_on"),
    ("LocalKeepLast", "local_keep_last"),
    ("CloudKeepLast", "cloud_keep_last"),
    # the outcome
    ("JobStartedOn", "job_started_on"),
    ("JobCompletedOn", "job_completed_on"),
    ("JobStatus", "job_status"),
    ("ErrorMessages", "error_messages"),
    # the device's notification settings at run start, and what was sent
    ("SendNotificationTo", "send_notification_to"),
    ("SendNotificationCc", "send_notification_cc"),
    ("SendNotificationBcc", "send_notification_bcc"),
    ("SendNotificationOnJobCompleted", "send_notification_on_job_completed"),
    ("SendNotificationOnJobFailed", "send_notification_on_job_failed"),
    ("SendNotificationOnJobMissed", "send_notification_on_job_missed"),
    ("NotificationJobCompletedProcessedOn", "notification_job_completed_processed_on"),
    ("NotificationJobFailedProcessedOn", "notification_job_failed_processed_on"),
    ("NotificationJobMissedProcessedOn", "notification_job_missed_processed_on"),
    ("LogItems", None),
    ("Trigger", "trigger"),
    ("DurationSeconds", "duration_seconds"),
    ("BytesUploaded", "bytes_uploaded"),
    ("Progress", "progress"),  # ours: the agent's last progress report while Running
    ("AddedOn", "added_on"),
    ("UpdatedOn", "updated_on"),
)
LOG_ITEM_WIRE: tuple[tuple[str, str | None], ...] = (
    ("LogItemId", "id"),
    ("LogId", "log_id"),
    ("JobItemId", "job_item_id"),
    ("JobId", "job_id"),
    ("DeviceId", "device_id"),
    ("CompanyId", "company_id"),
    # the job item as it was
    ("Name", "name"),
    ("EngineId", "engine_id"),
    ("BaseFolder", "base_folder"),
    ("IncludeSubFolders", "include_sub_folders"),
    ("SearchPatterns", "search_patterns"),
    ("ExcludeFolders", "exclude_folders"),
    ("ExcludePatterns", "exclude_patterns"),
    ("NoCompressExtensions", "no_compress_extensions"),
    ("ServerName", "server_name"),
    ("DatabaseName", "database_name"),
    ("Port", "port"),
    ("AuthenticationMode", "authentication_mode"),
    ("OptionCompress", "option_compress"),
    ("OptionCopyOnly", "option_copy_only"),
    ("OptionLogOnly", "option_log_only"),
    # what the agent reported
    ("ServerVersion", "server_version"),
    ("ServerEdition", "server_edition"),
    ("BackupFolder", "backup_folder"),
    ("BackupFileName", "backup_file_name"),
    ("BackupFileSize", "backup_file_size"),
    ("BackupListName", "backup_list_name"),
    ("BackupListSize", "backup_list_size"),
    ("BackupListCount", "backup_list_count"),
    ("StoredBytes", "stored_bytes"),  # ours: what the backup file added to storage
    ("Url", None),  # Url and Expires are filled only by the download calls
    ("Expires", None),
    ("AddedOn", "added_on"),
)
_LOG_NAMES = tuple(name for name, _ in LOG_WIRE)
_LOG_ITEM_NAMES = tuple(name for name, _ in LOG_ITEM_WIRE)

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


def log_out(view: LogView) -> dict[str, Any]:
    """A Log. Date-times "Local" are in the log's own zone (its TimeZoneId snapshot)."""
    data = dict(zip(_LOG_NAMES, view.log, strict=True))
    embeds = view.embeds
    data["Company"] = embeds.companies.get(data["CompanyId"])
    data["Device"] = embeds.devices.get(data["DeviceId"])
    data["Subscription"] = embeds.subscriptions.get(data["SubscriptionId"])
    data["Plan"] = embeds.plans.get(data["PlanId"])
    data["Job"] = embeds.jobs.get(data["JobId"])
    data["LogItems"] = [log_item_out(item) for item in view.items]
    progress = data["Progress"]
    running = data["JobStatus"] == RUNNING
    data["Progress"] = orjson.loads(progress) if progress and running else None
    return data


def log_item_out(row: WireRow) -> dict[str, Any]:
    """A Log Item: the job item as it was, and what the agent reported. ``Url`` and
    ``Expires`` are filled only by the download calls."""
    return dict(zip(_LOG_ITEM_NAMES, row, strict=True))
