"""Wire shape of a Company."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cleverfox.server.catalog.schemas import PLAN_TYPE_PRESENTER
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Company
from cleverfox.server.partners.schemas import PARTNER_PRESENTER

_ADDRESS = (
    "AddressLine1",
    "AddressLine2",
    "CityMunicipality",
    "StateProvidence",
    "PostalCode",
    "Country",
    "Phone",
)

COMPANY = WireSchema(
    "Company",
    [
        Attr("CompanyId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
        Attr("PartnerId", Kind.INTEGER, Rule.REQUIRED_ON_POST),
        Attr("Partner", Kind.OBJECT, Rule.READ_ONLY),
        Attr("PlanTypeId", Kind.INTEGER, Rule.REQUIRED_ON_POST),
        Attr("PlanType", Kind.OBJECT, Rule.READ_ONLY),
        Attr("Name", rule=Rule.REQUIRED, max_length=100),
        *(Attr(name, max_length=50) for name in _ADDRESS),
        Attr("ExternalId", max_length=100),
        Attr("IsInactive", Kind.BOOLEAN),
        Attr("DeviceCount", Kind.INTEGER, Rule.READ_ONLY),
        Attr(
            "StorageUsedBytes",
            Kind.INTEGER,
            Rule.READ_ONLY,
            doc="Stored (compressed, deduplicated) bytes of the company's backups.",
        ),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    ],
)
COMPANY_FILTERS = (
    Filter("ExternalId", Kind.STRING),
    Filter("IsInactive", Kind.BOOLEAN),
    Filter("NameContains", Kind.STRING),
)


COMPANY_PRESENTER = Presenter(
    COMPANY,
    embedded={
        "Partner": Embed(PARTNER_PRESENTER, "partner_"),
        "PlanType": Embed(PLAN_TYPE_PRESENTER, "plan_type_"),
    },
)
"""A Company: its Partner and PlanType embedded; DeviceCount read as ``device_count`` (an
attribute ``companies.service.attach_device_counts`` sets on objects, a column of rows)."""

company_out: Callable[[Company], dict[str, Any]] = COMPANY_PRESENTER.objects()
company_row_out: Callable[[Mapping[Any, Any]], dict[str, Any]] = COMPANY_PRESENTER.rows()
"""A Company from a row of ``repository.ROWS`` (a hot read's dict, or a ``RowMapping``,
whose keys may also be column objects, hence not ``Mapping[str, Any]``)."""
company_flat_row_out: Callable[[Mapping[Any, Any]], dict[str, Any]] = COMPANY_PRESENTER.rows(
    flat=True
)
"""A Company embedded one level down (its Partner and PlanType null), from the same rows."""
