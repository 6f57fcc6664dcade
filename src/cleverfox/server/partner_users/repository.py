"""SQL of partner users."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.kit.listing import ListQuery, newest_first, page_of
from cleverfox.server.models import Partner, PartnerUser

_PAGING = newest_first(
    PartnerUser.id, added_on=PartnerUser.added_on, updated_on=PartnerUser.updated_on
)


def _visible(partner_id: int) -> Select[PartnerUser]:
    return (
        select(PartnerUser)
        .options(joinedload(PartnerUser.partner))
        .where(PartnerUser.partner_id == partner_id)
    )


def get_user(
    session: Session, partner_id: int, user_id: int, *, lock: bool = False
) -> PartnerUser | None:
    stmt = _visible(partner_id).where(PartnerUser.id == user_id)
    if lock:
        stmt = stmt.with_for_update(of=PartnerUser)
    return session.scalars(stmt).one_or_none()


def list_users(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[PartnerUser], bool]:
    stmt = _visible(partner_id)
    if (email := query.get("Email")) is not None:
        stmt = stmt.where(PartnerUser.email_folded == email.casefold())
    if (inactive := query.get("IsInactive")) is not None:
        stmt = stmt.where(PartnerUser.is_inactive == inactive)
    return page_of(session, stmt, _PAGING, query)


def lock_partner(session: Session, partner_id: int) -> Partner | None:
    """The partner, its row locked so that deciding the account owner is serialised.

    ``FOR NO KEY UPDATE`` rather than ``FOR UPDATE``: inserts that merely reference the
    partner (their foreign-key check takes ``KEY SHARE``) need not wait for it.
    """
    stmt = select(Partner).where(Partner.id == partner_id).with_for_update(key_share=True)
    return session.scalars(stmt).one_or_none()


def has_owner(session: Session, partner_id: int) -> bool:
    stmt = select(PartnerUser.id).where(
        PartnerUser.partner_id == partner_id, PartnerUser.is_account_owner.is_(True)
    )
    return session.scalars(stmt.limit(1)).first() is not None


def email_taken(
    session: Session, partner_id: int, email_folded: str, exclude_id: int | None
) -> bool:
    stmt = select(PartnerUser.id).where(
        PartnerUser.partner_id == partner_id, PartnerUser.email_folded == email_folded
    )
    if exclude_id is not None:
        stmt = stmt.where(PartnerUser.id != exclude_id)
    return session.scalars(stmt.limit(1)).first() is not None
