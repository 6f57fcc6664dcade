"""Running a dump tool safely: found on PATH, secrets in 0600 files or the child's own
environment, stdout streamed, stderr's tail kept (scrubbed) for the failure message, and the
child always reaped — killed first when its dump was not read to the end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO, cast

from cleverfox.agent.model import DumpFailed, StreamedFile

# Variables the agent's own environment must not pass to a tool: the item's settings are
# the only connection settings a dump uses (a stray PGPASSWORD or PGDATABASE would win).
INHERITED_PREFIXES_DROPPED = ("PG", "MYSQL", "MARIADB", "SQLCMD")
TAIL_LINES = 12
LINE_BYTES = 500
MESSAGE_CHARS = 2000
QUERY_TIMEOUT_SECONDS = 120
REDACTED = "***"


@dataclass(slots=True)
class OpenDump:
    """The :class:`~cleverfox.agent.model.Dump` every engine hands back."""

    server_version: str | None
    server_edition: str | None
    streamed: list[StreamedFile] = field(default_factory=list)

    def files(self) -> Iterator[StreamedFile]:
        """The dump's files, in order; each stream is read to its end before the next."""
        yield from self.streamed


class Scrubber:
    """Replaces every secret in a message with ``***`` (longest first, so none leaks in part)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def tool_environment(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """``base`` without inherited database settings, plus ``extra`` (the item's)."""
    env = {k: v for k, v in base.items() if not k.upper().startswith(INHERITED_PREFIXES_DROPPED)}
    env.update(extra)
    return env


def find_tool(names: Sequence[str], environ: Mapping[str, str]) -> str:
    """The path of the first of ``names`` on ``environ``'s PATH; ``DumpFailed`` if none is."""
    search = environ.get("PATH", os.defpath)
    for name in names:
        found = shutil.which(name, path=search)
        if found:
            return found
    raise DumpFailed(f"{' or '.join(names)} is not installed (not found on PATH)")


@contextmanager
def scratch_folder(work_dir: Path) -> Iterator[Path]:
    """A private (0700) folder under ``work_dir`` for secret files and copies, removed after.

    Its name carries this process's id, so a folder an agent killed mid-dump (kill -9, power
    loss) left behind — credentials files included — is removed by the next dump.
    """
    try:
        work_dir.mkdir(parents=True, exist_ok=True)
        remove_abandoned(work_dir)
        folder = Path(tempfile.mkdtemp(prefix=f"dump-{os.getpid()}-", dir=work_dir))
    except OSError as error:
        raise DumpFailed(f"cannot make a work folder in {work_dir}: {error.strerror}") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned(work_dir: Path) -> None:
    """Remove the scratch folders of processes that no longer exist (POSIX only: Windows has
    no harmless liveness probe in the standard library, so its leftovers wait for cleanup)."""
    if os.name != "posix":
        return
    for folder in work_dir.glob("dump-*-*"):
        owner = folder.name.split("-")[1]
        if owner.isdigit() and not _process_exists(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def write_secret_file(folder: Path, name: str, content: str) -> Path:
    """Write ``content`` to a new file readable by this user only (never a shared name)."""
    path = folder / name
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
            file.write(content)
    except OSError as error:
        raise DumpFailed(
            f"cannot write the credentials file in {folder}: {error.strerror}"
        ) from None
    return path


def run_query(
    argv: Sequence[str],
    env: Mapping[str, str],
    *,
    label: str,
    scrub: Scrubber,
    timeout: float | None = QUERY_TIMEOUT_SECONDS,
) -> str:
    """Run a short tool command to its end and return its stdout; ``DumpFailed`` (scrubbed)
    when it cannot start, times out or exits non-zero."""
    try:
        done = subprocess.run(  # noqa: S603 - argv is built by this package, never a shell
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=dict(env),
            timeout=timeout,
            start_new_session=True,
            check=False,
        )
    except OSError as error:
        raise DumpFailed(f"{label} could not start: {error.strerror}") from None
    except subprocess.TimeoutExpired:
        raise DumpFailed(f"{label} did not answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = _tail_text([done.stderr, done.stdout])
        raise DumpFailed(_failure(label, done.returncode, scrub(tail)))
    return done.stdout.decode("utf-8", errors="replace")


class ToolRun:
    """A dump tool whose stdout is the dump. Started at construction; :meth:`finish` or
    :meth:`stop` must follow (both wait for the child, so it never lingers as a zombie)."""

    def __init__(
        self, argv: Sequence[str], env: Mapping[str, str], *, label: str, scrub: Scrubber
    ) -> None:
        self.label = label
        self._scrub = scrub
        self._tail: deque[bytes] = deque(maxlen=TAIL_LINES)
        try:
            # A new session keeps the terminal's Ctrl-C for the agent, which then stops us.
            self._process = subprocess.Popen(  # noqa: S603 - argv is ours, never a shell
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(env),
                start_new_session=True,
            )
        except OSError as error:
            raise DumpFailed(f"{label} could not start: {error.strerror}") from None
        self._reader = threading.Thread(target=self._keep_tail, name=f"{label}-stderr")
        self._reader.daemon = True
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def stdout(self) -> BinaryIO:
        return cast(BinaryIO, self._process.stdout)

    def finish(self) -> None:
        """Succeed only if the dump was read to its end and the tool exited 0."""
        # A stream the reader closed tells nothing; the tool then exits by itself (at the end,
        # or on a broken pipe, which is a non-zero exit below).
        if not self.stdout.closed and self.stdout.read(1):
            self.stop()
            raise DumpFailed(f"{self.label} output was not read to its end")
        code = self._wait()
        if code != 0:
            raise DumpFailed(_failure(self.label, code, self._scrub(_tail_text(self._tail))))

    def stop(self) -> None:
        """Kill the tool if it still runs (an early exit or a cancel) and reap it."""
        if self._process.poll() is None:
            self._process.kill()
        self._wait()

    def _wait(self) -> int:
        code = self._process.wait()
        self._reader.join()
        self.stdout.close()
        return code

    def _keep_tail(self) -> None:
        stderr = cast(IO[bytes], self._process.stderr)
        with stderr:
            while line := stderr.readline(LINE_BYTES):
                self._tail.append(line)


def _tail_text(parts: Iterable[bytes]) -> str:
    text = b"".join(parts).decode("utf-8", errors="replace").strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[-TAIL_LINES:])[-MESSAGE_CHARS:]


def _failure(label: str, code: int, tail: str) -> str:
    how = f"exit code {code}" if code >= 0 else f"killed by signal {-code}"
    return f"{label} failed ({how}): {tail}" if tail else f"{label} failed ({how})"
