"""Sending the ``mails`` outbox: each due row delivered, and recorded, in its own transaction.

A row is due while ``sent_at`` and ``failed_at`` are unset and ``next_attempt_at <= now``.
One transaction handles one row: claim it (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
dispatchers in several processes never hold the same row; ``BEGIN IMMEDIATE`` serialises them
on SQLite), send it, then record the outcome — and commit. The send happens *before* the
commit, never after a "sent" mark, so mail is never lost; a crash (or a failed commit) after
the SMTP server accepted the mail repeats at most that one mail, carrying its stored
Message-ID (README §7). A row once committed as sent or failed is never claimed again.

Outcomes, each written with its Event (Actor ``Server``) in the row's transaction:

- delivered: ``sent_at``; for a job-result mail, its Log's Notification…ProcessedOn (the
  outcome's column, UTC); Notification Sent (70) with the Log's ids when the Log still exists;
- retryable ``MailDeliveryError``: ``attempts`` counted, ``next_attempt_at`` pushed back by
  ``retry.next_attempt_delay`` and ``last_error`` kept, until ``retry.should_give_up``, then
  as permanent;
- permanent (a 5xx about the mail, or a row that makes no valid message): ``failed_at`` and
  Notification Failed (71).

Trade-off on SQLite: the write lock is held while one mail is sent, so other writers wait for
that send (bounded by the SMTP timeout, ``?timeout=`` in ``--smtp-url``). PostgreSQL holds
only the row's lock.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import partial

from sqlalchemy.orm import Session

from cleverfox.server.duties.runner import Duty
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.mail import repository
from cleverfox.server.mail.addresses import split_email_list
from cleverfox.server.mail.errors import MailDeliveryError
from cleverfox.server.mail.messages import JobOutcome
from cleverfox.server.mail.retry import next_attempt_delay, should_give_up
from cleverfox.server.mail.transport import MailTransport, transport_from_settings
from cleverfox.server.models import Log, Mail
from cleverfox.server.runs.notifications import MAIL_KINDS
from cleverfox.settings import Settings

__all__ = [
    "BATCH",
    "INTERVAL_SECONDS",
    "LOCK_ID",
    "build_message",
    "deliver_next_mail",
    "dispatch_due_mail",
    "mail_duty",
]

log = logging.getLogger(__name__)

LOCK_ID = 0x43460004  # "CF" 4: pg_try_advisory_xact_lock id of the mail duty
INTERVAL_SECONDS = 5.0  # an invitation should arrive while its user still waits for it
BATCH = 100

# The Log column that records, for each job-result kind of mail, when it was sent.
_PROCESSED_ON = {
    MAIL_KINDS[JobOutcome.COMPLETED]: "notification_job_completed_processed_on",
    MAIL_KINDS[JobOutcome.FAILED]: "notification_job_failed_processed_on",
    MAIL_KINDS[JobOutcome.MISSED]: "notification_job_missed_processed_on",
}


def mail_duty(settings: Settings) -> Duty:
    """The duty runner's entry: one row per call (``batch=1``), so each call — one
    transaction — sends at most one mail, and the runner drains the backlog call after call.

    Raises ``ValueError`` at start-up for a malformed ``--smtp-url`` or ``--mail-from``.
    """
    transport = transport_from_settings(settings.smtp_url, settings.outbox_dir)
    call = partial(deliver_next_mail, transport=transport, sender=_checked(settings.mail_from))
    return Duty("mail", LOCK_ID, INTERVAL_SECONDS, call, 1)


def dispatch_due_mail(
    db: Database,
    transport: MailTransport,
    settings: Settings,
    now: datetime,
    *,
    limit: int = BATCH,
) -> int:
    """Send up to ``limit`` rows due at ``now`` (naive UTC), one transaction each.

    Returns how many rows were handled (delivered, rescheduled or given up); fewer than
    ``limit`` means nothing more was due. Safe to run in several threads or processes at once.
    """
    sender = _checked(settings.mail_from)
    handled = 0
    while handled < limit:
        with db.writing() as session:
            if not deliver_next_mail(session, now, transport=transport, sender=sender):
                break
        handled += 1
    return handled


def deliver_next_mail(
    session: Session, now: datetime, *, transport: MailTransport, sender: str
) -> int:
    """Claim the next due row in ``session``'s transaction, send it and record the outcome.

    Returns 1 when a row was handled, 0 when none was due (or every due row is held by
    another dispatcher). Never commits: the caller commits right after, which is what makes
    the delivery count.
    """
    mail = repository.claim_next_due(session, now)
    if mail is None:
        return 0
    mail.attempts += 1
    mail.updated_on = now
    try:
        transport.send(build_message(mail, sender))
    except MailDeliveryError as error:
        _record_failure(session, mail, now, _reason(error), retryable=error.retryable)
    except ValueError as error:  # the row makes no valid message: trying again cannot help
        _record_failure(session, mail, now, f"not a valid mail: {error}", retryable=False)
    except Exception as error:  # a bug: keep the queue moving, the backoff bounds the repeats
        log.exception("mail %s: unexpected error while sending", mail.message_id)
        _record_failure(session, mail, now, f"{type(error).__name__}: {error}", retryable=True)
    else:
        _record_sent(session, mail, now)
    return 1


def build_message(mail: Mail, sender: str) -> EmailMessage:
    """The message a row stands for: its stored Message-ID, recipients, subject and body.

    ``Date`` is when the row was written, so a repeat is the same message. Bcc is a header
    here; the transports keep it off the wire. Raises ``ValueError`` for a row that makes no
    valid message (a header with a line break); the transports raise it for a row with no
    recipient.
    """
    message = EmailMessage()
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.added_on.replace(tzinfo=UTC))
    message["From"] = sender
    lists = {"To": mail.to_addresses, "Cc": mail.cc_addresses, "Bcc": mail.bcc_addresses}
    for header, text in lists.items():
        if addresses := split_email_list(text):
            message[header] = ", ".join(addresses)
    message["Subject"] = mail.subject
    # Ask auto-responders (RFC 3834; Exchange) not to answer a machine.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.body)
    return message


def _record_sent(session: Session, mail: Mail, now: datetime) -> None:
    mail.sent_at = now
    job_log = _job_log(session, mail)
    if job_log is not None:
        setattr(job_log, _PROCESSED_ON[mail.kind], now)
    _record_event(session, EventKind.NOTIFICATION_SENT, mail, job_log)
    log.info("mail %s (%s) sent", mail.message_id, mail.kind)


def _record_failure(
    session: Session, mail: Mail, now: datetime, reason: str, *, retryable: bool
) -> None:
    mail.last_error = reason
    if retryable and not should_give_up(mail.attempts):
        mail.next_attempt_at = now + next_attempt_delay(mail.attempts)
        log.warning(
            "mail %s: attempt %d failed, retrying at %s: %s",
            mail.message_id,
            mail.attempts,
            mail.next_attempt_at,
            reason,
        )
        return
    mail.failed_at = now
    _record_event(session, EventKind.NOTIFICATION_FAILED, mail, _job_log(session, mail))
    log.error("mail %s: given up after %d attempts: %s", mail.message_id, mail.attempts, reason)


def _job_log(session: Session, mail: Mail) -> Log | None:
    """The Log a job-result mail reports on, while it exists (history may be deleted)."""
    if mail.kind not in _PROCESSED_ON or mail.log_id is None:
        return None
    return repository.find_log(session, mail.log_id)


def _record_event(session: Session, kind: EventKind, mail: Mail, job_log: Log | None) -> None:
    """Notification Sent/Failed, with the ids of the Log it reports on when there is one."""
    record_event(
        session,
        kind,
        actor=Actor.SERVER,
        partner_id=mail.partner_id,
        log_id=mail.log_id,
        company_id=job_log.company_id if job_log else None,
        device_id=job_log.device_id if job_log else None,
        job_id=job_log.job_id if job_log else None,
    )


def _reason(error: MailDeliveryError) -> str:
    """The error as ``last_error`` keeps it: with the SMTP reply code when there was one."""
    return f"{error} (SMTP {error.smtp_code})" if error.smtp_code else str(error)


def _checked(sender: str) -> str:
    """``sender`` when it names an address; a From without one would fail every mail."""
    if "@" not in parseaddr(sender)[1] or "\n" in sender or "\r" in sender:
        raise ValueError(f"--mail-from is not an address: {sender!r}")
    return sender
