"""Wire shapes of the agent's run calls: the bodies that start and finish a run
(resources.md, Agent endpoints). The Log they answer is ``logs.schemas.log_out``'s."""

from __future__ import annotations

from cleverfox.server.kit.wire import Attr, Kind, Rule, WireSchema
from cleverfox.server.logs.schemas import COMPLETED, FAILED, TRIGGERS

RUN_START = WireSchema(
    "RunStart",
    [
        Attr("JobId", Kind.INTEGER, Rule.REQUIRED, doc="A job of the calling device."),
        Attr(
            "JobStartedOn",
            Kind.DATETIME_LOCAL,
            doc="When the run started, in the device's time zone (default: now).",
        ),
        Attr("Trigger", Kind.CHOICE, choices=TRIGGERS, doc="`Schedule` (default) or `RunNow`."),
    ],
)
RUN_FINISH = WireSchema(
    "RunFinish",
    [
        Attr("JobStatus", Kind.CHOICE, Rule.REQUIRED, choices=(COMPLETED, FAILED)),
        Attr(
            "JobCompletedOn",
            Kind.DATETIME_LOCAL,
            doc="When the run ended, in the device's time zone (default: now).",
        ),
        Attr("ErrorMessages", max_length=65536, doc="One message a line."),
        Attr("LogItems", Kind.ARRAY, doc="One result per job item backed up."),
        Attr("BytesUploaded", Kind.INTEGER, minimum=0, doc="Bytes the agent uploaded (ours)."),
    ],
)
REPORTED_ITEM = WireSchema(
    "RunFinishLogItem",
    [
        Attr("JobItemId", Kind.INTEGER, Rule.REQUIRED, doc="A job item of the log's job."),
        Attr("ServerVersion", max_length=100),
        Attr("ServerEdition", max_length=100),
        Attr("BackupFolder", max_length=4096),
        Attr("BackupFileName", max_length=255),
        Attr("BackupFileSize", Kind.INTEGER, minimum=0),
        Attr("BackupListName", max_length=255),
        Attr("BackupListSize", Kind.INTEGER, minimum=0),
        Attr("BackupListCount", Kind.INTEGER, minimum=0),
    ],
)
