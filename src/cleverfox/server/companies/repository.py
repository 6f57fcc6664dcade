"""SQL of companies."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.kit.listing import ListQuery, contains_pattern, page_of
from cleverfox.server.models import Company, Device, Partner


def _visible(partner_id: int) -> Select[Company]:
    return (
        select(Company)
        .options(joinedload(Company.partner), joinedload(Company.plan_type))
        .where(Company.partner_id == partner_id)
    )


def get_company(
    session: Session, partner_id: int, company_id: int, *, lock: bool = False
) -> Company | None:
    stmt = _visible(partner_id).where(Company.id == company_id)
    if lock:
        stmt = stmt.with_for_update(of=Company)
    return session.scalars(stmt).one_or_none()


def list_companies(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[Company], bool]:
    stmt = _visible(partner_id)
    if (external_id := query.get("ExternalId")) is not None:
        stmt = stmt.where(Company.external_id == external_id)
    if (inactive := query.get("IsInactive")) is not None:
        stmt = stmt.where(Company.is_inactive == inactive)
    if (text := query.get("NameContains")) is not None:
        stmt = stmt.where(Company.name_folded.like(contains_pattern(text), escape="\\"))
    return page_of(
        session, stmt, Company.id, query, added_on=Company.added_on, updated_on=Company.updated_on
    )


def external_id_taken(
    session: Session, partner_id: int, external_id: str, exclude_id: int | None
) -> bool:
    stmt = select(Company.id).where(
        Company.partner_id == partner_id, Company.external_id == external_id
    )
    if exclude_id is not None:
        stmt = stmt.where(Company.id != exclude_id)
    return session.scalars(stmt.limit(1)).first() is not None


def load_partner(session: Session, partner_id: int) -> Partner | None:
    return session.scalars(
        select(Partner).options(joinedload(Partner.plan_type)).where(Partner.id == partner_id)
    ).one_or_none()


def device_counts_by_company(session: Session, ids: Iterable[int]) -> dict[int, int]:
    """Devices per company id, in one grouped query (ids without devices are absent)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Device.company_id, func.count(Device.id))
        .where(Device.company_id.in_(wanted))
        .group_by(Device.company_id)
    ).all()
    return {int(key): int(count) for key, count in rows}
