"""A run's progress: files and bytes done of those found, the rate, an estimate.

:class:`RunProgress` is the ``ProgressSink`` every item of a run reports to; its figures go
to listeners: :class:`ServerProgress` (``PUT …/progress`` at most every ~2 s) and
:class:`TerminalLine` (a line rewritten in place on a terminal).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from cleverfox.client import errors

log = logging.getLogger("cleverfox.agent")

SERVER_INTERVAL = 2.0
TERMINAL_INTERVAL = 0.2


@dataclass(frozen=True)
class Figures:
    """A moment of a run's progress."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    bytes_uploaded: int
    rate_bytes_per_second: int
    eta_seconds: int | None

    def wire(self) -> dict[str, int]:
        """The figures as ``PUT /api/agent/logs/{LogId}/progress`` takes them."""
        figures = {
            "FilesDone": self.files_done,
            "FilesTotal": self.files_total,
            "BytesDone": self.bytes_done,
            "BytesTotal": self.bytes_total,
            "BytesUploaded": self.bytes_uploaded,
            "RateBytesPerSecond": self.rate_bytes_per_second,
        }
        if self.eta_seconds is not None:
            figures["EtaSeconds"] = self.eta_seconds
        return figures


Listener = Callable[[Figures, bool], None]
"""Called with the figures after each change; the flag is True for the last call of a run."""


class RunProgress:
    """Sums what a run's items report (safe to call from several threads)."""

    def __init__(
        self, listeners: Sequence[Listener] = (), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._listeners = list(listeners)
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._files_done = self._files_total = 0
        self._bytes_done = self._bytes_total = self._uploaded = 0

    def planned(self, files: int, size: int) -> None:
        with self._lock:
            self._files_total += files
            self._bytes_total += size
        self._tell(final=False)

    def done(self, files: int, size: int, uploaded: int = 0) -> None:
        with self._lock:
            self._files_done += files
            self._bytes_done += size
            self._uploaded += uploaded
        self._tell(final=False)

    def finish(self) -> None:
        """The run is over: listeners get the last figures."""
        self._tell(final=True)

    def figures(self) -> Figures:
        with self._lock:
            elapsed = max(self._clock() - self._started, 1e-6)
            rate = int(self._bytes_done / elapsed)
            left = max(self._bytes_total - self._bytes_done, 0)
            eta = int(left / rate) if rate > 0 else None
            return Figures(
                self._files_done,
                max(self._files_total, self._files_done),
                self._bytes_done,
                max(self._bytes_total, self._bytes_done),
                self._uploaded,
                rate,
                eta,
            )

    def _tell(self, final: bool) -> None:
        figures = self.figures()
        for listener in self._listeners:
            listener(figures, final)


class ProgressClient(Protocol):
    def progress(self, log_id: int, figures: dict[str, int]) -> None: ...


class ServerProgress:
    """Sends the figures to the Running Log at most every ``interval`` seconds. A failure
    never fails the run: it is logged; a server without the endpoint (404/405) is not asked
    again during this run."""

    def __init__(
        self,
        client: ProgressClient,
        log_id: int,
        interval: float = SERVER_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._log_id = log_id
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self._off = False

    def __call__(self, figures: Figures, final: bool) -> None:
        now = self._clock()
        if self._off or final or (self._last is not None and now - self._last < self._interval):
            return
        self._last = now
        try:
            self._client.progress(self._log_id, figures.wire())
        except errors.APIError as exc:
            if exc.status in (404, 405):
                self._off = True
            log.info("progress not sent: %s", exc)
        except errors.CleverFoxError as exc:
            log.info("progress not sent: %s", exc)


class TerminalLine:
    """A progress line rewritten in place (``\\r``) on ``stream``, ended by the last call."""

    def __init__(
        self,
        stream: TextIO,
        interval: float = TERMINAL_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self._width = 0

    def __call__(self, figures: Figures, final: bool) -> None:
        now = self._clock()
        if not final and self._last is not None and now - self._last < self._interval:
            return
        self._last = now
        text = describe(figures)
        padding = " " * max(self._width - len(text), 0)
        self._width = len(text)
        self._stream.write("\r" + text + padding + ("\n" if final else ""))
        self._stream.flush()


def describe(figures: Figures) -> str:
    """``12/40 files, 1.2 MiB/3.4 MiB, 5.0 MiB/s, ETA 0:00:03, 100 KiB sent``."""
    eta = "ETA --" if figures.eta_seconds is None else f"ETA {_duration(figures.eta_seconds)}"
    return (
        f"{figures.files_done}/{figures.files_total} files, "
        f"{size_text(figures.bytes_done)}/{size_text(figures.bytes_total)}, "
        f"{size_text(figures.rate_bytes_per_second)}/s, {eta}, "
        f"{size_text(figures.bytes_uploaded)} sent"
    )


def size_text(size: int) -> str:
    """A byte count for a person: ``512 B``, ``1.5 KiB``, ``3.2 GiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}"
