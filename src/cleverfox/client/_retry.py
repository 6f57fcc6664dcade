"""When to try a request again, and how long to wait first (sans-IO: the caller sleeps).

- 429 waits ``Retry-After`` (or backs off when it is missing); so does a 503 that sends it.
  The server did not process such a request, so every request is retried.
- 502, 503, 504 and transient transport failures back off with full jitter: a random wait
  between 0 and ``min(backoff_cap, backoff_base * 2**retry)``.
- A request that may have reached the server (a read timeout, a dropped connection, a 502
  or 504) is re-sent only when it is *replayable*: a GET, or a write carrying a Token, which
  the server applies at most once. DELETE carries no Token, so it is re-sent only when it
  surely never arrived (the connection could not be made) or the server refused it unread
  (429, 503).
- Everything is bounded: at most ``max_retries`` retries and ``max_total_wait`` seconds of
  waiting per call; a Retry-After longer than what is left of that is not waited for (the
  RateLimited error is raised at once, carrying ``retry_after``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from cleverfox.client.errors import (
    CleverFoxError,
    RateLimited,
    ServerError,
    TransportError,
)

__all__ = ["RetryBudget", "RetryPolicy"]


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How persistent a client is. ``Client(retries=0)`` turns retrying off;
    ``Client(retries=5)`` is ``RetryPolicy(max_retries=5)``.

    ``jitter`` returns a float in [0, 1) scaling each backoff; tests pass a fixed one.
    """

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    max_total_wait: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.backoff_base < 0 or self.backoff_cap < 0:
            raise ValueError("retry settings cannot be negative")
        if self.max_total_wait < 0:
            raise ValueError("max_total_wait cannot be negative")

    @classmethod
    def of(cls, retries: int | RetryPolicy) -> RetryPolicy:
        """The policy for a client's ``retries=`` argument."""
        return retries if isinstance(retries, RetryPolicy) else cls(max_retries=retries)


class RetryBudget:
    """The retries of one call: each ``after_*`` says how long to wait before the next
    attempt, or None to give up (then the caller raises the error it has)."""

    def __init__(self, policy: RetryPolicy, *, replayable: bool) -> None:
        self._policy = policy
        self._replayable = replayable
        self.retries = 0
        self.waited = 0.0

    def after(self, error: CleverFoxError) -> float | None:
        """The wait before retrying after ``error``, or None."""
        if self.retries >= self._policy.max_retries:
            return None
        if isinstance(error, TransportError):
            return self._after_transport(error)
        if isinstance(error, RateLimited):
            return self._wait(error.retry_after)
        if isinstance(error, ServerError):
            if error.status == 503:
                return self._wait(error.retry_after)
            if error.status in (502, 504) and self._replayable:
                return self._backoff()
        return None

    def spend(self, delay: float) -> None:
        """Record that the caller waited ``delay`` and is about to retry."""
        self.retries += 1
        self.waited += delay

    def _after_transport(self, error: TransportError) -> float | None:
        if not error.retryable:
            return None
        if error.request_sent and not self._replayable:
            return None
        return self._backoff()

    def _wait(self, retry_after: float | None) -> float | None:
        if retry_after is None:
            return self._backoff()
        if retry_after > self._policy.max_total_wait - self.waited:
            return None
        return retry_after

    def _backoff(self) -> float | None:
        left = self._policy.max_total_wait - self.waited
        if left <= 0:
            return None
        ceiling = min(self._policy.backoff_cap, self._policy.backoff_base * 2.0**self.retries)
        return min(left, self._policy.jitter() * ceiling)
