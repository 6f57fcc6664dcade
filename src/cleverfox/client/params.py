"""Keyword arguments of ``create``, ``update`` and ``list``, as TypedDicts.

Names are the models' snake_case attribute names; the SDK sends them under their wire names.
A ``create`` TypedDict marks what the contract requires on POST (the server still validates
everything and answers :class:`~cleverfox.client.errors.ValidationFailed`). In ``update``
every key is optional: PUT changes only what is sent, and ``None`` clears an optional
attribute. Multi-value strings (search patterns, folders, extensions, e-mail lists) may be
given as a sequence of strings; they are joined with ``\\r\\n`` as the wire expects.

Date-time filters take an aware ``datetime`` (sent in UTC), a naive one (UTC, as the
contract reads it), or a ``timedelta`` meaning "that long before now".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Required, TypedDict

from cleverfox.client.enums import AuthenticationMode, ConnectionStatus, Frequency, JobStatus

__all__ = [
    "BackupTypeFilters",
    "CompanyCreate",
    "CompanyFilters",
    "CompanyUpdate",
    "CompanyUserCreate",
    "CompanyUserFilters",
    "CompanyUserUpdate",
    "DeviceCreate",
    "DeviceFilters",
    "DeviceUpdate",
    "EventFilters",
    "EventTypeFilters",
    "JobCreate",
    "JobFilters",
    "JobItemCreate",
    "JobItemFilters",
    "JobItemUpdate",
    "JobUpdate",
    "LogFilters",
    "LogItemFilters",
    "PartnerFilters",
    "PartnerUpdate",
    "PartnerUserCreate",
    "PartnerUserFilters",
    "PartnerUserUpdate",
    "PlanFilters",
    "PlanTypeFilters",
    "SubscriptionCreate",
    "SubscriptionFilters",
    "SubscriptionUpdate",
    "TimeZoneFilters",
]

Lines = str | Sequence[str]
"""A multi-value string: the wire's ``\\r\\n``-separated text, or its lines."""
Moment = datetime | timedelta | str
"""A date-time filter: a datetime, a timedelta before now, or the wire's text."""


# ---- filters ---------------------------------------------------------------------------


class TimeZoneFilters(TypedDict, total=False):
    """Every collection takes UpdatedSince (objects added or changed since)."""

    updated_since: Moment


class _Filters(TimeZoneFilters, total=False):
    before_id: int  # start below this id instead of at the newest object


class PartnerFilters(_Filters, total=False):
    pass


class PlanTypeFilters(_Filters, total=False):
    pass


class PlanFilters(_Filters, total=False):
    pass


class BackupTypeFilters(_Filters, total=False):
    pass


class EventTypeFilters(_Filters, total=False):
    pass


class PartnerUserFilters(_Filters, total=False):
    email: str
    is_inactive: bool


class CompanyFilters(_Filters, total=False):
    external_id: str
    is_inactive: bool
    name_contains: str


class CompanyUserFilters(PartnerUserFilters, total=False):
    company_id: int


class SubscriptionFilters(_Filters, total=False):
    company_id: int


class DeviceFilters(_Filters, total=False):
    company_id: int
    subscription_id: int
    external_id: str
    is_inactive: bool
    connection_status: ConnectionStatus | str
    name_contains: str


class JobFilters(_Filters, total=False):
    device_id: int
    company_id: int
    is_inactive: bool
    frequency: Frequency | str


class JobItemFilters(_Filters, total=False):
    job_id: int
    device_id: int
    backup_type_id: int


class LogFilters(_Filters, total=False):
    """Running Logs are left out unless ``job_status`` is Running or ``include_running``."""

    company_id: int
    device_id: int
    job_id: int
    job_status: JobStatus | str
    since: Moment
    until: Moment
    include_running: bool


class LogItemFilters(_Filters, total=False):
    log_id: int
    job_item_id: int
    job_id: int
    device_id: int
    company_id: int


class EventFilters(_Filters, total=False):
    event_type_id: int
    company_id: int
    device_id: int
    job_id: int
    since: Moment
    until: Moment


