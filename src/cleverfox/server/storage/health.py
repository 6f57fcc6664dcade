"""The backend's part of ``GET /healthz``: can this process write to storage right now?

A probe writes, reads back and deletes a small object under ``health/`` (``Backend.probe``),
once, without the retrying wrapper: a health check must answer within the prober's
timeout, and a backend that needs retries is worth reporting. The answer is kept for
``ttl`` seconds, so a load balancer polling every second costs one probe in that window,
not one per poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from cleverfox.settings import Settings
from cleverfox.storage.backends.base import Backend
from cleverfox.storage.backends.errors import BackendError
from cleverfox.storage.backends.opening import open_unretried

PROBE_TTL_SECONDS = 5.0


class StorageProbe:
    """``problem()``: ``None`` when storage can be written, else why not (no credential)."""

    def __init__(
        self,
        settings: Settings,
        *,
        ttl: float = PROBE_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._backend: Backend | None = None
        self._checked_at: float | None = None
        self._problem: str | None = None

    def problem(self) -> str | None:
        with self._lock:
            now = self._clock()
            if self._checked_at is None or now - self._checked_at >= self._ttl:
                self._problem = self._probe()
                self._checked_at = now
            return self._problem

    def _probe(self) -> str | None:
        try:
            if self._backend is None:
                self._backend = open_unretried(self._settings)
            self._backend.probe()
        except BackendError as exc:
            return str(exc) or type(exc).__name__
        except OSError as exc:
            return f"{type(exc).__name__}: {exc.strerror or exc}"
        return None
