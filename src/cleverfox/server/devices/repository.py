"""SQL of devices."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.companies.repository import device_counts_by_company
from cleverfox.server.kit.listing import ListQuery, contains_pattern, newest_first, page_of
from cleverfox.server.models import Company, Device, Job, Partner, Subscription

_PAGING = newest_first(Device.id, added_on=Device.added_on, updated_on=Device.updated_on)


def _with_embedded(stmt: Select[Device]) -> Select[Device]:
    """Load what a Device's wire shape embeds (one level: its Company and Subscription)."""
    return stmt.options(joinedload(Device.company), joinedload(Device.subscription))


def _visible(partner_id: int) -> Select[Device]:
    return _with_embedded(select(Device)).where(Device.partner_id == partner_id)


def get_device(
    session: Session, partner_id: int, device_id: int, *, lock: bool = False
) -> Device | None:
    """One of the partner's devices, locked for the transaction when ``lock``."""
    stmt = _visible(partner_id).where(Device.id == device_id)
    if lock:
        stmt = stmt.with_for_update(of=Device)
    return session.scalars(stmt).one_or_none()


def get_any_device(session: Session, device_id: int, *, lock: bool = False) -> Device | None:
    """Any partner's device (for the agent, whose key already names it)."""
    stmt = _with_embedded(select(Device)).where(Device.id == device_id)
    if lock:
        stmt = stmt.with_for_update(of=Device)
    return session.scalars(stmt).one_or_none()


@dataclass(frozen=True)
class LastCheck:
    """The last check-ins a list keeps: none at all (``never``), else those at or after
    ``since`` or those before ``before``."""

    never: bool = False
    since: datetime | None = None
    before: datetime | None = None


def list_devices(
    session: Session, partner_id: int, query: ListQuery, last_check: LastCheck | None
) -> tuple[list[Device], bool]:
    """A page of the partner's devices (ConnectionStatus is ``last_check``)."""
    stmt = _visible(partner_id)
    equal = (
        ("CompanyId", Device.company_id),
        ("SubscriptionId", Device.subscription_id),
        ("ExternalId", Device.external_id),
        ("IsInactive", Device.is_inactive),
    )
    for name, column in equal:
        if (value := query.get(name)) is not None:
            stmt = stmt.where(column == value)
    if (text := query.get("NameContains")) is not None:
        stmt = stmt.where(Device.name_folded.like(contains_pattern(text), escape="\\"))
    if last_check is not None:
        stmt = stmt.where(_last_check_is(last_check))
    return page_of(session, stmt, _PAGING, query)


def _last_check_is(last_check: LastCheck) -> ColumnElement[bool]:
    if last_check.never:
        return Device.last_api_check_at.is_(None)
    if last_check.since is not None:
        return Device.last_api_check_at >= last_check.since
    return Device.last_api_check_at < last_check.before


def devices_gone_quiet(session: Session, checked_before: datetime, limit: int) -> list[Device]:
    """At most ``limit`` devices reported online whose last check-in is before
    ``checked_before`` (or missing), by id, their rows locked."""
    stmt = (
        select(Device)
        .where(Device.reported_online.is_(True))
        .where((Device.last_api_check_at < checked_before) | Device.last_api_check_at.is_(None))
        .order_by(Device.id)
        .limit(limit)
        .with_for_update()
    )
    return list(session.scalars(stmt))


def get_company_for_devices(session: Session, partner_id: int, company_id: int) -> Company | None:
    """The partner's company, share-locked on PostgreSQL so it cannot be deleted meanwhile."""
    stmt = (
        select(Company)
        .where(Company.id == company_id, Company.partner_id == partner_id)
        .with_for_update(read=True)
    )
    return session.scalars(stmt).one_or_none()


def get_subscription_for_devices(
    session: Session, partner_id: int, subscription_id: int
) -> Subscription | None:
    """The partner's subscription with its plan, its row locked (FOR UPDATE on PostgreSQL).

    The lock serialises device creation on one subscription, so the device-limit check and
    the insert that follows it act as one step. (SQLite's ``BEGIN IMMEDIATE`` already
    serialises every writer.)
    """
    stmt = (
        select(Subscription)
        .options(joinedload(Subscription.plan))
        .where(Subscription.id == subscription_id, Subscription.partner_id == partner_id)
        .with_for_update(of=Subscription)
    )
    return session.scalars(stmt).one_or_none()


def count_subscription_devices(session: Session, subscription_id: int) -> int:
    stmt = select(func.count(Device.id)).where(Device.subscription_id == subscription_id)
    return int(session.scalar(stmt) or 0)


def device_counts_by_subscription(session: Session, ids: Iterable[int]) -> dict[int, int]:
    """Devices per subscription id, in one grouped query (ids without devices are absent)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Device.subscription_id, func.count(Device.id))
        .where(Device.subscription_id.in_(wanted))
        .group_by(Device.subscription_id)
    ).all()
    return {int(key): int(count) for key, count in rows}


def company_counts(session: Session, ids: Iterable[int]) -> dict[int, int]:
    return device_counts_by_company(session, ids)


def has_jobs(session: Session, device_id: int) -> bool:
    stmt = select(Job.id).where(Job.device_id == device_id).limit(1)
    return session.scalars(stmt).first() is not None


def external_id_taken(
    session: Session, partner_id: int, external_id: str, exclude_id: int | None
) -> bool:
    stmt = select(Device.id).where(
        Device.partner_id == partner_id, Device.external_id == external_id
    )
    if exclude_id is not None:
        stmt = stmt.where(Device.id != exclude_id)
    return session.scalars(stmt.limit(1)).first() is not None


def find_by_key_digest(session: Session, digest: str) -> tuple[int, int, int, bool, bool] | None:
    """``(device id, partner id, company id, device inactive, partner inactive)`` of a key."""
    row = session.execute(
        select(
            Device.id, Device.partner_id, Device.company_id, Device.is_inactive, Partner.is_inactive
        )
        .join(Partner, Partner.id == Device.partner_id)
        .where(Device.api_key_digest == digest)
    ).one_or_none()
    if row is None:
        return None
    return int(row[0]), int(row[1]), int(row[2]), bool(row[3]), bool(row[4])
