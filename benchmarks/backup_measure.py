"""What the backup suite measures of a process: wall time and peak RSS; and of a folder, its size.

Peak RSS of a command comes from a sampler polling ``/proc`` every ``SAMPLE_SECONDS`` while
it runs: the larger of the biggest high-water mark (``VmHWM``) of any one process of its tree
and the largest sum of ``VmRSS`` over the tree at one moment (a tool with worker processes
holds their memory at once). ``ru_maxrss`` from ``wait4`` is not used: Linux counts in it the
memory the child had between fork and exec, a copy of this (large) Python process. A
long-running process (the server) has its high-water mark reset (``/proc/PID/clear_refs``) at
the start of each step so the figure is the step's own.

The page cache is dropped (``sync``, ``/proc/sys/vm/drop_caches``) before every timed step
when this process may, so every tool reads its input from disk; otherwise each step runs
warm, and the report says which.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.1
KIB = 1024


class StepFailed(Exception):
    """A measured command exited non-zero; the message is its last line of output."""


@dataclass(frozen=True)
class Measured:
    """One command run to its end: how long it took, its CPU, its peak RSS, its output."""

    seconds: float
    cpu_seconds: float
    peak_rss: int  # bytes
    stdout: str


@dataclass(frozen=True)
class FolderSize:
    """A folder's files: how many, their bytes (as ``du -sb``) and the blocks they use."""

    files: int
    apparent: int
    allocated: int


def run_measured(
    command: Sequence[str],
    *,
    environment: Mapping[str, str],
    cwd: Path | None = None,
    log: Path,
    timeout: float = 4 * 3600,
) -> Measured:
    """Run ``command`` to its end, timed and sampled; ``StepFailed`` if it exits non-zero.

    stdout goes to ``log`` (returned as text), stderr to ``log`` with ``.err`` appended: a
    pipe nobody reads while the tool runs could fill up and stall it.
    """
    with log.open("wb") as out, log.with_suffix(log.suffix + ".err").open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - the suite's own fixed command lines
            list(command), stdout=out, stderr=err, env=dict(environment), cwd=cwd
        )
        with sampling(process.pid) as sampler:
            status, cpu = _wait(process, timeout)
        seconds = time.perf_counter() - started
    if status != 0:
        raise StepFailed(f"{Path(command[0]).name} exited {status}: {last_line(log)}")
    cpu = max(cpu, sampler.cpu_seconds)
    return Measured(seconds, cpu, sampler.peak, log.read_text(errors="replace"))


def _wait(process: subprocess.Popen[bytes], timeout: float) -> tuple[int, float]:
    """The exit status and CPU seconds (user + system, with the children it waited for)
    of ``process``, from ``wait4``; killed after ``timeout`` seconds."""
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def last_line(log: Path) -> str:
    """The last non-empty line of a command's stderr, else of its stdout (at most 300 chars)."""
    for path in (log.with_suffix(log.suffix + ".err"), log):
        try:
            lines = [line for line in path.read_text(errors="replace").splitlines() if line]
        except OSError:
            continue
        if lines:
            return lines[-1].strip()[:300]
    return "(no output)"


class Sampler:
    """Polls a process tree in a thread; ``peak``: the largest summed ``VmRSS`` seen, or
    the largest ``VmHWM`` of one of its processes, whichever is more; ``cpu_seconds``: the
    sum over every process seen of the last CPU time read of it (a process's last tenth of
    a second is missed; ``wait4`` misses the processes not waited for, as a forkserver's
    workers are, so the measure takes the larger of the two)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while True:
            members = process_tree(self.pid)
            resident = sum(status_bytes(member, "VmRSS") for member in members)
            highest = max((status_bytes(member, "VmHWM") for member in members), default=0)
            self.peak = max(self.peak, resident, highest)
            for member in members:
                self._ticks[member] = max(self._ticks.get(member, 0), _cpu_ticks(member))
            if self._stop.wait(SAMPLE_SECONDS):
                return

    @property
    def cpu_seconds(self) -> float:
        return sum(self._ticks.values()) / os.sysconf("SC_CLK_TCK")


@contextmanager
def sampling(pid: int) -> Iterator[Sampler]:
    """A running :class:`Sampler` of ``pid``'s tree, stopped on the way out."""
    sampler = Sampler(pid)
    sampler.start()
    try:
        yield sampler
    finally:
        sampler.stop()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from one scan of ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent(entry)
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    tree, pending = [], [pid]
    while pending:
        current = pending.pop()
        tree.append(current)
        pending.extend(children.get(current, ()))
    return tree


def _parent(entry: Path) -> int | None:
    fields = _stat_fields(entry)
    return int(fields[1]) if fields else None


def _cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` so far, in clock ticks (0 when it is gone)."""
    fields = _stat_fields(Path(f"/proc/{pid}"))
    return int(fields[11]) + int(fields[12]) if fields else 0


def _stat_fields(entry: Path) -> list[str]:
    """``/proc/PID/stat`` after the command name (state, ppid, …); empty if it is gone."""
    try:
        fields = (entry / "stat").read_text().rpartition(")")[2].split()
    except OSError:
        return []
    return fields if len(fields) > 12 else []


def status_bytes(pid: int, field: str) -> int:
    """A ``kB`` field of ``/proc/PID/status`` (``VmRSS``, ``VmHWM``) in bytes; 0 if gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * KIB
    except (OSError, IndexError, ValueError):
        pass
    return 0


def reset_peak(pid: int) -> bool:
    """Reset the high-water mark (``VmHWM``) of ``pid``'s tree; False where it cannot."""
    done = True
    for member in process_tree(pid):
        try:
            Path(f"/proc/{member}/clear_refs").write_text("5")
        except OSError:
            done = False
    return done


def tree_peak(pid: int) -> int:
    """The summed ``VmHWM`` of ``pid``'s tree: each process's peak since its last reset."""
    return sum(status_bytes(member, "VmHWM") for member in process_tree(pid))


def drop_page_cache() -> bool:
    """Write dirty pages out and drop the page cache; False when not allowed (not root)."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3")
    except OSError:
        return False
    return True


def folder_size(*paths: Path) -> FolderSize:
    """Regular files under ``paths`` (files or folders; missing ones count as empty)."""
    files = apparent = allocated = 0
    for path in paths:
        for found in _files(path):
            files += 1
            apparent += found.st_size
            allocated += found.st_blocks * 512
    return FolderSize(files, apparent, allocated)


def _files(path: Path) -> Iterator[os.stat_result]:
    if path.is_file() and not path.is_symlink():
        yield path.stat()
        return
    for folder, _, names in os.walk(path):
        for name in names:
            found = os.lstat(os.path.join(folder, name))
            if stat.S_ISREG(found.st_mode):
                yield found
