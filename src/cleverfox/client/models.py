"""Typed models of every resource of the contract (``spec/resources.md``).

Pydantic models rather than dataclasses: the wire is PascalCase JSON with lenient scalars,
nulls, nested objects and unknown attributes, and pydantic-core decodes a whole page of it
straight from bytes, which keeps listing 100,000 Logs close to the cost of the raw JSON.
See :class:`CleverFoxModel` for the rules every model follows.

Required attributes of writable resources are typed without ``None``; everything else may
be ``None``. Embedded objects (``Device.company``) are typed one level deep; the server
sends their own embedded objects as ``null``. They are decoded when first read (``Embedded``):
a listing of Logs builds one model per Log until a caller looks inside one.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Annotated, Any, ClassVar

from pydantic import Field

from cleverfox.client._model_base import (
    Bool,
    CleverFoxModel,
    Embedded,
    EmbeddedList,
    IntIdModel,
    Local,
    LocalDateTime,
    UtcDateTime,
    zone_named,
)
from cleverfox.client.enums import (
    Actor,
    AuthenticationMode,
    ConnectionStatus,
    Frequency,
    JobStatus,
    SubscriptionStatus,
    Trigger,
)

__all__ = [
    "BackupType",
    "CleverFoxModel",
    "Company",
    "CompanyUser",
    "Device",
    "Event",
    "EventType",
    "IntIdModel",
    "Job",
    "JobItem",
    "Log",
    "LogItem",
    "Partner",
    "PartnerUser",
    "Plan",
    "PlanType",
    "Subscription",
    "TimeZone",
]

Secret = Annotated[str | None, Field(default=None, repr=False)]
"""A value kept out of ``repr`` (keys, passwords, URLs carrying a key)."""


class PlanType(IntIdModel):
    """A family of plans; ``has_api_access`` decides whether its partners may use the API."""

    id_attribute: ClassVar[str] = "plan_type_id"
    plan_type_id: int
    name: str | None = None
    is_inactive: Bool = False
    has_api_access: Bool = False


class Plan(IntIdModel):
    """What a subscription allows: devices, stored GB, downloads."""

    id_attribute: ClassVar[str] = "plan_id"
    plan_id: int
    plan_type_id: int | None = None
    plan_type: Embedded[PlanType] = None
    name: str | None = None
    details: str | None = None
    is_inactive: Bool = False
    device_limit: int | None = None
    storage_limit: int | None = None
    download_limit: Bool = False


class Partner(IntIdModel):
    """The caller's own partner account."""

    id_attribute: ClassVar[str] = "partner_id"
    partner_id: int
    plan_type_id: int | None = None
    plan_type: Embedded[PlanType] = None
    name: str
    application_id: str | None = None
    is_inactive: Bool = False


class _Person(IntIdModel):
    first_name: str
    last_name: str
    email: str
    home_phone: str | None = None
    mobile_phone: str | None = None
    work_phone: str | None = None
    is_account_owner: Bool = False
    is_inactive: Bool = False


class PartnerUser(_Person):
    """A person of the partner's organisation."""

    id_attribute: ClassVar[str] = "partner_user_id"
    partner_user_id: int
    partner_id: int
    partner: Embedded[Partner] = None


class Company(IntIdModel):
    """A partner's customer."""

    id_attribute: ClassVar[str] = "company_id"
    company_id: int
    partner_id: int
    partner: Embedded[Partner] = None
    plan_type_id: int
    plan_type: Embedded[PlanType] = None
    name: str
    address_line1: str | None = None
    address_line2: str | None = None
    city_municipality: str | None = None
    state_providence: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    external_id: str | None = None
    is_inactive: Bool = False
    device_count: int | None = None


class CompanyUser(_Person):
    """A person of a customer company."""

    id_attribute: ClassVar[str] = "company_user_id"
    company_user_id: int
    company_id: int
    company: Embedded[Company] = None


