"""Wire shape of a Company User."""

from __future__ import annotations

from typing import Any

from cleverfox.server.companies.schemas import company_out
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import CompanyUser
from cleverfox.server.partner_users.people import PERSON_ATTRS, person_out

COMPANY_USER = WireSchema(
    "CompanyUser",
    [
        Attr("CompanyUserId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("CompanyId", Kind.INTEGER, Rule.REQUIRED_ON_POST),
        Attr("Company", Kind.OBJECT, Rule.READ_ONLY),
        *PERSON_ATTRS,
    ],
)
COMPANY_USER_FILTERS = (
    Filter("CompanyId", Kind.INTEGER),
    Filter("Email", Kind.STRING),
    Filter("IsInactive", Kind.BOOLEAN),
)


def company_user_out(user: CompanyUser, *, embed: bool = True) -> dict[str, Any]:
    """A Company User; its Company is embedded one level deep (the Company's own objects null)."""
    data: dict[str, Any] = {
        "CompanyUserId": user.id,
        "CompanyId": user.company_id,
        "Company": company_out(user.company, embed=False) if embed else None,
        **person_out(user),
    }
    return stamped(data, user)
