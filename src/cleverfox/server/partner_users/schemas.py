"""Wire shape of a Partner User."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import PartnerUser
from cleverfox.server.partner_users.people import PERSON_ATTRS
from cleverfox.server.partners.schemas import PARTNER_PRESENTER

PARTNER_USER = WireSchema(
    "PartnerUser",
    [
        Attr("PartnerUserId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
        Attr("PartnerId", Kind.INTEGER, Rule.REQUIRED_ON_POST),
        Attr("Partner", Kind.OBJECT, Rule.READ_ONLY),
        *PERSON_ATTRS,
    ],
)
PARTNER_USER_FILTERS = (
    Filter("Email", Kind.STRING),
    Filter("IsInactive", Kind.BOOLEAN),
)


PARTNER_USER_PRESENTER = Presenter(
    PARTNER_USER, embedded={"Partner": Embed(PARTNER_PRESENTER, "partner_")}
)
partner_user_out: Callable[[PartnerUser], dict[str, Any]] = PARTNER_USER_PRESENTER.objects()
"""A PartnerUser; its Partner embedded one level deep (the Partner's own objects null)."""
