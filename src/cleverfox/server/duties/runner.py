"""The loops that run duties: a thread per duty in each server process, one transaction per
call. Separate threads keep a slow duty (a mail server that takes its time) from delaying
the others (a missed job's Log)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database, try_advisory_transaction_lock

log = logging.getLogger("cleverfox.server.duties")

DutyCall = Callable[[Session, datetime], int]
"""Does one batch of a duty in the given transaction at ``now`` (naive UTC); returns how
many objects it handled. Never commits."""


@dataclass(frozen=True)
class Duty:
    """A piece of background work: its name, advisory lock id, cadence and batch size.

    A call that handles ``batch`` objects is followed at once by another, so a backlog
    (catch-up after downtime) drains without waiting for the next round.
    """

    name: str
    lock_id: int
    interval: float
    call: DutyCall
    batch: int


class DutyRunner:
    """Runs each of ``duties`` on its cadence in its own daemon thread until ``stop``."""

    def __init__(
        self, db: Database, duties: Sequence[Duty], *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.duties = tuple(duties)
        self.clock = clock
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the threads; each duty's first round runs at once."""
        for duty in self.duties:
            thread = threading.Thread(
                target=self._loop, args=(duty,), name=f"cleverfox-duty-{duty.name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30) -> None:
        """Ask the threads to stop after the calls in progress, and wait (``timeout`` in all)."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def run_once(self, duty: Duty) -> int | None:
        """One call of ``duty`` in its own transaction; ``None`` when another process holds
        the duty's lock this round."""
        with self.db.writing() as session:
            if not self._acquire(session, duty.lock_id):
                return None
            return duty.call(session, self.clock())

    def drain(self, duty: Duty) -> int:
        """Call ``duty`` until a call handles less than a full batch; how many it handled."""
        total = 0
        while not self._stopping.is_set():
            handled = self.run_once(duty)
            total += handled or 0
            if handled is None or handled < duty.batch:
                break
        return total

    def _acquire(self, session: Session, lock_id: int) -> bool:
        if self.db.sqlite:
            return True  # BEGIN IMMEDIATE (at the first statement) serialises the processes
        return try_advisory_transaction_lock(session, lock_id)

    def _loop(self, duty: Duty) -> None:
        while not self._stopping.is_set():
            self._guarded(duty)
            self._stopping.wait(duty.interval)

    def _guarded(self, duty: Duty) -> None:
        try:
            self.drain(duty)
        except Exception:  # a failing round is logged and retried next round
            log.exception("duty %s failed", duty.name)
