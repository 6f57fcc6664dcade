"""The operator's partner commands (operator-cli.md): create, list, keys, (de)activation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from cleverfox.server.catalog.repository import find_plan_type
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.references import folded
from cleverfox.server.kit.secrets import ServerSecret, new_api_key
from cleverfox.server.models import Company, Partner, PartnerUser
from cleverfox.server.partners import repository


@dataclass(frozen=True)
class NewPartner:
    partner_id: int
    company_id: int
    api_key: str
    partner_user_id: int | None


@dataclass(frozen=True)
class Owner:
    email: str
    first_name: str
    last_name: str


def create_partner(
    session: Session,
    secret: ServerSecret,
    name: str,
    plan_type_id: int = 1,
    owner: Owner | None = None,
) -> NewPartner:
    """A partner with its own company and a new API key (returned this once)."""
    _check_name(name)
    if find_plan_type(session, plan_type_id) is None:
        raise ValidationFailed(
            [FieldError("PlanTypeId", "invalid_reference", f"No plan type {plan_type_id}.")]
        )
    api_key = new_api_key()
    partner = Partner(name=name, plan_type_id=plan_type_id, api_key_digest=secret.digest(api_key))
    session.add(partner)
    session.flush()
    company = Company(
        partner_id=partner.id, plan_type_id=plan_type_id, name=name, name_folded=folded(name)
    )
    session.add(company)
    session.flush()
    record_event(
        session,
        EventKind.COMPANY_ADDED,
        actor=Actor.OPERATOR,
        partner_id=partner.id,
        company_id=company.id,
        plan_type_id=plan_type_id,
    )
    user_id = _add_owner(session, partner.id, owner) if owner else None
    return NewPartner(partner.id, company.id, api_key, user_id)


def _check_name(name: str) -> None:
    if not name.strip() or len(name) > 100 or "\x00" in name:
        raise ValidationFailed(
            [FieldError("Name", "invalid_value", "Name must be 1 to 100 characters.")]
        )


def _add_owner(session: Session, partner_id: int, owner: Owner) -> int:
    user = PartnerUser(
        partner_id=partner_id,
        first_name=owner.first_name,
        last_name=owner.last_name,
        email=owner.email,
        email_folded=owner.email.casefold(),
        is_account_owner=True,
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        EventKind.PARTNER_USER_ADDED,
        actor=Actor.OPERATOR,
        partner_id=partner_id,
        partner_user_id=user.id,
    )
    return user.id


def rotate_partner_key(session: Session, secret: ServerSecret, partner_id: int) -> str:
    """A new API key for the partner; the old one stops working at once."""
    partner = _require(session, partner_id)
    api_key = new_api_key()
    partner.api_key_digest = secret.digest(api_key)
    partner.updated_on = utcnow()
    record_event(
        session,
        EventKind.PARTNER_API_KEY_CHANGED,
        actor=Actor.OPERATOR,
        partner_id=partner.id,
        changes={"ApiKey": ["***", "***"]},
    )
    return api_key


def list_partners(session: Session) -> list[Partner]:
    """Every partner, oldest first, with its plan type loaded."""
    return repository.list_partners(session)


def set_partner_active(session: Session, partner_id: int, active: bool) -> Partner:
    """(De)activate a partner; a change writes Partner Modified with Actor Operator.

    An inactive partner's key gets 403 ``partner_plan_required`` from the next request on.
    """
    partner = _require(session, partner_id)
    if partner.is_inactive == (not active):
        return partner
    record_event(
        session,
        EventKind.PARTNER_MODIFIED,
        actor=Actor.OPERATOR,
        partner_id=partner.id,
        changes={"IsInactive": [partner.is_inactive, not active]},
    )
    partner.is_inactive = not active
    partner.updated_on = utcnow()
    return partner


def _require(session: Session, partner_id: int) -> Partner:
    partner = repository.get_partner(session, partner_id, lock=True)
    if partner is None:
        raise NotFound(f"No partner {partner_id}.")
    return partner
