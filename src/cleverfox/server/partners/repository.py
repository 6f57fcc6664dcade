"""SQL of partners."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from cleverfox.server.models import Partner, PlanType


def get_partner(session: Session, partner_id: int, *, lock: bool = False) -> Partner | None:
    stmt = select(Partner).options(joinedload(Partner.plan_type)).where(Partner.id == partner_id)
    if lock:
        stmt = stmt.with_for_update(of=Partner)
    return session.scalars(stmt).one_or_none()


class KeyOwner(NamedTuple):
    """What the authentication rule needs to know about the partner owning a key."""

    partner_id: int
    partner_inactive: bool
    plan_type_inactive: bool
    has_api_access: bool


_partners = Partner.__table__
_plan_types = PlanType.__table__
# Built once: Core columns, not entities, so a look-up loads no ORM objects (docs/benchmarks.md).
_KEY_OWNER = (
    select(
        _partners.c.id,
        _partners.c.is_inactive,
        _plan_types.c.is_inactive,
        _plan_types.c.has_api_access,
    )
    .join_from(_partners, _plan_types, _plan_types.c.id == _partners.c.plan_type_id)
    .where(_partners.c.api_key_digest == bindparam("digest"))
)


def find_key_owner(session: Session, digest: str) -> KeyOwner | None:
    """The partner whose API key has ``digest``, with its plan type's flags."""
    row = session.execute(_KEY_OWNER, {"digest": digest}).one_or_none()
    return None if row is None else KeyOwner(int(row[0]), bool(row[1]), bool(row[2]), bool(row[3]))


def list_partners(session: Session) -> list[Partner]:
    return list(
        session.scalars(select(Partner).options(joinedload(Partner.plan_type)).order_by(Partner.id))
    )