class Subscription(IntIdModel):
    """A company's plan."""

    id_attribute: ClassVar[str] = "subscription_id"
    subscription_id: int
    company_id: int
    company: Embedded[Company] = None
    plan_id: int
    plan: Embedded[Plan] = None
    application_id: str | None = None
    external_id: str | None = None
    is_inactive: Bool = False
    billing_id: int | None = None
    status: SubscriptionStatus | None = None
    period_start: UtcDateTime | None = None
    period_end: UtcDateTime | None = None
    additional_device: int | None = None
    download_limit_expire_on: UtcDateTime | None = None
    send_notification_to: str | None = None
    send_notification_cc: str | None = None
    send_notification_bcc: str | None = None
    send_notification_on_storage_limit: Bool = False
    device_count: int | None = None
    storage_used_bytes: int | None = None


class Device(IntIdModel):
    """A PC or server that is backed up. ``last_api_check_at`` is in the device's zone."""

    id_attribute: ClassVar[str] = "device_id"
    device_id: int
    company_id: int
    company: Embedded[Company] = None
    subscription_id: int
    subscription: Embedded[Subscription] = None
    name: str
    time_zone_id: str
    iana_time_zone_id: str | None = None
    application_id: str | None = None
    external_id: str | None = None
    is_inactive: Bool = False
    api_key: Secret
    last_api_check_at: LocalDateTime | None = None
    send_notification_to: str | None = None
    send_notification_cc: str | None = None
    send_notification_bcc: str | None = None
    send_notification_on_job_completed: Bool = False
    send_notification_on_job_failed: Bool = False
    send_notification_on_job_missed: Bool = False
    agent_download_url: Secret
    last_agent_download_created: UtcDateTime | None = None
    hostname: str | None = None
    os_name: str | None = None
    os_version: str | None = None
    agent_version: str | None = None
    connection_status: ConnectionStatus | None = None


class TimeZone(CleverFoxModel):
    """A time zone a Device may use; its id is the Windows id (a string)."""

    id_attribute: ClassVar[str] = "time_zone_id"
    time_zone_id: str
    name: str | None = None
    iana_id: str | None = None
    current_utc_offset: int | None = None

    @property
    def id(self) -> str:
        """The TimeZoneId (e.g. ``Eastern Standard Time``)."""
        return self.time_zone_id

    def zone(self) -> tzinfo | None:
        """The zone itself (from IanaId, else the Windows id)."""
        return zone_named(self.iana_id or self.time_zone_id)


class BackupType(IntIdModel):
    """What a Job Item backs up: files or a kind of database."""

    id_attribute: ClassVar[str] = "backup_type_id"
    backup_type_id: int
    engine_id: str | None = None
    name: str | None = None
    engine_type: str | None = None
    port: int | None = None
    is_inactive: Bool = False


class _ItemSettings(IntIdModel):
    """A Job Item's settings, shared by Job Items and the snapshots in Log Items."""

    name: str | None = None
    base_folder: str | None = None
    include_sub_folders: Bool = False
    search_patterns: str | None = None
    exclude_folders: str | None = None
    exclude_patterns: str | None = None
    no_compress_extensions: str | None = None
    server_name: str | None = None
    database_name: str | None = None
    port: int | None = None
    authentication_mode: AuthenticationMode | None = None
    option_compress: Bool = False
    option_copy_only: Bool = False
    option_log_only: Bool = False


class JobItem(_ItemSettings):
    """What a job backs up. ``username``/``password`` are write-only: always None here."""

    id_attribute: ClassVar[str] = "job_item_id"
    job_item_id: int
    job_id: int
    backup_type_id: int
    backup_type: Embedded[BackupType] = None
    username: Secret
    password: Secret


class Job(IntIdModel):
    """A scheduled backup of a device; its Local date-times are in the device's zone."""

    id_attribute: ClassVar[str] = "job_id"
    job_id: int
    device_id: int
    device: Embedded[Device] = None
    name: str
    is_inactive: Bool = False
    last_ran_on: LocalDateTime | None = None
    frequency: Frequency
    next_run_on: LocalDateTime
    late_after: int
    every: int
    on_monday: Bool = False
    on_tuesday: Bool = False
    on_wednesday: Bool = False
    on_thursday: Bool = False
    on_friday: Bool = False
    on_saturday: Bool = False
    on_sunday: Bool = False
    day_of_month: int | None = None
    expire_on: LocalDateTime | None = None
    cloud_keep_last: int
    local_keep_last: int
    job_items: EmbeddedList[JobItem] = Field(default_factory=list)
    last_job_status: JobStatus | None = None
    next_run_utc: UtcDateTime | None = None


