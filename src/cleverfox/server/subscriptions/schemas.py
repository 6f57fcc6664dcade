"""Wire shape of a Subscription."""

from __future__ import annotations

import functools
from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cleverfox.server.catalog.schemas import PLAN_PRESENTER
from cleverfox.server.companies.schemas import COMPANY_PRESENTER
from cleverfox.server.kit.datetimes import format_datetime, utcnow
from cleverfox.server.kit.errors import FieldError
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import NULL, Derived, Embed, Presenter
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
        Attr("SubscriptionId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
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


class Clock(Protocol):
    """What a presentation's context tells a Subscription: the time it is written at."""

    @property
    def now(self) -> datetime: ...


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


@functools.lru_cache(maxsize=16)
def _written_period(year: int, month: int) -> tuple[str | None, str | None]:
    """The billing period of a month as written on the wire (made once a month, not once
    a Subscription presented)."""
    start, end = billing_period(datetime(year, month, 1))
    return format_datetime(start), format_datetime(end)


def _period_start(clock: Clock | None) -> str | None:
    now = utcnow() if clock is None else clock.now
    return _written_period(now.year, now.month)[0]


def _period_end(clock: Clock | None) -> str | None:
    now = utcnow() if clock is None else clock.now
    return _written_period(now.year, now.month)[1]


SUBSCRIPTION_PRESENTER = Presenter(
    SUBSCRIPTION,
    derived={
        "BillingId": NULL,
        "Status": Derived(lambda inactive: INACTIVE if inactive else ACTIVE, ("is_inactive",)),
        "PeriodStart": Derived(_period_start, context=True),
        "PeriodEnd": Derived(_period_end, context=True),
    },
    embedded={
        "Company": Embed(COMPANY_PRESENTER, "company_"),
        "Plan": Embed(PLAN_PRESENTER, "plan_"),
    },
)
"""A Subscription: its Company and Plan embedded; DeviceCount read as ``device_count``.
The presentation's context, when there is one, is a ``Clock`` (the billing period's)."""

_VIEWS = SUBSCRIPTION_PRESENTER.objects(
    root="subscription",
    extras={"device_count": "device_count", "company_device_count": "company_device_count"},
)
_FLAT_ROWS = SUBSCRIPTION_PRESENTER.rows(flat=True)


def subscription_out(view: SubscriptionView, clock: Clock | None = None) -> dict[str, Any]:
    """A Subscription with its Company and Plan embedded one level deep; the billing period
    is ``clock``'s month (default: now's)."""
    return _VIEWS(view, clock)


def subscription_row_out(row: Mapping[str, Any], clock: Clock | None = None) -> dict[str, Any]:
    """A Subscription from a row of the ``subscriptions`` table and its ``device_count``,
    embedded one level down (Company and Plan null)."""
    return _FLAT_ROWS(row, clock)
