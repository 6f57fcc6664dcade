"""Wire shape of a Job Item."""

from __future__ import annotations

from typing import Any

from cleverfox.server.catalog.schemas import BACKUP_TYPE_PRESENTER
from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.presenters import Embed, Presenter
from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.models import JobItem

AUTHENTICATION_MODES = ("W", "S")
_LINES = "`\\r\\n`-separated."

JOB_ITEM = WireSchema(
    "JobItem",
    [
        Attr("JobItemId", Kind.INTEGER, Rule.READ_ONLY, field="id"),
        Attr("JobId", Kind.INTEGER, Rule.REQUIRED_ON_POST, doc="A job of yours."),
        Attr("Name", max_length=100),
        Attr("BackupTypeId", Kind.INTEGER, Rule.REQUIRED, doc="An active backup type."),
        Attr("BackupType", Kind.OBJECT, Rule.READ_ONLY),
        Attr("BaseFolder", max_length=248, doc="File: required; the folder backed up."),
        Attr("IncludeSubFolders", Kind.BOOLEAN, doc="File."),
        Attr("SearchPatterns", doc="File: required; file patterns, " + _LINES),
        Attr("ExcludeFolders", doc="File, with subfolders: folders to skip, " + _LINES),
        Attr("ExcludePatterns", doc="File: file patterns to skip, " + _LINES),
        Attr("NoCompressExtensions", doc="File: extensions stored without compression, " + _LINES),
        Attr("ServerName", max_length=50, doc="Database types except SQLite: required."),
        Attr(
            "DatabaseName",
            max_length=128,
            doc="Database types: required (SQLite: the database file's path).",
        ),
        Attr(
            "Port",
            Kind.INTEGER,
            minimum=1,
            maximum=65535,
            doc="Database types; default the backup type's Port.",
        ),
        Attr(
            "AuthenticationMode",
            Kind.CHOICE,
            choices=AUTHENTICATION_MODES,
            doc="`W` (Windows/OS) or `S` (user and password). SQL Server: required; "
            "PostgreSQL and MySQL: default `S`; SQLite: not used.",
        ),
        Attr(
            "Username",
            rule=Rule.WRITE_ONLY,
            max_length=250,
            doc="Required when AuthenticationMode is `S`; write-only, stored encrypted.",
        ),
        Attr(
            "Password",
            rule=Rule.WRITE_ONLY,
            max_length=250,
            doc="Required when AuthenticationMode is `S`; write-only, stored encrypted.",
        ),
        Attr("OptionCompress", Kind.BOOLEAN),
        Attr("OptionCopyOnly", Kind.BOOLEAN),
        Attr("OptionLogOnly", Kind.BOOLEAN),
        Attr("AddedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
        Attr("UpdatedOn", Kind.DATETIME_UTC, Rule.READ_ONLY),
    ],
)
JOB_ITEM_FILTERS = (Filter("JobId"), Filter("DeviceId"), Filter("BackupTypeId"))


JOB_ITEM_PRESENTER = Presenter(
    JOB_ITEM, embedded={"BackupType": Embed(BACKUP_TYPE_PRESENTER, "backup_type_")}
)
"""A Job Item with its BackupType; Username and Password (write-only) are always null."""

_OBJECTS = JOB_ITEM_PRESENTER.objects()
_FLAT_OBJECTS = JOB_ITEM_PRESENTER.objects(flat=True)


def job_item_out(item: JobItem) -> dict[str, Any]:
    """A Job Item with its BackupType embedded."""
    return _OBJECTS(item)


def embedded_job_item_out(item: JobItem) -> dict[str, Any]:
    """A Job Item embedded one level down (in its Job): its BackupType null."""
    return _FLAT_OBJECTS(item)
