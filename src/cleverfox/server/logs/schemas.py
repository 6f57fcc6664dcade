"""Wire shapes of Logs and Log Items, and their filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Log, LogItem

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
    """A Log with its Log Items and the embedded objects of its page."""

    log: Log
    items: list[LogItem]
    embeds: Embeds


def log_out(view: LogView) -> dict[str, Any]:
    """A Log. Date-times "Local" are in the log's own zone (its TimeZoneId snapshot)."""
    log, embeds = view.log, view.embeds
    return {
        "LogId": log.id,
        "CompanyId": log.company_id,
        "Company": embeds.companies.get(log.company_id),
        "DeviceId": log.device_id,
        "Device": embeds.devices.get(log.device_id),
        "TimeZoneId": log.time_zone_id,
        "IanaTimeZoneId": log.iana_time_zone_id,
        "SubscriptionId": log.subscription_id,
        "Subscription": _get(embeds.subscriptions, log.subscription_id),
        "PlanId": log.plan_id,
        "Plan": _get(embeds.plans, log.plan_id),
        "JobId": log.job_id,
        "Job": embeds.jobs.get(log.job_id),
        **_snapshot(log),
        **_outcome(log),
        **_notifications(log),
        "LogItems": [log_item_out(item) for item in view.items],
        "Trigger": log.trigger,
        "DurationSeconds": log.duration_seconds,
        "BytesUploaded": log.bytes_uploaded,
        "AddedOn": format_datetime(log.added_on),
        "UpdatedOn": format_datetime(log.updated_on),
    }


def _get(objects: dict[int, dict[str, Any]], object_id: int | None) -> dict[str, Any] | None:
    return None if object_id is None else objects.get(object_id)


def _snapshot(log: Log) -> dict[str, Any]:
    return {
        "Name": log.name,
        "ArchiveFolder": log.archive_folder,
        "UploadFolder": log.upload_folder,
        "Frequency": log.frequency,
        "NextRunOn": format_datetime(log.next_run_on),
        "LateAfter": log.late_after,
        "ExpireOn": format_datetime(log.expire_on),
        "LocalKeepLast": log.local_keep_last,
        "CloudKeepLast": log.cloud_keep_last,
    }


def _outcome(log: Log) -> dict[str, Any]:
    return {
        "JobStartedOn": format_datetime(log.job_started_on),
        "JobCompletedOn": format_datetime(log.job_completed_on),
        "JobStatus": log.job_status,
        "ErrorMessages": log.error_messages,
    }


def _notifications(log: Log) -> dict[str, Any]:
    return {
        "SendNotificationTo": log.send_notification_to,
        "SendNotificationCc": log.send_notification_cc,
        "SendNotificationBcc": log.send_notification_bcc,
        "SendNotificationOnJobCompleted": log.send_notification_on_job_completed,
        "SendNotificationOnJobFailed": log.send_notification_on_job_failed,
        "SendNotificationOnJobMissed": log.send_notification_on_job_missed,
        "NotificationJobCompletedProcessedOn": format_datetime(
            log.notification_job_completed_processed_on),
        "NotificationJobFailedProcessedOn": format_datetime(
            log.notification_job_failed_processed_on),
        "NotificationJobMissedProcessedOn": format_datetime(
            log.notification_job_missed_processed_on),
    }


def log_item_out(item: LogItem) -> dict[str, Any]:
    """A Log Item: the job item as it was, and what the agent reported. ``Url`` and
    ``Expires`` are filled only by the download calls."""
    return {
        "LogItemId": item.id,
        "LogId": item.log_id,
        "JobItemId": item.job_item_id,
        "JobId": item.job_id,
        "DeviceId": item.device_id,
        "CompanyId": item.company_id,
        "Name": item.name,
        "EngineId": item.engine_id,
        "BaseFolder": item.base_folder,
        "IncludeSubFolders": item.include_sub_folders,
        "SearchPatterns": item.search_patterns,
        "ExcludeFolders": item.exclude_folders,
        "ExcludePatterns": item.exclude_patterns,
        "NoCompressExtensions": item.no_compress_extensions,
        "ServerName": item.server_name,
        "DatabaseName": item.database_name,
        "Port": item.port,
        "AuthenticationMode": item.authentication_mode,
        "OptionCompress": item.option_compress,
        "OptionCopyOnly": item.option_copy_only,
        "OptionLogOnly": item.option_log_only,
        "ServerVersion": item.server_version,
        "ServerEdition": item.server_edition,
        "BackupFolder": item.backup_folder,
        "BackupFileName": item.backup_file_name,
        "BackupFileSize": item.backup_file_size,
        "BackupListName": item.backup_list_name,
        "BackupListSize": item.backup_list_size,
        "BackupListCount": item.backup_list_count,
        "Url": None,
        "Expires": None,
        "AddedOn": format_datetime(item.added_on),
    }


# The agent's bodies (resources.md, Agent endpoints).

RUN_START = WireSchema(
    "RunStart",
    [
        Attr("JobId", Kind.INTEGER, Rule.REQUIRED, doc="A job of the calling device."),
        Attr("JobStartedOn", Kind.DATETIME_LOCAL,
             doc="When the run started, in the device's time zone (default: now)."),
        Attr("Trigger", Kind.CHOICE, choices=TRIGGERS, doc="`Schedule` (default) or `RunNow`."),
    ],
)
RUN_FINISH = WireSchema(
    "RunFinish",
    [
        Attr("JobStatus", Kind.CHOICE, Rule.REQUIRED, choices=(COMPLETED, FAILED)),
        Attr("JobCompletedOn", Kind.DATETIME_LOCAL,
             doc="When the run ended, in the device's time zone (default: now)."),
        Attr("ErrorMessages", max_length=65536, doc="One message a line."),
        Attr("LogItems", Kind.ARRAY, doc="One result per job item backed up."),
    ],
)
REPORTED_ITEM = WireSchema(
    "RunFinishLogItem",
    [
        Attr("JobItemId", Kind.INTEGER, Rule.REQUIRED, doc="A job item of the log's job."),
        Attr("ServerVersion", max_length=100),
        Attr("ServerEdition", max_length=100),
        Attr("BackupFolder", max_length=4096),
        Attr("BackupFileName", max_length=255),
        Attr("BackupFileSize", Kind.INTEGER, minimum=0),
        Attr("BackupListName", max_length=255),
        Attr("BackupListSize", Kind.INTEGER, minimum=0),
        Attr("BackupListCount", Kind.INTEGER, minimum=0),
    ],
)
