"""Wire shape of a Subscription."""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cleverfox.server.catalog.schemas import plan_out
from cleverfox.server.companies.schemas import company_out
from cleverfox.server.kit.datetimes import format_datetime, utcnow
from cleverfox.server.kit.errors import FieldError
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.mail.addresses import invalid_addresses
from cleverfox.server.models import Subscription

ACTIVE = "Active"
INACTIVE = "Inactive"


def _email_list(attribute: str) -> Callable[[Any], FieldError | None]:
    """A check that every entry of an e-mail list is a valid address."""

    def check(value: Any) -> FieldError | None:
        bad = invalid_addresses(str(value))
        if not bad:
            return None
        return FieldError(
            attribute, "invalid_email", f"{attribute} holds an address that is not valid: {bad[0]}."
        )

    return check


_LIST_DOC = "E-mail addresses separated by `,` `;` `:` or line breaks."

SUBSCRIPTION = WireSchema(
    "Subscription",
    [
        Attr("SubscriptionId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("CompanyId", Kind.INTEGER, Rule.REQUIRED_ON_POST, doc="A company of the caller."),
        Attr("Company", Kind.OBJECT, Rule.READ_ONLY),
        Attr(
            "PlanId",
            Kind.INTEGER,
            Rule.REQUIRED_ON_POST,
            doc="An active plan of the company's plan type.",
        ),
        Attr("Plan", Kind.OBJECT, Rule.READ_ONLY),
        Attr("ApplicationId", max_length=25),
        Attr("ExternalId", max_length=100, doc="Unique among the caller's subscriptions."),
        Attr("IsInactive", Kind.BOOLEAN, Rule.READ_ONLY, doc="Set by the operator."),
        Attr("BillingId", Kind.INTEGER, Rule.READ_ONLY, doc="Always null: no billing system."),
        Attr("Status", rule=Rule.READ_ONLY, doc="`Active` or `Inactive`."),
        Attr("PeriodStart", Kind.DATETIME_UTC, Rule.READ_ONLY, doc="This month's first day (UTC)."),
        Attr("PeriodEnd", Kind.DATETIME_UTC, Rule.READ_ONLY, doc="Last day of this month (UTC)."),
        Attr(
            "AdditionalDevice",
            Kind.INTEGER,
            Rule.READ_ONLY,
            doc="Devices allowed beyond the plan's limit; set by the operator.",
        ),
        Attr("DownloadLimitExpireOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr(
            "SendNotificationTo",
            check=_email_list("SendNotificationTo"),
            doc=_LIST_DOC + " Required when SendNotificationOnStorageLimit is true.",
        ),
        Attr("SendNotificationCc", check=_email_list("SendNotificationCc"), doc=_LIST_DOC),
        Attr("SendNotificationBcc", check=_email_list("SendNotificationBcc"), doc=_LIST_DOC),
        Attr(
            "SendNotificationOnStorageLimit",
            Kind.BOOLEAN,
            doc="Mail when stored data reaches the plan's limit.",
        ),
        Attr("DeviceCount", Kind.INTEGER, Rule.READ_ONLY, doc="Devices on this subscription."),
        Attr("StorageUsedBytes", Kind.INTEGER, Rule.READ_ONLY, doc="Stored (compressed) bytes."),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    ],
)
SUBSCRIPTION_FILTERS = (Filter("CompanyId"),)


@dataclass(frozen=True)
class SubscriptionView:
    """A subscription with the counts its wire shape shows (DeviceCount, the company's)."""

    subscription: Subscription
    device_count: int
    company_device_count: int


def billing_period(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month (UTC) holding ``now``: its first and its last millisecond."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_day = monthrange(now.year, now.month)[1]
    end = now.replace(day=last_day, hour=23, minute=59, second=59, microsecond=999000)
    return start, end


def subscription_out(
    view: SubscriptionView, *, now: datetime | None = None, embed: bool = True
) -> dict[str, Any]:
    """A Subscription with its Company and Plan embedded one level deep.

    ``embed=False`` when the Subscription is itself embedded: its Company and Plan are null.
    """
    sub = view.subscription
    start, end = billing_period(now or utcnow())
    data: dict[str, Any] = {
        "SubscriptionId": sub.id,
        "CompanyId": sub.company_id,
        "Company": company_out(sub.company, embed=False, device_count=view.company_device_count)
        if embed
        else None,
        "PlanId": sub.plan_id,
        "Plan": plan_out(sub.plan, embed=False) if embed else None,
        "ApplicationId": sub.application_id,
        "ExternalId": sub.external_id,
        "IsInactive": sub.is_inactive,
        "BillingId": None,
        "Status": INACTIVE if sub.is_inactive else ACTIVE,
        "PeriodStart": format_datetime(start),
        "PeriodEnd": format_datetime(end),
        "AdditionalDevice": sub.additional_device,
        "DownloadLimitExpireOn": format_datetime(sub.download_limit_expire_on),
        "SendNotificationTo": sub.send_notification_to,
        "SendNotificationCc": sub.send_notification_cc,
        "SendNotificationBcc": sub.send_notification_bcc,
        "SendNotificationOnStorageLimit": sub.send_notification_on_storage_limit,
        "DeviceCount": view.device_count,
        "StorageUsedBytes": sub.storage_used_bytes,
    }
    return stamped(data, sub)


def subscription_row_out(row: Mapping[str, Any], *, now: datetime | None = None) -> dict[str, Any]:
    """A Subscription from a row of the ``subscriptions`` table and its ``device_count``,
    embedded one level down: the same JSON as ``subscription_out(view, embed=False)``
    (Company and Plan null)."""
    start, end = billing_period(now or utcnow())
    return {
        "SubscriptionId": row["id"],
        "CompanyId": row["company_id"],
        "Company": None,
        "PlanId": row["plan_id"],
        "Plan": None,
        "ApplicationId": row["application_id"],
        "ExternalId": row["external_id"],
        "IsInactive": row["is_inactive"],
        "BillingId": None,
        "Status": INACTIVE if row["is_inactive"] else ACTIVE,
        "PeriodStart": format_datetime(start),
        "PeriodEnd": format_datetime(end),
        "AdditionalDevice": row["additional_device"],
        "DownloadLimitExpireOn": format_datetime(row["download_limit_expire_on"]),
        "SendNotificationTo": row["send_notification_to"],
        "SendNotificationCc": row["send_notification_cc"],
        "SendNotificationBcc": row["send_notification_bcc"],
        "SendNotificationOnStorageLimit": row["send_notification_on_storage_limit"],
        "DeviceCount": row["device_count"],
        "StorageUsedBytes": row["storage_used_bytes"],
        "AddedOn": format_datetime(row["added_on"]),
        "UpdatedOn": format_datetime(row["updated_on"]),
        "Token": None,
    }
