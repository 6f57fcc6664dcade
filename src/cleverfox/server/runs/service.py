"""The rules of a job's runs: the agent starts and finishes them; the server records missed
and stale ones.

A Log is written when a run starts (``Running``) or is missed (``Missed``), with a snapshot
of the job's, device's and plan's settings at that moment. Folders in the snapshot:

- ArchiveFolder ``archive/job-{JobId}``: relative to the agent's data directory, where the
  device keeps the job's local copies (LocalKeepLast of them);
- UploadFolder ``partners/{PartnerId}/companies/{CompanyId}/devices/{DeviceId}/jobs/{JobId}``:
  the prefix under which storage keeps the job's cloud copies (CloudKeepLast of them).

Concurrency: every path locks the job's row before touching its logs (see
``runs.repository``), and the partial unique index ``uq_logs_running_job`` keeps one
Running Log per job even if a check were bypassed. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cleverfox.server.jobs import repository as jobs
from cleverfox.server.jobs.rules import (
    advance,
    device_wall_time,
    schedule_of,
    window_closed,
    zone_of,
)
from cleverfox.server.jobs.schedule import is_expired, to_local, to_utc
from cleverfox.server.kit.conflicts import UniqueConflict
from cleverfox.server.kit.errors import Conflict, FieldError, NotFound, ValidationFailed
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.kit.references import fail_if
from cleverfox.server.logs.schemas import COMPLETED, FAILED, MISSED, RUNNING, SCHEDULE
from cleverfox.server.models import Device, Job, JobItem, Log, LogItem
from cleverfox.server.runs import repository
from cleverfox.server.runs.notifications import notify_job_missed, notify_log_finished
from cleverfox.server.runs.schemas import REPORTED_ITEM, RUN_FINISH, RUN_START
from cleverfox.server.storage import repository as uploads
from cleverfox.server.storage.retention import apply_retention

STOPPED_REPORTING = "The agent stopped reporting."
# A Schedule run started this long before NextRunOn (an agent's clock running ahead) still
# is the run due then. A run started later than that after a missed run was recorded (its
# NextRunOn already advanced) does not consume the next occurrence.
EARLY_START = timedelta(minutes=5)
_JOB_ALREADY_RUNNING = "Another run of this job is still Running."

CONFLICTS = (
    UniqueConflict("uq_logs_running_job", "job_already_running", _JOB_ALREADY_RUNNING),
    # SQLite names a partial unique index's violation by its columns: "logs.job_id".
    UniqueConflict("uq_logs_job_id", "job_already_running", _JOB_ALREADY_RUNNING),
)


def start_run(session: Session, device_id: int, raw: dict[str, Any], now: datetime) -> Log:
    """``POST /api/agent/logs``: a Running Log with the snapshot; Job Started (50).

    404 for a job not on this device; 409 ``job_already_running`` while another run is
    Running, ``job_inactive`` for an inactive job, ``job_expired`` for a scheduled run of a
    One Time job past its ExpireOn (run now still runs it). A Schedule run advances NextRunOn
    past the occurrence it runs; a RunNow run clears the run-now request and leaves NextRunOn.
    """
    values = RUN_START.parse_create(raw)
    job = repository.lock_job(session, values["job_id"], device_id=device_id)
    if job is None:
        raise NotFound("No such job on this device.")
    if jobs.is_running(session, job.id):
        raise Conflict(_JOB_ALREADY_RUNNING, code="job_already_running")
    if job.is_inactive:
        raise Conflict("An inactive job does not run.", code="job_inactive")
    zone, trigger = zone_of(job.device), values.get("trigger") or SCHEDULE
    if trigger == SCHEDULE and is_expired(schedule_of(job), zone, now):
        raise Conflict("This One Time job is past its ExpireOn.", code="job_expired")
    log = snapshot(job, job.device, RUNNING, trigger, now)
    log.job_started_on = _local_or_now(values.get("job_started_on"), zone, now, "JobStartedOn")
    log.started_utc = now
    if log.trigger == SCHEDULE:
        if job.next_run_utc is not None and job.next_run_utc <= now + EARLY_START:
            advance(job, zone, now)
    else:
        job.run_now_requested = False
    job.last_job_status = RUNNING
    session.add(log)
    session.flush()
    record_event(session, EventKind.JOB_STARTED, actor=Actor.AGENT, **_ids(log))
    return log


def finish_run(
    session: Session, device_id: int, log_id: int, raw: dict[str, Any], now: datetime
) -> Log:
    """``PUT /api/agent/logs/{LogId}``: Completed or Failed, with the Log Items reported.

    The same outcome sent again answers the Log unchanged; a different outcome for a
    finished Log is 409 ``log_already_finished``. Writes Job Completed (51) or Job Failed
    (52) and queues the device's mail for that outcome. ``BytesUploaded`` is kept; the
    last progress report is cleared. A Completed finish applies retention (CloudKeepLast).
    """
    values = RUN_FINISH.parse_create(raw)
    found = repository.log_of_device(session, device_id, log_id)
    if found is None:
        raise NotFound()
    job = repository.lock_job(session, found.job_id)
    log = repository.lock_log(session, found.id)
    assert log is not None  # logs are never deleted
    if log.job_status != RUNNING:
        if log.job_status == values["job_status"]:
            return log
        raise Conflict(
            f"This run already finished as {log.job_status}.", code="log_already_finished"
        )
    zone = ZoneInfo(log.iana_time_zone_id)
    reported = _reported_items(session, log, values.get("log_items"))
    completed_on = _local_or_now(values.get("job_completed_on"), zone, now, "JobCompletedOn")
    _finish(session, log, job, values["job_status"], completed_on, now)
    log.error_messages = values.get("error_messages")
    log.bytes_uploaded = values.get("bytes_uploaded")
    log.progress = None
    _add_reported(session, log, reported, now)
    _record_outcome(session, log, Actor.AGENT)
    apply_retention(session, log, now)
    session.flush()
    return log


def _add_reported(session: Session, log: Log, reported: list[LogItem], now: datetime) -> None:
    """Add the reported Log Items; one whose job item already committed its backup file
    (``logs/{LogId}/files``) keeps the server's file attributes and takes only what the
    server cannot know (ServerVersion, ServerEdition, BackupFolder)."""
    committed = uploads.committed_log_items(session, log.id)
    for item in reported:
        existing = committed.get(item.job_item_id) if item.job_item_id is not None else None
        if existing is None:
            item.added_on = now
            session.add(item)
            continue
        for name in ("server_version", "server_edition", "backup_folder"):
            if getattr(item, name) is not None:
                setattr(existing, name, getattr(item, name))


def record_missed(session: Session, job: Job, now: datetime) -> Log:
    """A Missed Log for the job's pending run (its window closed with no run started), Job
    Missed (53), the missed mail, and NextRunOn advanced past now: one Log however many
    occurrences passed. ``job`` must be locked, with its device, subscription and plan."""
    log = snapshot(job, job.device, MISSED, SCHEDULE, now)
    advance(job, zone_of(job.device), now)
    job.last_job_status = MISSED
    session.add(log)
    session.flush()
    record_event(session, EventKind.JOB_MISSED, actor=Actor.SERVER, **_ids(log))
    notify_job_missed(session, log)
    return log


def is_missed(job: Job, now: datetime) -> bool:
    """Whether the job's pending run was missed: active, on an active device, window closed."""
    return not job.is_inactive and not job.device.is_inactive and window_closed(job, now)


