"""Logs (one run of a job, or a missed one), their Log Items, and the mail outbox.

History: no foreign keys to what a log describes, only ids and snapshots (README §6).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from cleverfox.server.models.base import Base, Id, IdType, Str25, Str50, Str100, Timestamps


class Log(Timestamps, Base):
    __tablename__ = "logs"
    __table_args__ = (
        Index("ix_logs_partner_id_id", "partner_id", "id"),
        Index("ix_logs_device_id_id", "device_id", "id"),
        Index("ix_logs_job_id_id", "job_id", "id"),
        Index("ix_logs_company_id_status_id", "company_id", "job_status", "id"),
        Index("ix_logs_status_started", "job_status", "started_utc"),
        Index(
            "uq_logs_running_job",
            "job_id",
            unique=True,
            sqlite_where=text("job_status = 'Running'"),
            postgresql_where=text("job_status = 'Running'"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(IdType)
    company_id: Mapped[int] = mapped_column(IdType)
    device_id: Mapped[int] = mapped_column(IdType)
    job_id: Mapped[int] = mapped_column(IdType)
    subscription_id: Mapped[int | None] = mapped_column(IdType)
    plan_id: Mapped[int | None] = mapped_column(IdType)
    time_zone_id: Mapped[str] = mapped_column(String(50))
    iana_time_zone_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[Str100]
    archive_folder: Mapped[str | None] = mapped_column(Text)
    upload_folder: Mapped[str | None] = mapped_column(Text)
    frequency: Mapped[str | None] = mapped_column(String(10))
    next_run_on: Mapped[datetime | None] = mapped_column(DateTime())
    late_after: Mapped[int | None] = mapped_column(Integer)
    expire_on: Mapped[datetime | None] = mapped_column(DateTime())
    local_keep_last: Mapped[int | None] = mapped_column(Integer)
    cloud_keep_last: Mapped[int | None] = mapped_column(Integer)
    job_started_on: Mapped[datetime | None] = mapped_column(DateTime())  # device-local
    job_completed_on: Mapped[datetime | None] = mapped_column(DateTime())  # device-local
    started_utc: Mapped[datetime | None] = mapped_column(DateTime())
    job_status: Mapped[str] = mapped_column(String(10))
    error_messages: Mapped[str | None] = mapped_column(Text)
    send_notification_to: Mapped[str | None] = mapped_column(Text)
    send_notification_cc: Mapped[str | None] = mapped_column(Text)
    send_notification_bcc: Mapped[str | None] = mapped_column(Text)
    send_notification_on_job_completed: Mapped[bool] = mapped_column(Boolean, default=False)
    send_notification_on_job_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    send_notification_on_job_missed: Mapped[bool] = mapped_column(Boolean, default=False)
    notification_job_completed_processed_on: Mapped[datetime | None] = mapped_column(DateTime())
    notification_job_failed_processed_on: Mapped[datetime | None] = mapped_column(DateTime())
    notification_job_missed_processed_on: Mapped[datetime | None] = mapped_column(DateTime())
    trigger: Mapped[str] = mapped_column(String(10), default="Schedule")
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    bytes_uploaded: Mapped[int | None] = mapped_column(IdType)
    # The agent's last progress report (JSON) while the run is Running; cleared at the finish.
    progress: Mapped[str | None] = mapped_column(Text, default=None)


class LogItem(Base):
    __tablename__ = "log_items"
    __table_args__ = (
        Index("ix_log_items_log_id", "log_id"),
        Index("ix_log_items_partner_id_id", "partner_id", "id"),
        Index("ix_log_items_device_id_id", "device_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    log_id: Mapped[int] = mapped_column(IdType)
    partner_id: Mapped[int] = mapped_column(IdType)
    company_id: Mapped[int] = mapped_column(IdType)
    device_id: Mapped[int] = mapped_column(IdType)
    job_id: Mapped[int] = mapped_column(IdType)
    job_item_id: Mapped[int | None] = mapped_column(IdType, index=True)
    name: Mapped[Str100]
    engine_id: Mapped[Str25]
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
    option_compress: Mapped[bool] = mapped_column(Boolean, default=False)
    option_copy_only: Mapped[bool] = mapped_column(Boolean, default=False)
    option_log_only: Mapped[bool] = mapped_column(Boolean, default=False)
    server_version: Mapped[str | None] = mapped_column(String(100))
    server_edition: Mapped[str | None] = mapped_column(String(100))
    backup_folder: Mapped[str | None] = mapped_column(Text)
    backup_file_name: Mapped[str | None] = mapped_column(String(255))
    backup_file_size: Mapped[int | None] = mapped_column(IdType)
    backup_list_name: Mapped[str | None] = mapped_column(String(255))
    backup_list_size: Mapped[int | None] = mapped_column(IdType)
    backup_list_count: Mapped[int | None] = mapped_column(IdType)
    stored_bytes: Mapped[int | None] = mapped_column(IdType, default=None)
    added_on: Mapped[datetime] = mapped_column(DateTime())


class Mail(Base):
    """One outgoing mail: written in the transaction that decides to send it, sent later.

    ``message_id`` is fixed when the row is written, so a repeat after a crash between the
    SMTP server's acceptance and our commit carries the same Message-ID.
    """

    __tablename__ = "mails"
    __table_args__ = (
        Index("ix_mails_pending", "sent_at", "failed_at", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int | None] = mapped_column(IdType)
    kind: Mapped[str] = mapped_column(String(30))
    log_id: Mapped[int | None] = mapped_column(IdType)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    to_addresses: Mapped[str] = mapped_column(Text)
    cc_addresses: Mapped[str | None] = mapped_column(Text)
    bcc_addresses: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime())
    failed_at: Mapped[datetime | None] = mapped_column(DateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    added_on: Mapped[datetime] = mapped_column(DateTime())
    updated_on: Mapped[datetime | None] = mapped_column(DateTime())
