"""Duplicate prevention with request Tokens (README §3).

A Token is recorded only when its request succeeds, in the request's own transaction. A
recorded Token younger than 60 minutes turns a later request of the same partner into 409
``duplicate_request`` naming what the first one created or changed. Of concurrent requests
with one Token the primary key lets exactly one commit; the others see its record. Records
past the window are deleted by the ``expired-tokens`` duty (``duties.expired_tokens``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.errors import DuplicateRequest
from cleverfox.server.models import RequestToken

TOKEN_WINDOW = timedelta(minutes=60)


def check_token(session: Session, partner_id: int, token: str) -> None:
    """Raise ``DuplicateRequest`` if ``token`` was recorded in the window; drop a stale one."""
    record = session.get(RequestToken, (partner_id, token))
    if record is None:
        return
    if record.added_on > utcnow() - TOKEN_WINDOW:
        raise DuplicateRequest(record.resource, record.object_id)
    session.execute(
        delete(RequestToken).where(
            RequestToken.partner_id == partner_id, RequestToken.token == token
        )
    )


def record_token(
    session: Session, partner_id: int, token: str, resource: str, object_id: int | None
) -> None:
    """Record ``token`` for the change just made; a concurrent winner makes this a duplicate."""
    try:
        with session.begin_nested():
            session.add(
                RequestToken(
                    partner_id=partner_id,
                    token=token,
                    resource=resource,
                    object_id=object_id,
                    added_on=utcnow(),
                )
            )
    except IntegrityError:
        winner = session.scalars(
            select(RequestToken).where(
                RequestToken.partner_id == partner_id, RequestToken.token == token
            )
        ).one()
        raise DuplicateRequest(winner.resource, winner.object_id) from None


def purge_expired_tokens(session: Session, now: datetime, *, limit: int) -> int:
    """Delete at most ``limit`` Tokens recorded before the window that ends at ``now``
    (naive UTC); returns how many. Rows another transaction holds (a request checking or
    re-recording that Token) are skipped, for the next call."""
    expired = (
        select(RequestToken.partner_id, RequestToken.token)
        .where(RequestToken.added_on < now - TOKEN_WINDOW)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    key = tuple_(RequestToken.partner_id, RequestToken.token)
    result = session.execute(delete(RequestToken).where(key.in_(expired)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
