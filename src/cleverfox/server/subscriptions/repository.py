"""SQL of subscriptions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.models import Company, Device, Plan, Subscription

_PAGING = newest_first(
    Subscription.id, added_on=Subscription.added_on, updated_on=Subscription.updated_on
)


def _visible(partner_id: int) -> Select[Subscription]:
    return (
        select(Subscription)
        .options(joinedload(Subscription.company), joinedload(Subscription.plan))
        .where(Subscription.partner_id == partner_id)
    )


def get_subscription(
    session: Session, partner_id: int, subscription_id: int, *, lock: bool = False
) -> Subscription | None:
    stmt = _visible(partner_id).where(Subscription.id == subscription_id)
    if lock:
        stmt = stmt.with_for_update(of=Subscription)
    return session.scalars(stmt).one_or_none()


def get_any_subscription(session: Session, subscription_id: int) -> Subscription | None:
    """Any partner's subscription, locked (the operator's commands)."""
    stmt = (
        select(Subscription)
        .options(joinedload(Subscription.company), joinedload(Subscription.plan))
        .where(Subscription.id == subscription_id)
        .with_for_update(of=Subscription)
    )
    return session.scalars(stmt).one_or_none()


def list_subscriptions(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[Subscription], bool]:
    stmt = _visible(partner_id)
    if (company_id := query.get("CompanyId")) is not None:
        stmt = stmt.where(Subscription.company_id == company_id)
    return page_of(session, stmt, _PAGING, query)


def get_company(session: Session, partner_id: int, company_id: int) -> Company | None:
    return session.scalars(
        select(Company).where(Company.id == company_id, Company.partner_id == partner_id)
    ).one_or_none()


def get_plan(session: Session, plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


def external_id_taken(
    session: Session, partner_id: int, external_id: str, exclude_id: int | None
) -> bool:
    stmt = select(Subscription.id).where(
        Subscription.partner_id == partner_id, Subscription.external_id == external_id
    )
    if exclude_id is not None:
        stmt = stmt.where(Subscription.id != exclude_id)
    return session.scalars(stmt.limit(1)).first() is not None


def device_counts_by_subscription(session: Session, ids: Iterable[int]) -> dict[int, int]:
    """Devices per subscription id (ids without devices are absent)."""
    return _count_devices(session, Device.subscription_id, ids)


def device_counts_by_company(session: Session, ids: Iterable[int]) -> dict[int, int]:
    """Devices per company id (ids without devices are absent)."""
    return _count_devices(session, Device.company_id, ids)


def _count_devices(
    session: Session, column: InstrumentedAttribute[int], ids: Iterable[int]
) -> dict[int, int]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(column, func.count(Device.id)).where(column.in_(wanted)).group_by(column)
    ).all()
    return {int(key): int(count) for key, count in rows}
