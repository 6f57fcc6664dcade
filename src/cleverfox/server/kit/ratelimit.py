"""In-memory token buckets: per API key budgets and per-address failed-auth limits.

Kept per server process, as the contract says; no sleeping on open connections — an
exhausted bucket answers 429 with the seconds until a request is allowed again.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    stamp: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int


class TokenBuckets:
    """A bucket of ``burst`` tokens per key, refilled at ``per_minute`` per minute."""

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.per_minute = per_minute
        self.burst = max(1, burst)
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key: str) -> Decision:
        """Spend one token of ``key`` if there is one."""
        now = self._clock()
        with self._lock:
            bucket = self._refill(key, now)
            allowed = bucket.tokens >= 1
            if allowed:
                bucket.tokens -= 1
            return self._decision(bucket, allowed)

    def exhausted(self, key: str) -> bool:
        """Whether ``key`` has no token left, without spending one.

        A key never seen has a full bucket: answered without the lock and without adding
        it (most callers of the failed-authentication limit never failed).
        """
        if key not in self._buckets:
            return False
        with self._lock:
            return self._refill(key, self._clock()).tokens < 1

    def _refill(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self._rate)
        bucket.stamp = now
        return bucket

    def _decision(self, bucket: _Bucket, allowed: bool) -> Decision:
        missing = self.burst - bucket.tokens
        reset = math.ceil(missing / self._rate) if self._rate else 0
        retry = 0 if bucket.tokens >= 1 else math.ceil((1 - bucket.tokens) / self._rate)
        return Decision(allowed, self.burst, int(bucket.tokens), reset, max(retry, 1))
