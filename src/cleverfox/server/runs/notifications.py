"""The job-result mails: the single call point that queues them in the ``mails`` outbox.

``notify_log_finished`` (a Completed or Failed Log) and ``notify_job_missed`` (a Missed one)
add one outbox row, in the caller's transaction, when the Log's snapshot of the device's
settings asks for that outcome's mail and names at least one valid To address. The row holds
everything the mail says and a Message-ID fixed now, so a dispatcher that repeats a send after
a crash repeats the same message. Sending it, and setting the Log's
Notification…ProcessedOn, is the dispatcher's.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.mail.messages import JobOutcome, JobResult, Recipients, job_result_message
from cleverfox.server.models import Log, Mail
from cleverfox.server.runs.repository import names_of

MAIL_KINDS = {
    JobOutcome.COMPLETED: "job_completed",
    JobOutcome.FAILED: "job_failed",
    JobOutcome.MISSED: "job_missed",
}
# The builder wants a sender; the outbox row does not keep one (the dispatcher's From wins).
_PLACEHOLDER_SENDER = "noreply@cleverfox.example"


def notify_log_finished(session: Session, log: Log) -> Mail | None:
    """Queue the completed or failed mail of a finished Log, if the device asked for it."""
    outcome = JobOutcome(log.job_status)
    wanted = {
        JobOutcome.COMPLETED: log.send_notification_on_job_completed,
        JobOutcome.FAILED: log.send_notification_on_job_failed,
    }.get(outcome, False)
    return _queue(session, log, outcome) if wanted else None


def notify_job_missed(session: Session, log: Log) -> Mail | None:
    """Queue the missed mail of a Missed Log, if the device asked for it."""
    if not log.send_notification_on_job_missed:
        return None
    return _queue(session, log, JobOutcome.MISSED)


def _queue(session: Session, log: Log, outcome: JobOutcome) -> Mail | None:
    try:
        recipients = Recipients.from_lists(
            log.send_notification_to, log.send_notification_cc, log.send_notification_bcc
        )
    except ValueError:
        return None  # no valid To address: nobody to tell
    kind = MAIL_KINDS[outcome]
    message_id = f"<{kind.replace('_', '-')}-{log.id}-{secrets.token_hex(8)}@cleverfox>"
    message = job_result_message(
        _result(session, log, outcome),
        message_id=message_id,
        sender=_PLACEHOLDER_SENDER,
        recipients=recipients,
        date=datetime.now(UTC),
    )
    now = utcnow()
    mail = Mail(
        partner_id=log.partner_id,
        kind=kind,
        log_id=log.id,
        message_id=message_id,
        to_addresses=", ".join(recipients.to),
        cc_addresses=", ".join(recipients.cc) or None,
        bcc_addresses=", ".join(recipients.bcc) or None,
        subject=str(message["Subject"]),
        body=message.get_content(),
        attempts=0,
        next_attempt_at=now,
        added_on=now,
    )
    session.add(mail)
    return mail


def _result(session: Session, log: Log, outcome: JobOutcome) -> JobResult:
    company_name, device_name = names_of(session, log)
    return JobResult(
        company_name=company_name or f"Company {log.company_id}",
        device_name=device_name or f"Device {log.device_id}",
        job_name=log.name or f"Job {log.job_id}",
        outcome=outcome,
        time_zone=ZoneInfo(log.iana_time_zone_id),
        time_zone_label=log.time_zone_id,
        scheduled_on=log.next_run_on,
        started_on=log.job_started_on,
        completed_on=log.job_completed_on,
        error_messages=log.error_messages or "",
        log_id=log.id,
    )
