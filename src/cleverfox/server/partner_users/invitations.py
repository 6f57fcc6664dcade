"""The invitation mail a new partner or company user gets, queued in the ``mails`` outbox.

``queue_invitation`` only writes the outbox row, in the caller's transaction, so the mail
exists exactly when the user does; the mail dispatcher sends due rows later. The Message-ID
is fixed here, so a repeat after a crash between the SMTP server's acceptance and our commit
is recognisable. What the mail says is ``mail.messages.invitation_message``'s.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.mail.messages import InviteeKind, invitation_message
from cleverfox.server.models import Mail

INVITATION = "invitation"
# The builder wants a sender; the outbox row keeps none (the dispatcher's From wins).
_PLACEHOLDER_SENDER = "noreply@cleverfox.example"


@dataclass(frozen=True)
class Invitee:
    """Who is invited, to what: the user's id, address and name, and the account's name."""

    kind: InviteeKind
    user_id: int
    email: str
    first_name: str
    organisation_name: str


def queue_invitation(session: Session, partner_id: int, invitee: Invitee) -> Mail:
    """Add the invitation mail for ``invitee`` to the outbox (due now, not yet attempted).

    ``invitee.email`` must be a valid address (the schemas made sure); raises ``ValueError``
    otherwise.
    """
    message_id = invitation_message_id(invitee.kind, invitee.user_id)
    message = invitation_message(
        message_id=message_id,
        sender=_PLACEHOLDER_SENDER,
        date=datetime.now(UTC),
        email=invitee.email,
        first_name=invitee.first_name,
        organisation_name=invitee.organisation_name,
        kind=invitee.kind,
    )
    now = utcnow()
    mail = Mail(
        partner_id=partner_id,
        kind=INVITATION,
        message_id=message_id,
        to_addresses=invitee.email,
        subject=str(message["Subject"]),
        body=message.get_content(),
        attempts=0,
        next_attempt_at=now,
        added_on=now,
    )
    session.add(mail)
    return mail


def invitation_message_id(kind: InviteeKind, user_id: int) -> str:
    """``<invite-partner-12-9f3c…@cleverfox>``: stable once stored, unique by its random part."""
    return f"<invite-{kind.value}-{user_id}-{secrets.token_hex(8)}@cleverfox>"
