"""SQL of the ``mails`` outbox: the rows the dispatcher claims, and the Logs they report on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cleverfox.server.models import Log, Mail


def claim_next_due(session: Session, now: datetime) -> Mail | None:
    """The oldest row due at ``now`` (not sent, not given up), its row locked; rows other
    dispatchers hold are skipped, not waited for."""
    stmt = (
        select(Mail)
        .where(Mail.sent_at.is_(None), Mail.failed_at.is_(None), Mail.next_attempt_at <= now)
        .order_by(Mail.next_attempt_at, Mail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalars(stmt).first()


def find_log(session: Session, log_id: int) -> Log | None:
    """The Log a job-result mail reports on, while it exists (history may be deleted)."""
    return session.get(Log, log_id)
