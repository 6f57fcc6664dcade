"""What outlives the objects it describes: Events and recorded request Tokens.

No foreign keys here: history keeps the ids of deleted objects and its own copy of the
partner that owned them (README §6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cleverfox.server.models.base import Base, Id, IdType, UtcTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_partner_id_id", "partner_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    event_type_id: Mapped[int] = mapped_column(Integer)
    partner_id: Mapped[int | None] = mapped_column(IdType)
    actor: Mapped[str] = mapped_column(String(10))
    backup_type_id: Mapped[int | None] = mapped_column(IdType)
    company_id: Mapped[int | None] = mapped_column(IdType, index=True)
    company_user_id: Mapped[int | None] = mapped_column(IdType)
    device_id: Mapped[int | None] = mapped_column(IdType, index=True)
    job_id: Mapped[int | None] = mapped_column(IdType, index=True)
    job_item_id: Mapped[int | None] = mapped_column(IdType)
    log_id: Mapped[int | None] = mapped_column(IdType)
    log_item_id: Mapped[int | None] = mapped_column(IdType)
    partner_user_id: Mapped[int | None] = mapped_column(IdType)
    plan_id: Mapped[int | None] = mapped_column(IdType)
    plan_type_id: Mapped[int | None] = mapped_column(IdType)
    subscription_id: Mapped[int | None] = mapped_column(IdType)
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    added_on: Mapped[UtcTime]


class RequestToken(Base):
    """A Token of a request that succeeded: the partner's duplicate-prevention record."""

    __tablename__ = "request_tokens"

    partner_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    token: Mapped[str] = mapped_column(String(50), primary_key=True)
    resource: Mapped[str] = mapped_column(String(50))
    object_id: Mapped[int | None] = mapped_column(IdType)
    added_on: Mapped[datetime] = mapped_column(DateTime(), index=True)
