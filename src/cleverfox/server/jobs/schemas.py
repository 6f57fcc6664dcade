"""Wire shape of a Job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cleverfox.server.devices.schemas import DeviceView, Presentation
from cleverfox.server.job_items.schemas import job_item_out
from cleverfox.server.jobs.schedule import Frequency
from cleverfox.server.kit.datetimes import format_datetime, format_utc_z
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.present import stamped
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Device, Job

FREQUENCIES = tuple(f.value for f in Frequency)
FREQUENCY_ALIASES = {"Monthly": Frequency.MONTHLY.value}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

JOB = WireSchema(
    "Job",
    [
        Attr("JobId", Kind.INTEGER, Rule.READ_ONLY),
        Attr("DeviceId", Kind.INTEGER, Rule.REQUIRED_ON_POST, doc="A device of yours."),
        Attr("Device", Kind.OBJECT, Rule.READ_ONLY),
        Attr("Name", rule=Rule.REQUIRED, max_length=100),
        Attr("IsInactive", Kind.BOOLEAN, doc="An inactive job neither runs nor is missed."),
        Attr("LastRanOn", Kind.DATETIME_LOCAL, Rule.READ_ONLY),
        Attr(
            "Frequency",
            Kind.CHOICE,
            Rule.REQUIRED,
            choices=FREQUENCIES,
            aliases=FREQUENCY_ALIASES,
            doc="`Monthly` is accepted as `Monthy`.",
        ),
        Attr(
            "NextRunOn",
            Kind.DATETIME_LOCAL,
            Rule.REQUIRED,
            doc="When it is next due, in the device's time zone (a zoned value is converted).",
        ),
        Attr(
            "LateAfter",
            Kind.INTEGER,
            Rule.REQUIRED,
            minimum=0,
            maximum=1439,
            doc="Minutes after NextRunOn before the run counts as missed.",
        ),
        Attr(
            "Every",
            Kind.INTEGER,
            Rule.REQUIRED,
            minimum=1,
            maximum=999,
            doc="Every N hours / days / weeks / months.",
        ),
        *(Attr(f"On{day}", Kind.BOOLEAN, doc="Weekly: a day it runs.") for day in _DAYS),
        Attr(
            "DayOfMonth",
            Kind.INTEGER,
            minimum=1,
            maximum=31,
            doc="Monthy: required; a shorter month runs on its last day.",
        ),
        Attr("ExpireOn", Kind.DATETIME_LOCAL, doc="One Time: after this it no longer runs."),
        Attr("CloudKeepLast", Kind.INTEGER, Rule.REQUIRED, minimum=0, maximum=999),
        Attr("LocalKeepLast", Kind.INTEGER, Rule.REQUIRED, minimum=0, maximum=999),
        Attr("JobItems", Kind.ARRAY, Rule.READ_ONLY),
        Attr("LastJobStatus", rule=Rule.READ_ONLY),
        Attr("NextRunUtc", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    ],
)
JOB_FILTERS = (
    Filter("DeviceId"),
    Filter("CompanyId"),
    Filter("IsInactive", Kind.BOOLEAN),
    Filter("Frequency", Kind.CHOICE, choices=FREQUENCIES, aliases=FREQUENCY_ALIASES),
)
RUN_NOW = WireSchema("JobRunRequest", [])


def job_out(
    job: Job | None,
    *,
    device: dict[str, Any] | None = None,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """A Job. ``device`` and ``items`` are the embedded Device and JobItems, already written
    (``None`` when embedded one level down)."""
    if job is None:
        return None
    data: dict[str, Any] = {
        "JobId": job.id,
        "DeviceId": job.device_id,
        "Device": device,
        "Name": job.name,
        "IsInactive": job.is_inactive,
        "LastRanOn": format_datetime(job.last_ran_on),
        "Frequency": job.frequency,
        "NextRunOn": format_datetime(job.next_run_on),
        "LateAfter": job.late_after,
        "Every": job.every,
        **{f"On{day}": getattr(job, f"on_{day.lower()}") for day in _DAYS},
        "DayOfMonth": job.day_of_month,
        "ExpireOn": format_datetime(job.expire_on),
        "CloudKeepLast": job.cloud_keep_last,
        "LocalKeepLast": job.local_keep_last,
        "JobItems": items,
        "LastJobStatus": job.last_job_status,
        "NextRunUtc": format_utc_z(job.next_run_utc),
    }
    return stamped(data, job)


def job_row_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Job from a row of the ``jobs`` table, embedded one level down: the same JSON as
    ``job_out(job)`` (Device and JobItems null)."""
    return {
        "JobId": row["id"],
        "DeviceId": row["device_id"],
        "Device": None,
        "Name": row["name"],
        "IsInactive": row["is_inactive"],
        "LastRanOn": format_datetime(row["last_ran_on"]),
        "Frequency": row["frequency"],
        "NextRunOn": format_datetime(row["next_run_on"]),
        "LateAfter": row["late_after"],
        "Every": row["every"],
        **{f"On{day}": row[f"on_{day.lower()}"] for day in _DAYS},
        "DayOfMonth": row["day_of_month"],
        "ExpireOn": format_datetime(row["expire_on"]),
        "CloudKeepLast": row["cloud_keep_last"],
        "LocalKeepLast": row["local_keep_last"],
        "JobItems": None,
        "LastJobStatus": row["last_job_status"],
        "NextRunUtc": format_utc_z(row["next_run_utc"]),
        "AddedOn": format_datetime(row["added_on"]),
        "UpdatedOn": format_datetime(row["updated_on"]),
        "Token": None,
    }


def embedded_device(device: Device | None, how: Presentation) -> dict[str, Any] | None:
    """A Device embedded one level down: its own Company and Subscription are null (its
    ``company`` and ``subscription`` must be loaded all the same)."""
    if device is None:
        return None
    data = how(DeviceView(device, 0, 0))
    data["Company"] = None
    data["Subscription"] = None
    return data


def present_job(job: Job, how: Presentation) -> dict[str, Any]:
    """A Job with its Device and JobItems embedded (their own embedded objects null)."""
    items = [job_item_out(item, embed=False) for item in job.items]
    data = job_out(job, device=embedded_device(job.device, how), items=items)
    assert data is not None
    return data
