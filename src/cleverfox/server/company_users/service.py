"""Rules of company users: a company of the caller, unique Email, one owner, invitations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.companies.service import attach_device_counts
from cleverfox.server.company_users import repository
from cleverfox.server.company_users.schemas import COMPANY_USER
from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.conflicts import UniqueConflict
from cleverfox.server.kit.errors import NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import invalid_reference
from cleverfox.server.mail.messages import InviteeKind
from cleverfox.server.models import CompanyUser
from cleverfox.server.partner_users import people
from cleverfox.server.partner_users.invitations import Invitee, queue_invitation

_WHERE = "of this company"

CONFLICTS = (
    UniqueConflict(
        "uq_company_users_company_id_email_folded",
        "email_taken",
        f"Email is already used by another user {_WHERE}.",
    ),
)


def get_user(session: Session, partner_id: int, user_id: int, *, lock: bool = False) -> CompanyUser:
    user = repository.get_user(session, partner_id, user_id, lock=lock)
    if user is None:
        raise NotFound()
    attach_device_counts(session, [user.company])
    return user


def list_users(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[CompanyUser], bool]:
    """A page of the caller's company users; their embedded Company shows its DeviceCount
    as GET of the company does (one query for the page)."""
    users, has_more = repository.list_users(session, partner_id, query)
    attach_device_counts(session, list({user.company_id: user.company for user in users}.values()))
    return users, has_more


def create_user(
    session: Session, partner_id: int, raw: dict[str, Any], actor: Actor
) -> CompanyUser:
    """POST: CompanyId must be a company of the caller; its first user becomes its account owner.

    Locks the company row first, so of concurrent first users exactly one is the owner.
    Writes Company User Added and queues the invitation mail, in the same transaction.
    """
    values = COMPANY_USER.parse_create(raw)
    company = repository.lock_company(session, partner_id, values["company_id"])
    if company is None:
        raise ValidationFailed([invalid_reference("CompanyId", "company")])
    email_folded = people.fold_email(values["email"])
    if repository.email_taken(session, company.id, email_folded, None):
        raise people.email_taken(_WHERE)
    is_owner = not repository.has_owner(session, company.id)
    people.check_new_owner_active(is_owner, values["is_inactive"])
    user = CompanyUser(**values, email_folded=email_folded, is_account_owner=is_owner)
    session.add(user)
    session.flush()
    record_event(
        session,
        EventKind.COMPANY_USER_ADDED,
        actor=actor,
        partner_id=partner_id,
        company_id=company.id,
        company_user_id=user.id,
    )
    queue_invitation(
        session,
        partner_id,
        Invitee(InviteeKind.COMPANY_USER, user.id, user.email, user.first_name, company.name),
    )
    return get_user(session, partner_id, user.id)


def update_user(
    session: Session, partner_id: int, user_id: int, raw: dict[str, Any], actor: Actor
) -> CompanyUser:
    """PUT: only what is sent changes; the owner stays active; writes Company User Modified."""
    user = get_user(session, partner_id, user_id, lock=True)
    values = COMPANY_USER.parse_update(raw)
    people.check_deactivation(user, values)
    if "email" in values:
        email_folded = people.fold_email(values["email"])
        if repository.email_taken(session, user.company_id, email_folded, user.id):
            raise people.email_taken(_WHERE)
    changes = apply_changes(user, COMPANY_USER, values)
    if changes:
        user.email_folded = people.fold_email(user.email)
        record_event(
            session,
            EventKind.COMPANY_USER_MODIFIED,
            actor=actor,
            partner_id=partner_id,
            company_id=user.company_id,
            company_user_id=user.id,
            changes=changes,
        )
    return user


def delete_user(session: Session, partner_id: int, user_id: int, actor: Actor) -> CompanyUser:
    """DELETE: 409 ``account_owner`` for the account owner; writes Company User Deleted."""
    user = get_user(session, partner_id, user_id, lock=True)
    people.check_deletion(user)
    record_event(
        session,
        EventKind.COMPANY_USER_DELETED,
        actor=actor,
        partner_id=partner_id,
        company_id=user.company_id,
        company_user_id=user.id,
    )
    session.delete(user)
    return user