def fail_stale(session: Session, log: Log, job: Job | None, now: datetime) -> None:
    """Finish a Log left Running too long as Failed: the agent stopped reporting. ``log``
    (and ``job``, if it still exists) must be locked."""
    zone = ZoneInfo(log.iana_time_zone_id)
    _finish(session, log, job, FAILED, to_local(now, zone), now)
    log.error_messages = STOPPED_REPORTING
    _record_outcome(session, log, Actor.SERVER)


def snapshot(job: Job, device: Device, status: str, trigger: str, now: datetime) -> Log:
    """A new Log holding the job's, device's and plan's settings as they are now."""
    return Log(
        partner_id=job.partner_id,
        company_id=job.company_id,
        device_id=device.id,
        job_id=job.id,
        subscription_id=device.subscription_id,
        plan_id=device.subscription.plan_id,
        time_zone_id=device.time_zone_id,
        iana_time_zone_id=device.iana_time_zone_id,
        name=job.name,
        archive_folder=f"archive/job-{job.id}",
        upload_folder=(
            f"partners/{job.partner_id}/companies/{job.company_id}"
            f"/devices/{device.id}/jobs/{job.id}"
        ),
        frequency=job.frequency,
        next_run_on=job.next_run_on,
        late_after=job.late_after,
        expire_on=job.expire_on,
        local_keep_last=job.local_keep_last,
        cloud_keep_last=job.cloud_keep_last,
        job_status=status,
        trigger=trigger,
        send_notification_to=device.send_notification_to,
        send_notification_cc=device.send_notification_cc,
        send_notification_bcc=device.send_notification_bcc,
        send_notification_on_job_completed=device.send_notification_on_job_completed,
        send_notification_on_job_failed=device.send_notification_on_job_failed,
        send_notification_on_job_missed=device.send_notification_on_job_missed,
        added_on=now,
    )


