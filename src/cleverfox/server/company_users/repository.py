"""SQL of company users: visible through their company's partner."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager

from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.models import Company, CompanyUser

_PAGING = newest_first(
    CompanyUser.id, added_on=CompanyUser.added_on, updated_on=CompanyUser.updated_on
)


def _visible(partner_id: int) -> Select[CompanyUser]:
    return (
        select(CompanyUser)
        .join(Company, Company.id == CompanyUser.company_id)
        .options(contains_eager(CompanyUser.company))
        .where(Company.partner_id == partner_id)
    )


def get_user(
    session: Session, partner_id: int, user_id: int, *, lock: bool = False
) -> CompanyUser | None:
    stmt = _visible(partner_id).where(CompanyUser.id == user_id)
    if lock:
        stmt = stmt.with_for_update(of=CompanyUser)
    return session.scalars(stmt).one_or_none()


def list_users(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[CompanyUser], bool]:
    stmt = _visible(partner_id)
    if (company_id := query.get("CompanyId")) is not None:
        stmt = stmt.where(CompanyUser.company_id == company_id)
    if (email := query.get("Email")) is not None:
        stmt = stmt.where(CompanyUser.email_folded == email.casefold())
    if (inactive := query.get("IsInactive")) is not None:
        stmt = stmt.where(CompanyUser.is_inactive == inactive)
    return page_of(session, stmt, _PAGING, query)


def lock_company(session: Session, partner_id: int, company_id: int) -> Company | None:
    """A company of the partner, its row locked so that deciding the account owner is serialised.

    ``FOR NO KEY UPDATE``: inserts that merely reference the company need not wait, while a
    concurrent company update or delete (``FOR UPDATE``) does.
    """
    stmt = (
        select(Company)
        .where(Company.id == company_id, Company.partner_id == partner_id)
        .with_for_update(key_share=True)
    )
    return session.scalars(stmt).one_or_none()


def has_owner(session: Session, company_id: int) -> bool:
    stmt = select(CompanyUser.id).where(
        CompanyUser.company_id == company_id, CompanyUser.is_account_owner.is_(True)
    )
    return session.scalars(stmt.limit(1)).first() is not None


def email_taken(
    session: Session, company_id: int, email_folded: str, exclude_id: int | None
) -> bool:
    stmt = select(CompanyUser.id).where(
        CompanyUser.company_id == company_id, CompanyUser.email_folded == email_folded
    )
    if exclude_id is not None:
        stmt = stmt.where(CompanyUser.id != exclude_id)
    return session.scalars(stmt.limit(1)).first() is not None
