"""Wire shape of a Partner."""

from __future__ import annotations

from typing import Any

from cleverfox.server.catalog.schemas import plan_type_out
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Partner

PARTNER = WireSchema(
    "Partner",
    [
        Attr("PartnerId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("PlanTypeId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("PlanType", Kind.OBJECT, Rule.READ_ONLY),
        Attr("Name", rule=Rule.REQUIRED, max_length=100),
        Attr("ApplicationId", max_length=25),
        Attr("IsInactive", Kind.BOOLEAN, Rule.READ_ONLY),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    ],
)
PARTNER_FILTERS: tuple[Filter, ...] = ()


def partner_out(partner: Partner | None, *, embed: bool = True) -> dict[str, Any] | None:
    """A Partner; ``embed=False`` when it is itself embedded (its PlanType is then null)."""
    if partner is None:
        return None
    return stamped(
        {
            "PartnerId": partner.id,
            "PlanTypeId": partner.plan_type_id,
            "PlanType": plan_type_out(partner.plan_type) if embed else None,
            "Name": partner.name,
            "ApplicationId": partner.application_id,
            "IsInactive": partner.is_inactive,
        },
        partner,
    )