# ---- partners and people ---------------------------------------------------------------


class PartnerUpdate(TypedDict, total=False):
    name: str
    application_id: str | None


class _PersonOptional(TypedDict, total=False):
    home_phone: str | None
    mobile_phone: str | None
    work_phone: str | None
    is_inactive: bool


class PartnerUserCreate(_PersonOptional, total=False):
    partner_id: Required[int]
    first_name: Required[str]
    last_name: Required[str]
    email: Required[str]


class PartnerUserUpdate(_PersonOptional, total=False):
    first_name: str
    last_name: str
    email: str


class CompanyUserCreate(_PersonOptional, total=False):
    company_id: Required[int]
    first_name: Required[str]
    last_name: Required[str]
    email: Required[str]


class CompanyUserUpdate(PartnerUserUpdate, total=False):
    pass


# ---- companies and subscriptions -------------------------------------------------------


class _CompanyOptional(TypedDict, total=False):
    address_line1: str | None
    address_line2: str | None
    city_municipality: str | None
    state_providence: str | None
    postal_code: str | None
    country: str | None
    phone: str | None
    external_id: str | None
    is_inactive: bool


class CompanyCreate(_CompanyOptional, total=False):
    partner_id: Required[int]
    plan_type_id: Required[int]
    name: Required[str]


class CompanyUpdate(_CompanyOptional, total=False):
    name: str


class SubscriptionUpdate(TypedDict, total=False):
    application_id: str | None
    external_id: str | None
    send_notification_to: Lines | None
    send_notification_cc: Lines | None
    send_notification_bcc: Lines | None
    send_notification_on_storage_limit: bool


class SubscriptionCreate(SubscriptionUpdate, total=False):
    company_id: Required[int]
    plan_id: Required[int]


# ---- devices, jobs, job items ----------------------------------------------------------


class _DeviceOptional(TypedDict, total=False):
    application_id: str | None
    external_id: str | None
    is_inactive: bool
    send_notification_to: Lines | None
    send_notification_cc: Lines | None
    send_notification_bcc: Lines | None
    send_notification_on_job_completed: bool
    send_notification_on_job_failed: bool
    send_notification_on_job_missed: bool


class DeviceCreate(_DeviceOptional, total=False):
    company_id: Required[int]
    subscription_id: Required[int]
    name: Required[str]
    time_zone_id: Required[str]


class DeviceUpdate(_DeviceOptional, total=False):
    name: str
    time_zone_id: str


class _JobOptional(TypedDict, total=False):
    """``next_run_on``/``expire_on``: naive is wall time in the device's zone; an aware
    datetime is converted to that zone by the server."""

    is_inactive: bool
    on_monday: bool
    on_tuesday: bool
    on_wednesday: bool
    on_thursday: bool
    on_friday: bool
    on_saturday: bool
    on_sunday: bool
    day_of_month: int | None
    expire_on: datetime | None


class JobCreate(_JobOptional, total=False):
    device_id: Required[int]
    name: Required[str]
    frequency: Required[Frequency | str]
    next_run_on: Required[datetime]
    late_after: Required[int]
    every: Required[int]
    cloud_keep_last: Required[int]
    local_keep_last: Required[int]


class JobUpdate(_JobOptional, total=False):
    name: str
    frequency: Frequency | str
    next_run_on: datetime
    late_after: int
    every: int
    cloud_keep_last: int
    local_keep_last: int


class _JobItemOptional(TypedDict, total=False):
    name: str | None
    base_folder: str | None
    include_sub_folders: bool
    search_patterns: Lines | None
    exclude_folders: Lines | None
    exclude_patterns: Lines | None
    no_compress_extensions: Lines | None
    server_name: str | None
    database_name: str | None
    port: int | None
    authentication_mode: AuthenticationMode | str | None
    username: str | None
    password: str | None
    option_compress: bool
    option_copy_only: bool
    option_log_only: bool


class JobItemCreate(_JobItemOptional, total=False):
    job_id: Required[int]
    backup_type_id: Required[int]


class JobItemUpdate(_JobItemOptional, total=False):
    backup_type_id: int
