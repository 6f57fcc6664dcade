"""Wire shape of a Partner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cleverfox.server.catalog.schemas import PLAN_TYPE_PRESENTER
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Partner

PARTNER = WireSchema(
    "Partner",
    [
        Attr("PartnerId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
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


PARTNER_PRESENTER = Presenter(
    PARTNER, embedded={"PlanType": Embed(PLAN_TYPE_PRESENTER, "plan_type_")}
)
partner_out: Callable[[Partner], dict[str, Any]] = PARTNER_PRESENTER.objects()
"""A Partner with its PlanType."""
