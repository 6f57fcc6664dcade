"""Wire shape of a Device, its filters, and the facts an agent reports at check-in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cleverfox.server.companies.schemas import COMPANY_PRESENTER
from cleverfox.server.devices.download import download_url_of
from cleverfox.server.devices.presence import CONNECTION_STATUSES, connection_status
from cleverfox.server.jobs.schedule import to_local
from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.errors import FieldError
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Derived, Embed, Presenter
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.mail.addresses import invalid_addresses
from cleverfox.server.models import Device
from cleverfox.server.subscriptions.schemas import SUBSCRIPTION_PRESENTER

NOTIFY_FLAGS = (
    "send_notification_on_job_completed",
    "send_notification_on_job_failed",
    "send_notification_on_job_missed",
)
_LIST_DOC = "E-mail addresses separated by `,` `;` `:` or line breaks."


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


DEVICE = WireSchema(
    "Device",
    [
        Attr("DeviceId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
        Attr("CompanyId", Kind.INTEGER, Rule.REQUIRED_ON_POST, doc="A company of the caller."),
        Attr("Company", Kind.OBJECT, Rule.READ_ONLY),
        Attr(
            "SubscriptionId",
            Kind.INTEGER,
            Rule.REQUIRED_ON_POST,
            doc="An active subscription of the same company.",
        ),
        Attr("Subscription", Kind.OBJECT, Rule.READ_ONLY),
        Attr("Name", rule=Rule.REQUIRED, max_length=100),
        Attr(
            "TimeZoneId",
            rule=Rule.REQUIRED,
            max_length=50,
            doc="An id from /api/timezones (an IANA name is accepted and resolved).",
        ),
        Attr("IanaTimeZoneId", rule=Rule.READ_ONLY, doc="The IANA zone whose rules apply."),
        Attr("ApplicationId", max_length=25),
        Attr("ExternalId", max_length=100, doc="Unique among the caller's devices."),
        Attr("IsInactive", Kind.BOOLEAN, doc="An inactive device runs no jobs and misses none."),
        Attr("ApiKey", rule=Rule.READ_ONLY, doc="The agent's key; new with POST …/apikey."),
        Attr(
            "LastApiCheckAt",
            Kind.DATETIME_LOCAL,
            Rule.READ_ONLY,
            doc="The agent's last check-in, in the device's time zone.",
        ),
        Attr(
            "SendNotificationTo",
            check=_email_list("SendNotificationTo"),
            doc=_LIST_DOC + " Required when any SendNotificationOnJob… is true.",
        ),
        Attr("SendNotificationCc", check=_email_list("SendNotificationCc"), doc=_LIST_DOC),
        Attr("SendNotificationBcc", check=_email_list("SendNotificationBcc"), doc=_LIST_DOC),
        Attr("SendNotificationOnJobCompleted", Kind.BOOLEAN),
        Attr("SendNotificationOnJobFailed", Kind.BOOLEAN),
        Attr("SendNotificationOnJobMissed", Kind.BOOLEAN),
        Attr(
            "AgentDownloadUrl",
            rule=Rule.READ_ONLY,
            doc="Serves, without a key, this device's agent configuration file.",
        ),
        Attr("LastAgentDownloadCreated", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("Hostname", rule=Rule.READ_ONLY, doc="As the agent last reported it."),
        Attr("OsName", rule=Rule.READ_ONLY, doc="As the agent last reported it."),
        Attr("OsVersion", rule=Rule.READ_ONLY, doc="As the agent last reported it."),
        Attr("AgentVersion", rule=Rule.READ_ONLY, doc="As the agent last reported it."),
        Attr(
            "ConnectionStatus",
            rule=Rule.READ_ONLY,
            doc="`Online` (checked in within 3 check-in intervals), `Offline` or "
            "`Never Connected`.",
        ),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    ],
)
DEVICE_FILTERS = (
    Filter("CompanyId"),
    Filter("SubscriptionId"),
    Filter("ExternalId", Kind.STRING),
    Filter("IsInactive", Kind.BOOLEAN),
    Filter(
        "ConnectionStatus",
        Kind.CHOICE,
        CONNECTION_STATUSES,
        aliases={"NeverConnected": "Never Connected"},
    ),
    Filter("NameContains", Kind.STRING),
)
NEW_API_KEY = WireSchema("DeviceApiKey", [])
"""The body of ``POST /api/devices/{id}/apikey``: ``{}`` (plus an optional Token)."""

REPORTED_FACTS = WireSchema(
    "CheckIn",
    [
        Attr("Hostname", max_length=255, doc="The device's host name."),
        Attr("OsName", max_length=100, doc="The operating system, e.g. `Windows Server`."),
        Attr("OsVersion", max_length=100),
        Attr("AgentVersion", max_length=50),
    ],
)
"""What an agent reports at check-in; absent attributes keep their value, null clears."""


@dataclass(frozen=True)
class DeviceView:
    """A device with the counts its embedded Company and Subscription show."""

    device: Device
    company_device_count: int
    subscription_device_count: int


@dataclass(frozen=True)
class Presentation:
    """What a Device's wire shape needs beyond its row: keys, the public URL and the clock."""

    secret: ServerSecret
    base_url: str
    online_window: timedelta
    now: datetime

    def __call__(self, view: DeviceView) -> dict[str, Any]:
        return device_out(view, self)


