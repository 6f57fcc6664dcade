"""Partners, their users and companies, plans and subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cleverfox.server.models.base import Base, Id, IdType, Str25, Str50, Str100, Timestamps

_RAISE: Final = "raise"


class PlanType(Timestamps, Base):
    __tablename__ = "plan_types"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[Id]
    name: Mapped[str] = mapped_column(String(100))
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    has_api_access: Mapped[bool] = mapped_column(Boolean, default=True)


class Plan(Timestamps, Base):
    __tablename__ = "plans"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[Id]
    plan_type_id: Mapped[int] = mapped_column(IdType, ForeignKey("plan_types.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    details: Mapped[str | None] = mapped_column(Text)
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    device_limit: Mapped[int] = mapped_column(Integer)
    storage_limit: Mapped[int] = mapped_column(Integer)
    download_limit: Mapped[bool] = mapped_column(Boolean, default=False)

    plan_type: Mapped[PlanType] = relationship(lazy=_RAISE)


class Partner(Timestamps, Base):
    __tablename__ = "partners"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[Id]
    plan_type_id: Mapped[int] = mapped_column(IdType, ForeignKey("plan_types.id"))
    name: Mapped[str] = mapped_column(String(100))
    application_id: Mapped[Str25]
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    api_key_digest: Mapped[str | None] = mapped_column(String(64), unique=True)

    plan_type: Mapped[PlanType] = relationship(lazy=_RAISE)


class _Person(Timestamps):
    first_name: Mapped[str] = mapped_column(String(25))
    last_name: Mapped[str] = mapped_column(String(25))
    email: Mapped[str] = mapped_column(String(256))
    email_folded: Mapped[str] = mapped_column(String(256))
    home_phone: Mapped[str | None] = mapped_column(String(20))
    mobile_phone: Mapped[str | None] = mapped_column(String(20))
    work_phone: Mapped[str | None] = mapped_column(String(20))
    is_account_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)


class PartnerUser(_Person, Base):
    __tablename__ = "partner_users"
    __table_args__ = (
        UniqueConstraint("partner_id", "email_folded"),
        Index(
            "uq_partner_users_owner",
            "partner_id",
            unique=True,
            sqlite_where=text("is_account_owner"),
            postgresql_where=text("is_account_owner"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    partner: Mapped[Partner] = relationship(lazy=_RAISE)


class Company(Timestamps, Base):
    __tablename__ = "companies"
    __table_args__ = (
        UniqueConstraint("partner_id", "external_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    plan_type_id: Mapped[int] = mapped_column(IdType, ForeignKey("plan_types.id"))
    name: Mapped[str] = mapped_column(String(100))
    name_folded: Mapped[str] = mapped_column(String(100))
    address_line1: Mapped[Str50]
    address_line2: Mapped[Str50]
    city_municipality: Mapped[Str50]
    state_providence: Mapped[Str50]
    postal_code: Mapped[Str50]
    country: Mapped[Str50]
    phone: Mapped[Str50]
    external_id: Mapped[Str100]
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    # The company's stored bytes (storage_companies.stored_bytes), copied for reads.
    storage_used_bytes: Mapped[int] = mapped_column(IdType, default=0, server_default=text("0"))

    partner: Mapped[Partner] = relationship(lazy=_RAISE)
    plan_type: Mapped[PlanType] = relationship(lazy=_RAISE)


class CompanyUser(_Person, Base):
    __tablename__ = "company_users"
    __table_args__ = (
        UniqueConstraint("company_id", "email_folded"),
        Index(
            "uq_company_users_owner",
            "company_id",
            unique=True,
            sqlite_where=text("is_account_owner"),
            postgresql_where=text("is_account_owner"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    company: Mapped[Company] = relationship(lazy=_RAISE)


class Subscription(Timestamps, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("partner_id", "external_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[Id]
    partner_id: Mapped[int] = mapped_column(IdType, ForeignKey("partners.id"), index=True)
    company_id: Mapped[int] = mapped_column(
        IdType, ForeignKey("companies.id", ondelete="CASCADE"), index=True
    )
    plan_id: Mapped[int] = mapped_column(IdType, ForeignKey("plans.id"))
    application_id: Mapped[Str25]
    external_id: Mapped[Str100]
    is_inactive: Mapped[bool] = mapped_column(Boolean, default=False)
    additional_device: Mapped[int] = mapped_column(Integer, default=0)
    download_limit_expire_on: Mapped[datetime | None] = mapped_column(DateTime())
    send_notification_to: Mapped[str | None] = mapped_column(Text)
    send_notification_cc: Mapped[str | None] = mapped_column(Text)
    send_notification_bcc: Mapped[str | None] = mapped_column(Text)
    send_notification_on_storage_limit: Mapped[bool] = mapped_column(Boolean, default=False)
    storage_used_bytes: Mapped[int] = mapped_column(IdType, default=0)

    company: Mapped[Company] = relationship(lazy=_RAISE)
    plan: Mapped[Plan] = relationship(lazy=_RAISE)
