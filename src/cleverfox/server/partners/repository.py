"""SQL of partners."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.models import Partner, PlanType


def get_partner(session: Session, partner_id: int, *, lock: bool = False) -> Partner | None:
    stmt = select(Partner).options(joinedload(Partner.plan_type)).where(Partner.id == partner_id)
    if lock:
        stmt = stmt.with_for_update(of=Partner)
    return session.scalars(stmt).one_or_none()


def find_by_key_digest(session: Session, digest: str) -> tuple[Partner, PlanType] | None:
    row = session.execute(
        select(Partner, PlanType)
        .join(PlanType, PlanType.id == Partner.plan_type_id)
        .where(Partner.api_key_digest == digest)
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def list_partners(session: Session) -> list[Partner]:
    return list(
        session.scalars(select(Partner).options(joinedload(Partner.plan_type)).order_by(Partner.id))
    )
