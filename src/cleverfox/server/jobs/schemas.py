"""Wire shape of a Job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cleverfox.server.devices.schemas import DEVICE_PRESENTER, Presentation
from cleverfox.server.job_items.schemas import JOB_ITEM_PRESENTER
from cleverfox.server.jobs.schedule import Frequency
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import Job

FREQUENCIES = tuple(f.value for f in Frequency)
FREQUENCY_ALIASES = {"Monthly": Frequency.MONTHLY.value}
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

JOB = WireSchema(
    "Job",
    [
        Attr("JobId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
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
        Attr("JobItems", Kind.ARRAY, Rule.READ_ONLY, field="items"),
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


JOB_PRESENTER = Presenter(
    JOB,
    embedded={
        "Device": Embed(DEVICE_PRESENTER, "device_"),
        "JobItems": Embed(JOB_ITEM_PRESENTER, many=True),
    },
)
"""A Job: its Device (one level down: the Device's Company and Subscription null) and its
JobItems (their BackupType null) embedded. The presentation's context is the Device's
``Presentation``."""

_OBJECTS = JOB_PRESENTER.objects()
_FLAT_OBJECTS = JOB_PRESENTER.objects(flat=True)
_FLAT_ROWS = JOB_PRESENTER.rows(flat=True)


def present_job(job: Job, how: Presentation) -> dict[str, Any]:
    """A Job with its Device and JobItems embedded (their ``company``, ``subscription``
    and ``items`` loaded)."""
    return _OBJECTS(job, how)


def embedded_job_out(job: Job) -> dict[str, Any]:
    """A Job embedded one level down: its Device and JobItems null."""
    return _FLAT_OBJECTS(job)


def job_row_out(row: Mapping[str, Any]) -> dict[str, Any]:
    """A Job from a row of the ``jobs`` table, embedded one level down (Device and JobItems
    null)."""
    return _FLAT_ROWS(row)
