"""The expired-token duty: request Tokens past their 60-minute window are deleted.

A Token past the window no longer makes a duplicate (``kit.tokens.check_token``), but its
row would stay forever: the SDK sends a fresh Token with every write, so the table would
grow without end. Batches of ``BATCH`` rows, one transaction each, every
``CLEVERFOX_TOKEN_PURGE_INTERVAL`` seconds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cleverfox.server.kit.tokens import purge_expired_tokens

LOCK_ID = 0x43460005  # "CF" 5
BATCH = 1000


def purge_tokens(session: Session, now: datetime) -> int:
    """One batch of the duty: at most ``BATCH`` expired Tokens deleted."""
    return purge_expired_tokens(session, now, limit=BATCH)
