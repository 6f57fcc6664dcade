"""Wire shape of a Company User."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cleverfox.server.companies.schemas import COMPANY_PRESENTER
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import CompanyUser
from cleverfox.server.partner_users.people import PERSON_ATTRS

COMPANY_USER = WireSchema(
    "CompanyUser",
    [
        Attr("CompanyUserId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
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


COMPANY_USER_PRESENTER = Presenter(
    COMPANY_USER, embedded={"Company": Embed(COMPANY_PRESENTER, "company_")}
)
company_user_out: Callable[[CompanyUser], dict[str, Any]] = COMPANY_USER_PRESENTER.objects()
"""A CompanyUser; its Company embedded one level deep (the Company's own objects null)."""
