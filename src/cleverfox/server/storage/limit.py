"""The plan's StorageLimit: which commits it refuses, and what a refusal records.

The company's stored bytes (``storage_companies.stored_bytes``: every indexed chunk's sealed
length, counted once per company, after deduplication and compression) are its
StorageUsedBytes. A commit is refused with 409 ``storage_limit_reached`` when the plan of
the Log's subscription has a StorageLimit (GB = 10^9 bytes; 0 = none), the company's stored
bytes exceed it, and the commit would add stored bytes (its StoredBytes > 0): a commit
that only references chunks already counted adds nothing and passes. Chunks a refused run
uploaded are referenced by nothing and become garbage.

A refusal writes Event 80 (Storage Limit Reached) and queues the storage-limit mail, at most
once per 24 hours per company (``storage_companies.limit_mailed_on``), to the subscription's
notification addresses when it asks for the mail (SendNotificationOnStorageLimit), else to
the device's (the Log's snapshot); nobody to tell, no mail. Both are written in their own
transaction, since the refused commit's rolls back.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import Conflict
from cleverfox.server.kit.events import Actor, EventKind, record_event
from cleverfox.server.mail.messages import Recipients
from cleverfox.server.models import Company, Log, Mail, Plan, Subscription
from cleverfox.server.storage import repository

GB = 1_000_000_000
MAIL_INTERVAL = timedelta(hours=24)
MAIL_KIND = "storage_limit"
SUBJECT_PREFIX = "[CleverFox Backup] "


class StorageLimitReached(Conflict):
    default_code = "storage_limit_reached"
    default_message = "The subscription's storage limit is reached; nothing was committed."


def limit_bytes(session: Session, log: Log) -> int:
    """The plan's StorageLimit in bytes (0: none, also for a plan since deleted)."""
    plan = session.get(Plan, log.plan_id) if log.plan_id is not None else None
    return 0 if plan is None else plan.storage_limit * GB


def check(session: Session, log: Log, adds: int) -> None:
    """``StorageLimitReached`` if a commit adding ``adds`` stored bytes passes the limit."""
    limit = limit_bytes(session, log)
    if limit and adds > 0 and repository.stored_bytes(session, log.company_id) > limit:
        raise StorageLimitReached()


def record_refusal(session: Session, log: Log) -> None:
    """Event 80 and, once a day per company, the storage-limit mail."""
    record_event(
        session,
        EventKind.STORAGE_LIMIT_REACHED,
        actor=Actor.AGENT,
        partner_id=log.partner_id,
        company_id=log.company_id,
        device_id=log.device_id,
        job_id=log.job_id,
        log_id=log.id,
        subscription_id=log.subscription_id,
        plan_id=log.plan_id,
    )
    company = repository.lock_company(session, log.company_id)
    now = utcnow()
    if company is None or (
        company.limit_mailed_on is not None and now - company.limit_mailed_on < MAIL_INTERVAL
    ):
        return
    if _queue_mail(session, log, now):
        company.limit_mailed_on = now


def _queue_mail(session: Session, log: Log, now: datetime) -> bool:
    recipients = _recipients(session, log)
    if recipients is None:
        return False
    company = session.get(Company, log.company_id)
    name = company.name if company else f"Company {log.company_id}"
    limit_gb = limit_bytes(session, log) // GB
    used = repository.stored_bytes(session, log.company_id)
    lines = [
        f"{name} has reached its storage limit of {limit_gb} GB ({used / GB:.2f} GB stored).",
        "",
        f"The backup of job {log.name!r} (run {log.id}) could not be stored, and backups",
        "will fail until stored data is removed or the plan's limit is raised.",
        "",
        f"Sent {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by CleverFox Backup.",
    ]
    session.add(
        Mail(
            partner_id=log.partner_id,
            kind=MAIL_KIND,
            log_id=log.id,
            message_id=f"<storage-limit-{log.company_id}-{secrets.token_hex(8)}@cleverfox>",
            to_addresses=", ".join(recipients.to),
            cc_addresses=", ".join(recipients.cc) or None,
            bcc_addresses=", ".join(recipients.bcc) or None,
            subject=f"{SUBJECT_PREFIX}Storage limit reached: {' '.join(name.split())}",
            body="\n".join(lines) + "\n",
            attempts=0,
            next_attempt_at=now,
            added_on=now,
        )
    )
    return True


def _recipients(session: Session, log: Log) -> Recipients | None:
    subscription = session.get(Subscription, log.subscription_id) if log.subscription_id else None
    if subscription is not None and subscription.send_notification_on_storage_limit:
        lists = (
            subscription.send_notification_to,
            subscription.send_notification_cc,
            subscription.send_notification_bcc,
        )
    else:
        lists = (log.send_notification_to, log.send_notification_cc, log.send_notification_bcc)
    try:
        return Recipients.from_lists(*lists)
    except ValueError:
        return None
