"""Rules of partner users: the caller's own, unique Email, one account owner, invitations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from cleverfox.server.kit.changes import apply_changes
from cleverfox.server.kit.conflicts import UniqueConflict
from cleverfox.server.kit.errors import NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.listing import ListQuery
from cleverfox.server.kit.references import invalid_reference
from cleverfox.server.mail.messages import InviteeKind
from cleverfox.server.models import PartnerUser
from cleverfox.server.partner_users import people, repository
from cleverfox.server.partner_users.invitations import Invitee, queue_invitation
from cleverfox.server.partner_users.schemas import PARTNER_USER

_WHERE = "of your organisation"

CONFLICTS = (
    UniqueConflict(
        "uq_partner_users_partner_id_email_folded",
        "email_taken",
        f"Email is already used by another user {_WHERE}.",
    ),
)


def get_user(session: Session, partner_id: int, user_id: int, *, lock: bool = False) -> PartnerUser:
    user = repository.get_user(session, partner_id, user_id, lock=lock)
    if user is None:
        raise NotFound()
    return user


def list_users(
    session: Session, partner_id: int, query: ListQuery
) -> tuple[list[PartnerUser], bool]:
    return repository.list_users(session, partner_id, query)


def create_user(
    session: Session, partner_id: int, raw: dict[str, Any], actor: Actor
) -> PartnerUser:
    """POST: PartnerId must be the caller's; the partner's first user becomes its account owner.

    Locks the partner row first, so of concurrent first users exactly one is the owner.
    Writes Partner User Added and queues the invitation mail, in the same transaction.
    """
    values = PARTNER_USER.parse_create(raw)
    if values["partner_id"] != partner_id:
        raise ValidationFailed([invalid_reference("PartnerId", "partner")])
    partner = repository.lock_partner(session, partner_id)
    if partner is None:
        raise NotFound()
    email_folded = people.fold_email(values["email"])
    if repository.email_taken(session, partner_id, email_folded, None):
        raise people.email_taken(_WHERE)
    is_owner = not repository.has_owner(session, partner_id)
    people.check_new_owner_active(is_owner, values["is_inactive"])
    user = PartnerUser(**values, email_folded=email_folded, is_account_owner=is_owner)
    session.add(user)
    session.flush()
    record_event(
        session,
        EventKind.PARTNER_USER_ADDED,
        actor=actor,
        partner_id=partner_id,
        partner_user_id=user.id,
    )
    queue_invitation(
        session,
        partner_id,
        Invitee(InviteeKind.PARTNER_USER, user.id, user.email, user.first_name, partner.name),
    )
    return get_user(session, partner_id, user.id)


def update_user(
    session: Session, partner_id: int, user_id: int, raw: dict[str, Any], actor: Actor
) -> PartnerUser:
    """PUT: only what is sent changes; the owner stays active; writes Partner User Modified."""
    user = get_user(session, partner_id, user_id, lock=True)
    values = PARTNER_USER.parse_update(raw)
    people.check_deactivation(user, values)
    if "email" in values:
        email_folded = people.fold_email(values["email"])
        if repository.email_taken(session, partner_id, email_folded, user.id):
            raise people.email_taken(_WHERE)
    changes = apply_changes(user, PARTNER_USER, values)
    if changes:
        user.email_folded = people.fold_email(user.email)
        record_event(
            session,
            EventKind.PARTNER_USER_MODIFIED,
            actor=actor,
            partner_id=partner_id,
            partner_user_id=user.id,
            changes=changes,
        )
    return user


def delete_user(session: Session, partner_id: int, user_id: int, actor: Actor) -> PartnerUser:
    """DELETE: 409 ``account_owner`` for the account owner; writes Partner User Deleted."""
    user = get_user(session, partner_id, user_id, lock=True)
    people.check_deletion(user)
    record_event(
        session,
        EventKind.PARTNER_USER_DELETED,
        actor=actor,
        partner_id=partner_id,
        partner_user_id=user.id,
    )
    session.delete(user)
    return user
