"""Shared catalogues every partner sees: backup types and event types."""

from __future__ import annotations

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from cleverfox.server.models.base import Base, Id


class BackupType(Base):
    __tablename__ = "backup_types"

    id: Mapped[Id]
    engine_id: Mapped[str] = mapped_column(String(25), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    engine_type: Mapped[str] = mapped_column(String(10))
    port: Mapped[int | None] = mapped_column(Integer)
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)


class EventType(Base):
    __tablename__ = "event_types"

    id: Mapped[Id]
    name: Mapped[str] = mapped_column(String(100))