def _finish(
    session: Session,
    log: Log,
    job: Job | None,
    status: str,
    completed_on: datetime,
    now: datetime,
) -> None:
    zone = ZoneInfo(log.iana_time_zone_id)
    log.job_status = status
    log.job_completed_on = completed_on
    log.updated_on = now
    if log.job_started_on is not None:
        elapsed = to_utc(completed_on, zone) - to_utc(log.job_started_on, zone)
        log.duration_seconds = max(0, int(elapsed.total_seconds()))
    if job is not None:
        job.last_ran_on = log.job_started_on
        job.last_job_status = status


def _record_outcome(session: Session, log: Log, actor: Actor) -> None:
    kind = EventKind.JOB_COMPLETED if log.job_status == COMPLETED else EventKind.JOB_FAILED
    record_event(session, kind, actor=actor, **_ids(log))
    notify_log_finished(session, log)


def _local_or_now(
    parsed: tuple[datetime, Any] | None, zone: ZoneInfo, now: datetime, attribute: str
) -> datetime:
    """A reported "DateTime Local" as the device's wall time; the device's clock now if
    none was sent."""
    if parsed is None:
        return to_local(now, zone)
    try:
        return device_wall_time(parsed[0], parsed[1], zone)
    except OverflowError:
        message = f"{attribute} is outside the supported dates."
        raise ValidationFailed([FieldError(attribute, "out_of_range", message)]) from None


def _reported_items(session: Session, log: Log, raw: Any) -> list[LogItem]:
    """The LogItems of a finish body, each with a snapshot of its job item."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise ValidationFailed(
            [FieldError("LogItems", "invalid_type", "LogItems must be an array of objects.")]
        )
    parsed, errors = [], []
    for index, entry in enumerate(raw):
        try:
            parsed.append(REPORTED_ITEM.parse_create(REPORTED_ITEM.canonicalize(entry)[0]))
        except ValidationFailed as failure:
            errors += [_nested(index, error) for error in failure.errors]
    fail_if(errors)
    items = repository.job_items_of(session, log.job_id, (p["job_item_id"] for p in parsed))
    return [reported_log_item(log, values, items.get(values["job_item_id"])) for values in parsed]


def _nested(index: int, error: FieldError) -> FieldError:
    return FieldError(f"LogItems[{index}].{error.attribute}", error.code, error.message)


def reported_log_item(log: Log, values: dict[str, Any], job_item: JobItem | None) -> LogItem:
    """A Log Item: what the agent reported and the job item as it is now (nothing of it
    when the item was deleted during the run)."""
    item = LogItem(
        log_id=log.id,
        partner_id=log.partner_id,
        company_id=log.company_id,
        device_id=log.device_id,
        job_id=log.job_id,
        **values,
    )
    if job_item is not None:
        for field in _ITEM_SNAPSHOT:
            setattr(item, field, getattr(job_item, field))
        item.engine_id = job_item.backup_type.engine_id
    return item


_ITEM_SNAPSHOT = (
    "name",
    "base_folder",
    "include_sub_folders",
    "search_patterns",
    "exclude_folders",
    "exclude_patterns",
    "no_compress_extensions",
    "server_name",
    "database_name",
    "port",
    "authentication_mode",
    "option_compress",
    "option_copy_only",
    "option_log_only",
)


def _ids(log: Log) -> dict[str, Any]:
    return {
        "partner_id": log.partner_id,
        "company_id": log.company_id,
        "device_id": log.device_id,
        "job_id": log.job_id,
        "log_id": log.id,
        "subscription_id": log.subscription_id,
        "plan_id": log.plan_id,
    }
