"""Wire shape of a Device, its filters, and the facts an agent reports at check-in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cleverfox.server.companies.schemas import company_out
from cleverfox.server.devices.download import agent_download_url, download_url_of
from cleverfox.server.devices.presence import CONNECTION_STATUSES, connection_status
from cleverfox.server.jobs.schedule import to_local
from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.errors import FieldError
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.mail.addresses import invalid_addresses
from cleverfox.server.models import Device
from cleverfox.server.subscriptions.schemas import SubscriptionView, subscription_out

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
        Attr("DeviceId", Kind.INTEGER, Rule.READ_ONLY),
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


def device_out(view: DeviceView, how: Presentation) -> dict[str, Any]:
    """A Device with its Company and Subscription embedded one level deep.

    The ApiKey is decrypted (partners may read their devices' keys, as published);
    LastApiCheckAt is written in the device's zone, LastAgentDownloadCreated in UTC.
    """
    device = view.device
    data: dict[str, Any] = {
        "DeviceId": device.id,
        "CompanyId": device.company_id,
        "Company": company_out(device.company, embed=False, device_count=view.company_device_count),
        "SubscriptionId": device.subscription_id,
        "Subscription": _subscription_embedded(view),
        "Name": device.name,
        "TimeZoneId": device.time_zone_id,
        "IanaTimeZoneId": device.iana_time_zone_id,
        "ApplicationId": device.application_id,
        "ExternalId": device.external_id,
        "IsInactive": device.is_inactive,
        "ApiKey": how.secret.decrypt(device.api_key_encrypted),
        "LastApiCheckAt": format_datetime(local_time(device, device.last_api_check_at)),
        **_notification_settings(device),
        "AgentDownloadUrl": agent_download_url(how.secret, how.base_url, device),
        "LastAgentDownloadCreated": format_datetime(device.last_agent_download_created),
        "Hostname": device.hostname,
        "OsName": device.os_name,
        "OsVersion": device.os_version,
        "AgentVersion": device.agent_version,
        "ConnectionStatus": connection_status(device.last_api_check_at, how.now, how.online_window),
    }
    return stamped(data, device)


def embedded_device_row_out(row: Mapping[str, Any], how: Presentation) -> dict[str, Any]:
    """A Device from a row of the ``devices`` table, embedded one level down: the same JSON
    as ``jobs.schemas.embedded_device`` (``device_out`` with Company and Subscription null)."""
    last_check = row["last_api_check_at"]
    return {
        "DeviceId": row["id"],
        "CompanyId": row["company_id"],
        "Company": None,
        "SubscriptionId": row["subscription_id"],
        "Subscription": None,
        "Name": row["name"],
        "TimeZoneId": row["time_zone_id"],
        "IanaTimeZoneId": row["iana_time_zone_id"],
        "ApplicationId": row["application_id"],
        "ExternalId": row["external_id"],
        "IsInactive": row["is_inactive"],
        "ApiKey": how.secret.decrypt(row["api_key_encrypted"]),
        "LastApiCheckAt": format_datetime(_wall_time(row["iana_time_zone_id"], last_check)),
        "SendNotificationTo": row["send_notification_to"],
        "SendNotificationCc": row["send_notification_cc"],
        "SendNotificationBcc": row["send_notification_bcc"],
        "SendNotificationOnJobCompleted": row["send_notification_on_job_completed"],
        "SendNotificationOnJobFailed": row["send_notification_on_job_failed"],
        "SendNotificationOnJobMissed": row["send_notification_on_job_missed"],
        "AgentDownloadUrl": download_url_of(
            how.secret, how.base_url, row["id"], row["api_key_digest"]
        ),
        "LastAgentDownloadCreated": format_datetime(row["last_agent_download_created"]),
        "Hostname": row["hostname"],
        "OsName": row["os_name"],
        "OsVersion": row["os_version"],
        "AgentVersion": row["agent_version"],
        "ConnectionStatus": connection_status(last_check, how.now, how.online_window),
        "AddedOn": format_datetime(row["added_on"]),
        "UpdatedOn": format_datetime(row["updated_on"]),
        "Token": None,
    }


def local_time(device: Device, utc: datetime | None) -> datetime | None:
    """A naive UTC instant as the wall time of the device's zone."""
    return _wall_time(device.iana_time_zone_id, utc)


def _wall_time(iana_time_zone_id: str, utc: datetime | None) -> datetime | None:
    return None if utc is None else to_local(utc, ZoneInfo(iana_time_zone_id))


def _notification_settings(device: Device) -> dict[str, Any]:
    return {
        "SendNotificationTo": device.send_notification_to,
        "SendNotificationCc": device.send_notification_cc,
        "SendNotificationBcc": device.send_notification_bcc,
        "SendNotificationOnJobCompleted": device.send_notification_on_job_completed,
        "SendNotificationOnJobFailed": device.send_notification_on_job_failed,
        "SendNotificationOnJobMissed": device.send_notification_on_job_missed,
    }


def _subscription_embedded(view: DeviceView) -> dict[str, Any]:
    """The Subscription as embedded in a Device: its own Company and Plan are null."""
    sub_view = SubscriptionView(
        view.device.subscription, view.subscription_device_count, view.company_device_count
    )
    return subscription_out(sub_view, embed=False)
