"""How often and how long a mail that could not be delivered is tried again.

Pure arithmetic: the caller records how many attempts have failed and when, and asks here
when the next one is due and when to give up (a retryable ``MailDeliveryError`` only; a
permanent one is never retried). The schedule is 1, 2, 4, … minutes, capped at one hour, for
at most ``MAX_ATTEMPTS`` attempts — about six hours in all, time for an operator to fix a
broken SMTP setting before the mails it held back are given up.
"""

from __future__ import annotations

from datetime import timedelta

__all__ = ["BASE_DELAY", "MAX_ATTEMPTS", "MAX_DELAY", "next_attempt_delay", "should_give_up"]

BASE_DELAY = timedelta(minutes=1)
MAX_DELAY = timedelta(hours=1)
MAX_ATTEMPTS = 12

# 2**6 minutes already passes the cap; a bound on the exponent keeps huge inputs cheap.
_MAX_EXPONENT = 6


def next_attempt_delay(attempt: int) -> timedelta:
    """Return the wait after failed attempt number ``attempt`` (1 for the first failure).

    Doubles from ``BASE_DELAY`` and never exceeds ``MAX_DELAY``; never decreases as
    ``attempt`` grows. Raises ``ValueError`` for ``attempt < 1``.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    exponent = min(attempt - 1, _MAX_EXPONENT)
    return min(BASE_DELAY * (1 << exponent), MAX_DELAY)


def should_give_up(attempts_made: int) -> bool:
    """Tell whether, after ``attempts_made`` failed attempts, the mail is abandoned."""
    return attempts_made >= MAX_ATTEMPTS
