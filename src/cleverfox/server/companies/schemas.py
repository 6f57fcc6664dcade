"""Wire shape of a Company."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cleverfox.server.catalog.schemas import plan_type_out
from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Company
from cleverfox.server.partners.schemas import partner_out

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
        Attr("CompanyId", Kind.INTEGER, Rule.READ_ONLY),
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


def company_out(
    company: Company | None, *, embed: bool = True, device_count: int | None = None
) -> dict[str, Any] | None:
    """A Company; embedded objects one level deep only."""
    if company is None:
        return None
    data: dict[str, Any] = {
        "CompanyId": company.id,
        "PartnerId": company.partner_id,
        "Partner": partner_out(company.partner, embed=False) if embed else None,
        "PlanTypeId": company.plan_type_id,
        "PlanType": plan_type_out(company.plan_type) if embed else None,
        "Name": company.name,
        "AddressLine1": company.address_line1,
        "AddressLine2": company.address_line2,
        "CityMunicipality": company.city_municipality,
        "StateProvidence": company.state_providence,
        "PostalCode": company.postal_code,
        "Country": company.country,
        "Phone": company.phone,
        "ExternalId": company.external_id,
        "IsInactive": company.is_inactive,
        "DeviceCount": device_count
        if device_count is not None
        else getattr(company, "device_count", 0),
        "StorageUsedBytes": company.storage_used_bytes or 0,
    }
    return stamped(data, company)


def company_row_out(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A Company from a row of ``repository.get_company_row`` / ``list_company_rows``: the
    same JSON as ``company_out`` (embedded Partner with a null PlanType, embedded PlanType).

    ``row`` is read by column name: a hot read's dict, or a ``RowMapping`` (whose keys may
    also be column objects, hence not ``Mapping[str, Any]``)."""
    return {
        "CompanyId": row["id"],
        "PartnerId": row["partner_id"],
        "Partner": {
            "PartnerId": row["partner_id"],
            "PlanTypeId": row["partner_plan_type_id"],
            "PlanType": None,
            "Name": row["partner_name"],
            "ApplicationId": row["partner_application_id"],
            "IsInactive": row["partner_is_inactive"],
            "AddedOn": format_datetime(row["partner_added_on"]),
            "UpdatedOn": format_datetime(row["partner_updated_on"]),
            "Token": None,
        },
        "PlanTypeId": row["plan_type_id"],
        "PlanType": {
            "PlanTypeId": row["plan_type_id"],
            "Name": row["plan_type_name"],
            "IsInactive": row["plan_type_is_inactive"],
            "HasApiAccess": row["plan_type_has_api_access"],
        },
        "Name": row["name"],
        "AddressLine1": row["address_line1"],
        "AddressLine2": row["address_line2"],
        "CityMunicipality": row["city_municipality"],
        "StateProvidence": row["state_providence"],
        "PostalCode": row["postal_code"],
        "Country": row["country"],
        "Phone": row["phone"],
        "ExternalId": row["external_id"],
        "IsInactive": row["is_inactive"],
        "DeviceCount": row["device_count"],
        "StorageUsedBytes": row["storage_used_bytes"],
        "AddedOn": format_datetime(row["added_on"]),
        "UpdatedOn": format_datetime(row["updated_on"]),
        "Token": None,
    }
