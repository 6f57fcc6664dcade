"""Rules of partner accounts: who may call, changing one's own record, operator actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.kit.auth import PartnerPrincipal
from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.errors import Forbidden, NotFound
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.models import Partner
from cleverfox.server.partners import repository
from cleverfox.server.partners.schemas import PARTNER


def resolve_partner_key(session: Session, digest: str) -> PartnerPrincipal | None:
    """The partner owning a key digest; 403 ``partner_plan_required`` when it may not call."""
    owner = repository.find_key_owner(session, digest)
    if owner is None:
        return None
    if owner.partner_inactive or owner.plan_type_inactive or not owner.has_api_access:
        raise Forbidden(
            "This account is not an active partner on a Partner Plan with API access.",
            code="partner_plan_required",
        )
    return PartnerPrincipal(partner_id=owner.partner_id, key_digest=digest)


def get_own_partner(session: Session, caller_id: int, partner_id: int) -> Partner:
    """The caller's partner record; any other id is 404."""
    if partner_id != caller_id:
        raise NotFound()
    partner = repository.get_partner(session, partner_id)
    if partner is None:
        raise NotFound()
    return partner


def list_own_partner(
    session: Session, caller_id: int, query: ListQuery
) -> tuple[list[Partner], bool]:
    """The list holds the caller's own partner only (subject to paging and filters)."""
    partner = repository.get_partner(session, caller_id)
    if partner is None or query.page_no > 1:
        return [], False
    if query.before_id is not None and partner.id >= query.before_id:
        return [], False
    changed = partner.updated_on or partner.added_on
    if query.updated_since is not None and changed < query.updated_since:
        return [], False
    return [partner], False


def update_partner(
    session: Session, caller_id: int, partner_id: int, raw: dict[str, Any], actor: Actor
) -> Partner:
    """PUT of the caller's partner: Name and ApplicationId; writes Partner Modified."""
    partner = get_own_partner(session, caller_id, partner_id)
    values = PARTNER.parse_update(raw)
    changes = apply_changes(partner, PARTNER, values)
    if changes:
        record_event(
            session,
            EventKind.PARTNER_MODIFIED,
            actor=actor,
            partner_id=partner.id,
            changes=changes,
            plan_type_id=partner.plan_type_id,
        )
    return partner
