"""Retries with exponential backoff and jitter around any backend (a wrapper, not a subclass).

Only ``TransientBackendError`` is retried. After ``attempts`` tries, or when the next pause
would pass ``max_elapsed`` seconds since the first, the wrapper gives up with
``BackendUnavailable`` naming the operation, the object, the count and the last error, so an
outer layer does not retry again. Each retry logs one warning.

Every method stays idempotent under retries:

- ``get``, ``size``, ``delete`` and ``probe`` are idempotent by nature (a probe retried
  uses a fresh name).
- ``list`` resumes after the last name it yielded (``start_after``), so a listing cut off
  on page 300 neither starts again nor repeats a name.
- ``put`` after an ambiguous failure (a lost connection after the service had stored the
  object) would find its own object and raise ``ObjectExists``. After a transient failure,
  the wrapper therefore compares the object found with the bytes being put: same size, then
  same content, read back in ``compare_window``-byte ranges. The same bytes are success
  (it is this put's own write, or one indistinguishable from it); different bytes are
  ``ObjectExists``. A name exists before the first attempt raises at once, unread.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from cleverfox.storage.backends.base import Backend, ObjectInfo, Payload, as_buffers
from cleverfox.storage.backends.errors import (
    BackendUnavailable,
    ObjectExists,
    TransientBackendError,
)
from cleverfox.storage.backends.names import check_name, check_prefix

__all__ = ["RetryingBackend"]

T = TypeVar("T")
log = logging.getLogger("cleverfox.storage")


class RetryingBackend:
    """``backend`` with retries; the delays grow ``base_delay · 2ⁿ`` up to ``max_delay``.

    Each pause is drawn between half and all of that (``jitter`` gives 0–1), so processes
    that failed together do not retry together. ``sleep`` and ``clock`` are injectable
    for tests.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        attempts: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        max_elapsed: float = 60.0,
        compare_window: int = 8 << 20,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._backend = backend
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._max_elapsed = max_elapsed
        self._compare_window = compare_window
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    @property
    def wrapped(self) -> Backend:
        """The backend being retried (for duties of one kind, such as a local sweep)."""
        return self._backend

    def put(self, name: str, data: Payload) -> None:
        check_name(name)
        failed_before = False

        def attempt() -> None:
            nonlocal failed_before
            try:
                self._backend.put(name, data)
            except ObjectExists:
                if failed_before and self._holds(name, data):
                    log.info("storage put of %r: found stored by an earlier attempt", name)
                    return
                raise
            except TransientBackendError:
                failed_before = True
                raise

        self._retry("put", name, attempt)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        return self._retry("get", name, lambda: self._backend.get(name, offset, length))

    def size(self, name: str) -> int:
        return self._retry("size", name, lambda: self._backend.size(name))

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        if start_after is not None:
            check_name(start_after)
        return self._list(prefix, start_after)

    def delete(self, name: str) -> None:
        self._retry("delete", name, lambda: self._backend.delete(name))

    def describe(self) -> str:
        return self._backend.describe()

    def probe(self) -> None:
        self._retry("probe", "health/", self._backend.probe)

    def _retry(self, operation: str, name: str, call: Callable[[], T]) -> T:
        started = self._clock()
        attempt = 1
        while True:
            try:
                return call()
            except TransientBackendError as exc:
                self._pause_or_give_up(operation, name, attempt, started, exc)
                attempt += 1

    def _list(self, prefix: str, start_after: str | None) -> Iterator[ObjectInfo]:
        started, attempt, last = self._clock(), 1, start_after
        while True:
            try:
                for info in self._backend.list(prefix, start_after=last):
                    yield info
                    last, attempt, started = info.name, 1, self._clock()
                return
            except TransientBackendError as exc:
                self._pause_or_give_up("list", prefix or "/", attempt, started, exc)
                attempt += 1

    def _pause_or_give_up(
        self, operation: str, name: str, attempt: int, started: float, error: Exception
    ) -> None:
        """Sleep before attempt ``attempt + 1``, or raise ``BackendUnavailable`` if none is left."""
        ceiling = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
        delay = ceiling * (0.5 + self._jitter() / 2)
        elapsed = self._clock() - started
        if attempt >= self._attempts or elapsed + delay > self._max_elapsed:
            raise BackendUnavailable(
                f"storage {operation} of {name!r} failed after {attempt} attempt"
                f"{'s' if attempt > 1 else ''} in {elapsed:.1f} s: {error}"
            ) from error
        log.warning(
            "storage %s of %r failed (attempt %d of %d), retrying in %.2f s: %s",
            operation, name, attempt, self._attempts, delay, error,
        )  # fmt: skip
        self._sleep(delay)

    def _holds(self, name: str, data: Payload) -> bool:
        """Whether the stored object ``name`` is exactly ``data`` (read back window by window)."""
        expected = b"".join(as_buffers(data)) if not isinstance(data, bytes) else data
        if self._backend.size(name) != len(expected):
            return False
        window = self._compare_window
        for offset in range(0, len(expected), window):
            part = memoryview(expected)[offset : offset + window]
            if self._backend.get(name, offset, part.nbytes) != part:
                return False
        return True