class LogItem(_ItemSettings):
    """One job item's result within a Log. ``url``/``expires`` are filled only by the
    ``download_backup_file``/``download_backup_list`` calls."""

    id_attribute: ClassVar[str] = "log_item_id"
    log_item_id: int
    log_id: int | None = None
    job_item_id: int | None = None
    engine_id: str | None = None
    server_version: str | None = None
    server_edition: str | None = None
    backup_folder: str | None = None
    backup_file_name: str | None = None
    backup_file_size: int | None = None
    backup_list_name: str | None = None
    backup_list_size: int | None = None
    backup_list_count: int | None = None
    url: Secret
    expires: UtcDateTime | None = None


class Log(IntIdModel):
    """One run of a job, or a missed one, with a snapshot of the settings it ran with.

    Ids of deleted objects stay; their embedded objects are then None. ``job_started_on``
    is a string on the wire: a datetime when it reads as one, else the string as sent.
    """

    id_attribute: ClassVar[str] = "log_id"
    log_id: int
    company_id: int | None = None
    company: Embedded[Company] = None
    device_id: int | None = None
    device: Embedded[Device] = None
    time_zone_id: str | None = None
    iana_time_zone_id: str | None = None
    subscription_id: int | None = None
    subscription: Embedded[Subscription] = None
    plan_id: int | None = None
    plan: Embedded[Plan] = None
    job_id: int | None = None
    job: Embedded[Job] = None
    name: str | None = None
    archive_folder: str | None = None
    upload_folder: str | None = None
    frequency: Frequency | None = None
    next_run_on: LocalDateTime | None = None
    late_after: int | None = None
    expire_on: LocalDateTime | None = None
    local_keep_last: int | None = None
    cloud_keep_last: int | None = None
    job_started_on: Annotated[
        datetime | str | None, Local, Field(default=None, union_mode="left_to_right")
    ]
    job_completed_on: LocalDateTime | None = None
    job_status: JobStatus | None = None
    error_messages: str | None = None
    send_notification_to: str | None = None
    send_notification_cc: str | None = None
    send_notification_bcc: str | None = None
    send_notification_on_job_completed: Bool = False
    send_notification_on_job_failed: Bool = False
    send_notification_on_job_missed: Bool = False
    notification_job_completed_processed_on: UtcDateTime | None = None
    notification_job_failed_processed_on: UtcDateTime | None = None
    notification_job_missed_processed_on: UtcDateTime | None = None
    log_items: EmbeddedList[LogItem] = Field(default_factory=list)
    trigger: Trigger | None = None
    duration_seconds: float | None = None
    bytes_uploaded: int | None = None


class Event(IntIdModel):
    """An entry of the audit trail. ``changes`` maps a wire attribute name to
    ``[old, new]`` for modifications (secrets as ``"***"``), None otherwise."""

    id_attribute: ClassVar[str] = "event_id"
    event_id: int
    event_type_id: int | None = None
    event_type: str | None = None
    backup_type_id: int | None = None
    company_id: int | None = None
    company_user_id: int | None = None
    device_id: int | None = None
    job_id: int | None = None
    job_item_id: int | None = None
    log_id: int | None = None
    log_item_id: int | None = None
    partner_id: int | None = None
    partner_user_id: int | None = None
    plan_id: int | None = None
    plan_type_id: int | None = None
    subscription_id: int | None = None
    partner_plan_id: int | None = None
    actor: Actor | None = None
    changes: dict[str, list[Any]] | None = None


class EventType(IntIdModel):
    """A kind of Event (ids are stable, never renumbered)."""

    id_attribute: ClassVar[str] = "event_type_id"
    event_type_id: int
    name: str | None = None
