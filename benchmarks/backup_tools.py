"""The baselines of the backup suite, restic and borg, each to a local repository.

Each tool is a :class:`Tool`: whether it is installed, its version, its command lines, and a
session (an initialised repository, untimed) in which each step is one measured process.
Both encrypt, as CleverFox does: restic always; borg with ``repokey`` and a passphrase from
the environment. Their caches and config live in the run's folder, never the user's home.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from benchmarks.backup_measure import (
    Measured,
    StepFailed,
    drop_page_cache,
    folder_size,
    run_measured,
)
from benchmarks.backup_report import BORG, RESTIC, Step

PASSPHRASE = secrets.token_hex(16)  # a throw-away repository's, passed in the environment
BORG_COMPRESSION = "zstd,3"


@dataclass(frozen=True)
class Workspace:
    """The run's folder: the corpus copy every tool backs up (one path), repositories, logs."""

    root: Path
    corpus: Path
    cold: bool  # drop the page cache before each timed step

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log(self, tool: str, step: str) -> Path:
        return self.folder("logs") / f"{tool}-{step}.log"

    def environment(self, tool: str) -> dict[str, str]:
        """This process's environment without CleverFox settings, homes inside the run."""
        home = self.folder(f"home-{tool}")
        environment = {
            k: v for k, v in os.environ.items() if not k.upper().startswith("CLEVERFOX_")
        }
        environment.update(
            HOME=str(home),
            XDG_CONFIG_HOME=str(home / ".config"),
            XDG_DATA_HOME=str(home / ".local" / "share"),
            XDG_CACHE_HOME=str(home / ".cache"),
        )
        return environment

    def settle(self) -> None:
        """Before a timed step: the same cache treatment for every tool."""
        if self.cold:
            drop_page_cache()


class Session(Protocol):
    """An initialised repository of one tool: its measured steps."""

    def backup(self, step: str) -> Step: ...

    def restore(self, target: Path) -> Step: ...


class Tool(Protocol):
    """A backup program the suite measures."""

    name: str

    def missing(self) -> str | None:
        """Why it cannot run here (one line), or ``None`` when it can."""
        ...

    def version(self) -> str: ...

    def commands(self) -> tuple[str, ...]: ...

    def session(self, work: Workspace) -> AbstractContextManager[Session]: ...


def installed_version(command: list[str]) -> str:
    """The first line a ``--version``-like command prints, or ``unknown``."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed command lines
            command, capture_output=True, text=True, timeout=60, check=False
        )
    except OSError:
        return "unknown"
    lines = done.stdout.strip().splitlines()
    return lines[0].strip() if lines and done.returncode == 0 else "unknown"


def _untimed(command: list[str], environment: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed command lines
        command, capture_output=True, text=True, env=environment, timeout=600, check=False
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["(no output)"]
        raise StepFailed(f"{what} exited {done.returncode}: {lines[-1][:300]}")


def _missing_program(program: str, package: str) -> str | None:
    if shutil.which(program):
        return None
    return f"`{program}` is not installed (`make bench` installs Debian's `{package}`)"


class _RepositorySession:
    """Steps against a local repository: measured, then the repository's size."""

    def __init__(
        self, work: Workspace, tool: str, repository: Path, environment: dict[str, str]
    ) -> None:
        self.work = work
        self.tool = tool
        self.repository = repository
        self.environment = environment

    def _measure(self, step: str, command: list[str], cwd: Path | None = None) -> Measured:
        self.work.settle()
        log = self.work.log(self.tool, step)
        return run_measured(command, environment=self.environment, cwd=cwd, log=log)

    def _backup_step(self, step: str, command: list[str]) -> Step:
        before = folder_size(self.repository).apparent
        measured = self._measure(step, command)
        after = folder_size(self.repository).apparent
        return Step(
            step,
            measured.seconds,
            measured.cpu_seconds,
            measured.peak_rss,
            stored=after,
            uploaded=after - before,
        )

    def _restore_step(self, command: list[str], cwd: Path | None = None) -> Step:
        measured = self._measure("restore", command, cwd)
        stored = folder_size(self.repository).apparent
        return Step(
            "restore", measured.seconds, measured.cpu_seconds, measured.peak_rss, stored=stored
        )


class Restic:
    """restic: ``init``, then ``backup`` (three times) and ``restore latest --target``."""

    name = RESTIC

    def missing(self) -> str | None:
        return _missing_program("restic", "restic")

    def version(self) -> str:
        return installed_version(["restic", "version"])

    def commands(self) -> tuple[str, ...]:
        return (
            "restic init",
            "restic backup CORPUS",
            "restic restore latest --target EMPTY",
        )

    @contextmanager
    def session(self, work: Workspace) -> Iterator[Session]:
        repository = work.root / "repo-restic"
        environment = work.environment(self.name)
        environment.update(
            RESTIC_REPOSITORY=str(repository),
            RESTIC_PASSWORD=PASSPHRASE,
            RESTIC_CACHE_DIR=str(work.folder("cache-restic")),
        )
        _untimed(["restic", "init"], environment, "restic init")
        try:
            yield _ResticSession(work, self.name, repository, environment)
        finally:
            shutil.rmtree(repository, ignore_errors=True)


class _ResticSession(_RepositorySession):
    def backup(self, step: str) -> Step:
        return self._backup_step(step, ["restic", "backup", str(self.work.corpus)])

    def restore(self, target: Path) -> Step:
        return self._restore_step(["restic", "restore", "latest", "--target", str(target)])


class Borg:
    """borg: ``init -e repokey``, ``create --compression zstd,3`` (three times), ``extract``."""

    name = BORG

    def missing(self) -> str | None:
        return _missing_program("borg", "borgbackup")

    def version(self) -> str:
        return installed_version(["borg", "--version"])

    def commands(self) -> tuple[str, ...]:
        return (
            "borg init -e repokey",
            f"borg create --compression {BORG_COMPRESSION} ::STEP CORPUS",
            "borg extract ::changed (in EMPTY)",
        )

    @contextmanager
    def session(self, work: Workspace) -> Iterator[Session]:
        repository = work.root / "repo-borg"
        environment = work.environment(self.name)
        environment.update(
            BORG_REPO=str(repository),
            BORG_PASSPHRASE=PASSPHRASE,
            BORG_BASE_DIR=str(work.folder("base-borg")),
            BORG_RELOCATED_REPO_ACCESS_IS_OK="yes",
        )
        _untimed(["borg", "init", "-e", "repokey"], environment, "borg init")
        try:
            yield _BorgSession(work, self.name, repository, environment)
        finally:
            shutil.rmtree(repository, ignore_errors=True)


class _BorgSession(_RepositorySession):
    last_archive = ""

    def backup(self, step: str) -> Step:
        command = ["borg", "create", "--compression", BORG_COMPRESSION]
        self.last_archive = step
        return self._backup_step(step, [*command, f"::{step}", str(self.work.corpus)])

    def restore(self, target: Path) -> Step:
        return self._restore_step(["borg", "extract", f"::{self.last_archive}"], cwd=target)
