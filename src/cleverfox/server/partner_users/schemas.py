"""Wire shape of a Partner User."""

from __future__ import annotations

from typing import Any

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import PartnerUser
from cleverfox.server.partner_users.people import PERSON_ATTRS, person_out
from cleverfox.server.partners.schemas import partner_out

PARTNER_USER = WireSchema(
    "PartnerUser",
    [
        Attr("PartnerUserId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("PartnerId", Kind.INTEGER, Rule.REQUIRED_ON_POST),
        Attr("Partner", Kind.OBJECT, Rule.READ_ONLY),
        *PERSON_ATTRS,
    ],
)
PARTNER_USER_FILTERS = (
    Filter("Email", Kind.STRING),
    Filter("IsInactive", Kind.BOOLEAN),
)


def partner_user_out(user: PartnerUser, *, embed: bool = True) -> dict[str, Any]:
    """A Partner User; its Partner is embedded one level deep (the Partner's own objects null)."""
    data: dict[str, Any] = {
        "PartnerUserId": user.id,
        "PartnerId": user.partner_id,
        "Partner": partner_out(user.partner, embed=False) if embed else None,
        **person_out(user),
    }
    return stamped(data, user)