def _api_key(how: Presentation, encrypted: str) -> str:
    return how.secret.decrypt(encrypted)


def _download_url(how: Presentation, device_id: int, key_digest: str) -> str:
    return download_url_of(how.secret, how.base_url, device_id, key_digest)


def _last_check(iana_time_zone_id: str, utc: datetime | None) -> str | None:
    return format_datetime(_wall_time(iana_time_zone_id, utc))


def _connection(how: Presentation, last_check: datetime | None) -> str:
    return connection_status(last_check, how.now, how.online_window)


DEVICE_PRESENTER = Presenter(
    DEVICE,
    derived={
        "ApiKey": Derived(_api_key, ("api_key_encrypted",), context=True),
        "LastApiCheckAt": Derived(_last_check, ("iana_time_zone_id", "last_api_check_at")),
        "AgentDownloadUrl": Derived(_download_url, ("id", "api_key_digest"), context=True),
        "ConnectionStatus": Derived(_connection, ("last_api_check_at",), context=True),
    },
    embedded={
        "Company": Embed(COMPANY_PRESENTER, "company_"),
        "Subscription": Embed(SUBSCRIPTION_PRESENTER, "subscription_"),
    },
)
"""A Device: its Company and Subscription embedded. The ApiKey is decrypted (partners may
read their devices' keys, as published); LastApiCheckAt is written in the device's zone,
LastAgentDownloadCreated in UTC. The presentation's context is a ``Presentation``."""

_VIEWS = DEVICE_PRESENTER.objects(
    root="device",
    extras={
        "company_device_count": "company_device_count",
        "subscription_device_count": "subscription_device_count",
    },
)
_FLAT_ROWS = DEVICE_PRESENTER.rows(flat=True)


def device_out(view: DeviceView, how: Presentation) -> dict[str, Any]:
    """A Device with its Company and Subscription embedded one level deep."""
    return _VIEWS(view, how)


def embedded_device_row_out(row: Mapping[str, Any], how: Presentation) -> dict[str, Any]:
    """A Device from a row of the ``devices`` table, embedded one level down (its Company
    and Subscription null)."""
    return _FLAT_ROWS(row, how)


def _wall_time(iana_time_zone_id: str, utc: datetime | None) -> datetime | None:
    """A naive UTC instant as the wall time of the device's zone."""
    return None if utc is None else to_local(utc, ZoneInfo(iana_time_zone_id))
