"""Devices (the PCs and servers backed up), their jobs and job items."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cleverfox.server.models.accounts import Company, Subscription
from cleverfox.server.models.base import Base, Id, IdType, Str25, Str50, Str100, Timestamps
from cleverfox.server.models.catalog import BackupType

_RAISE: Final = "raise"


class Device(Timestamps, Base):
    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("partner_id", "external_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    company_id: Mapped[int] = mapped_column(IdType, ForeignKey("companies.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(IdType, ForeignKey("subscriptions.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100))
    time_zone_id: Mapped[str] = mapped_column(String(50))
    iana_time_zone_id: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[Str25]
    external_id: Mapped[Str100]
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    api_key_encrypted: Mapped[str] = mapped_column(Text)
    api_key_digest: Mapped[str] = mapped_column(String(64), unique=True)
    last_api_check_at: Mapped[datetime | None] = mapped_column(DateTime())  # UTC
    send_notification_to: Mapped[str | None] = mapped_column(Text)
    send_notification_cc: Mapped[str | None] = mapped_column(Text)
    send_notification_bcc: Mapped[str | None] = mapped_column(Text)
    send_notification_on_job_completed: Mapped[bool] = mapped_column(Boolean, default=False)
    send_notification_on_job_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    send_notification_on_job_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    last_agent_download_created: Mapped[datetime | None] = mapped_column(DateTime())
    hostname: Mapped[str | None] = mapped_column(String(255))
    os_name: Mapped[str | None] = mapped_column(String(100))
    os_version: Mapped[str | None] = mapped_column(String(100))
    agent_version: Mapped[Str50]
    reported_online: Mapped[bool] = mapped_column(Boolean, default=False)

    company: Mapped[Company] = relationship(lazy=_RAISE)
    subscription: Mapped[Subscription] = relationship(lazy=_RAISE)


class Job(Timestamps, Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_due", "is_inactive", "next_run_utc"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(IdType, index=True)
    company_id: Mapped[int] = mapped_column(IdType, index=True)
    device_id: Mapped[int] = mapped_column(IdType, ForeignKey("devices.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    last_ran_on: Mapped[datetime | None] = mapped_column(DateTime())  # device-local wall time
    frequency: Mapped[str] = mapped_column(String(10))
    next_run_on: Mapped[datetime] = mapped_column(DateTime())  # device-local wall time
    next_run_utc: Mapped[datetime | None] = mapped_column(DateTime())
    late_after: Mapped[int] = mapped_column(Integer)
    every: Mapped[int] = mapped_column(Integer)
    on_monday: Mapped[bool] = mapped_column(Boolean, default=False)
    on_tuesday: Mapped[bool] = mapped_column(Boolean, default=False)
    on_wednesday: Mapped[bool] = mapped_column(Boolean, default=False)
    on_thursday: Mapped[bool] = mapped_column(Boolean, default=False)
    on_friday: Mapped[bool] = mapped_column(Boolean, default=False)
    on_saturday: Mapped[bool] = mapped_column(Boolean, default=False)
    on_sunday: Mapped[bool] = mapped_column(Boolean, default=False)
    day_of_month: Mapped[int | None] = mapped_column(Integer)
    expire_on: Mapped[datetime | None] = mapped_column(DateTime())  # device-local wall time
    cloud_keep_last: Mapped[int] = mapped_column(Integer)
    local_keep_last: Mapped[int] = mapped_column(Integer)
    week_anchor: Mapped[date | None] = mapped_column(Date())
    run_now_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    last_job_status: Mapped[str | None] = mapped_column(String(10))

    device: Mapped[Device] = relationship(lazy=_RAISE)
    items: Mapped[list[JobItem]] = relationship(lazy=_RAISE, order_by="JobItem.id")


class JobItem(Timestamps, Base):
    __tablename__ = "job_items"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(IdType, index=True)
    job_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[Str100]
    backup_type_id: Mapped[int] = mapped_column(IdType, ForeignKey("backup_types.id"))
    base_folder: Mapped[str | None] = mapped_column(String(248))
    include_sub_folders: Mapped[bool] = mapped_column(Boolean, default=False)
    search_patterns: Mapped[str | None] = mapped_column(Text)
    exclude_folders: Mapped[str | None] = mapped_column(Text)
    exclude_patterns: Mapped[str | None] = mapped_column(Text)
    no_compress_extensions: Mapped[str | None] = mapped_column(Text)
    server_name: Mapped[Str50]
    database_name: Mapped[str | None] = mapped_column(String(128))
    port: Mapped[int | None] = mapped_column(Integer)
    authentication_mode: Mapped[str | None] = mapped_column(String(10))
    username_encrypted: Mapped[str | None] = mapped_column(Text)
    password_encrypted: Mapped[str | None] = mapped_column(Text)
    option_compress: Mapped[bool] = mapped_column(Boolean, default=False)
    option_copy_only: Mapped[bool] = mapped_column(Boolean, default=False)
    option_log_only: Mapped[bool] = mapped_column(Boolean, default=False)

    backup_type: Mapped[BackupType] = relationship(lazy=_RAISE)
