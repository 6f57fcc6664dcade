"""SQL of companies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, bindparam, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.kit.db import Prepared
from cleverfox.server.kit.hot import HotReads
from cleverfox.server.kit.listing import ListQuery, Window, contains_pattern, newest_first
from cleverfox.server.models import Company, CompanyUser, Device, Partner, PlanType, Subscription


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


def external_id_taken(
    session: Session, partner_id: int, external_id: str, exclude_id: int | None
) -> bool:
    stmt = select(Company.id).where(
        Company.partner_id == partner_id, Company.external_id == external_id
    )
    if exclude_id is not None:
        stmt = stmt.where(Company.id != exclude_id)
    return session.scalars(stmt.limit(1)).first() is not None


def users_of(session: Session, company_id: int) -> list[CompanyUser]:
    """The company's users, by id."""
    stmt = select(CompanyUser).where(CompanyUser.company_id == company_id)
    return list(session.scalars(stmt.order_by(CompanyUser.id)))


def subscriptions_of(session: Session, company_id: int) -> list[Subscription]:
    """The company's subscriptions, by id."""
    stmt = select(Subscription).where(Subscription.company_id == company_id)
    return list(session.scalars(stmt.order_by(Subscription.id)))


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


# The read path: Core, built once. One SELECT gives the wire shape's columns — the company,
# its embedded Partner and PlanType, and DeviceCount as a correlated subquery — as rows that
# ``schemas.company_row_out`` presents; no ORM objects are loaded (docs/benchmarks.md).
_companies = Company.__table__
_partners = Partner.__table__
_plan_types = PlanType.__table__
_devices = Device.__table__
_COMPANY_COLUMNS = [column for column in _companies.c if column.key != "name_folded"]
_EMBEDDED_COLUMNS = [
    _partners.c.plan_type_id.label("partner_plan_type_id"),
    _partners.c.name.label("partner_name"),
    _partners.c.application_id.label("partner_application_id"),
    _partners.c.is_inactive.label("partner_is_inactive"),
    _partners.c.added_on.label("partner_added_on"),
    _partners.c.updated_on.label("partner_updated_on"),
    _plan_types.c.name.label("plan_type_name"),
    _plan_types.c.is_inactive.label("plan_type_is_inactive"),
    _plan_types.c.has_api_access.label("plan_type_has_api_access"),
]
_DEVICE_COUNT = (
    select(func.count())
    .where(_devices.c.company_id == _companies.c.id)
    .scalar_subquery()
    .label("device_count")
)
ROWS = (
    select(*_COMPANY_COLUMNS, *_EMBEDDED_COLUMNS, _DEVICE_COUNT)
    .join_from(_companies, _partners, _partners.c.id == _companies.c.partner_id)
    .join(_plan_types, _plan_types.c.id == _companies.c.plan_type_id)
    .where(_companies.c.partner_id == bindparam("partner_id"))
)
_ONE_ROW = Prepared(ROWS.where(_companies.c.id == bindparam("company_id")))
_PAGING = newest_first(
    _companies.c.id, added_on=_companies.c.added_on, updated_on=_companies.c.updated_on
)


async def get_company_row(
    reads: HotReads, partner_id: int, company_id: int
) -> dict[str, Any] | None:
    """One of the partner's companies as a row for ``company_row_out``; ``None`` if not theirs."""
    return await reads.fetch_one(_ONE_ROW, {"partner_id": partner_id, "company_id": company_id})


def list_company_rows(
    connection: Connection, partner_id: int, query: ListQuery
) -> tuple[list[RowMapping], bool]:
    """A page of the partner's companies as rows for ``company_row_out``, newest first, and
    whether more follow. Filters: ExternalId, IsInactive, NameContains (case-folded)."""
    where: list[ColumnElement[bool]] = []
    if (external_id := query.get("ExternalId")) is not None:
        where.append(_companies.c.external_id == external_id)
    if (inactive := query.get("IsInactive")) is not None:
        where.append(_companies.c.is_inactive == inactive)
    if (text := query.get("NameContains")) is not None:
        where.append(_companies.c.name_folded.like(contains_pattern(text), escape="\\"))
    stmt = ROWS.where(*where)

    def fetch(window: Window) -> Sequence[RowMapping]:
        params = {"partner_id": partner_id, **window}
        return connection.execute(_PAGING.apply(stmt, window), params).mappings().all()

    return _PAGING.page(query, fetch)
