"""The agent's own state: SQLite in its data folder (``state.sqlite``).

- ``running``: a run is recorded the moment the server has started its Log and forgotten once
  the finish was accepted, so a run still recorded at start-up is one a crash cut off
  (``recovery``).
- ``runs``: the last runs and how they ended (``status``), the newest 200 kept.
- ``facts``: the last check-in (when, the clock offset, the jobs without their credentials).

Every write is its own transaction (WAL, ``synchronous=FULL``): it survives a crash at any
point. Only the process holding the data folder's lock writes; ``status`` only reads.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cleverfox.agent.core.files import PRIVATE_FILE, private_folder

STATE_NAME = "state.sqlite"
KEEP_RUNS = 200
_SECRET_ITEM_ATTRIBUTES = ("Username", "Password")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS running (
    log_id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    started_utc TEXT NOT NULL,
    finish TEXT
);
CREATE TABLE IF NOT EXISTS runs (
    log_id INTEGER PRIMARY KEY,
    job_id INTEGER NOT NULL,
    job_name TEXT,
    trigger TEXT NOT NULL,
    status TEXT NOT NULL,
    started_utc TEXT NOT NULL,
    finished_utc TEXT NOT NULL,
    bytes_uploaded INTEGER NOT NULL DEFAULT 0,
    first_error TEXT
);
CREATE TABLE IF NOT EXISTS facts (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class PendingFinish:
    """A run's finish as the agent meant to send it (wire values for ``finish_log``)."""

    status: str
    lines: list[str]
    items: list[dict[str, Any]]
    bytes_uploaded: int


@dataclass(frozen=True)
class RunningRun:
    """A run whose Log the server started and whose finish was not yet accepted;
    ``finish`` is the finish that could not be sent, if it got that far."""

    log_id: int
    job_id: int
    started_utc: datetime
    finish: PendingFinish | None = None


@dataclass(frozen=True)
class FinishedRun:
    """A run as ``status`` shows it."""

    log_id: int
    job_id: int
    job_name: str | None
    trigger: str
    status: str
    started_utc: datetime
    finished_utc: datetime
    bytes_uploaded: int
    first_error: str | None


@dataclass(frozen=True)
class LastCheckIn:
    """The last successful check-in: when (our clock, UTC), the server's clock offset, the
    device and its jobs (credentials removed)."""

    at_utc: datetime
    clock_offset: timedelta
    device: dict[str, Any]
    jobs: list[dict[str, Any]]


class AgentState:
    """The state database of one data folder."""

    def __init__(self, data_folder: Path) -> None:
        self.path = private_folder(data_folder) / STATE_NAME
        with self._connect() as db:
            db.executescript(_SCHEMA)
        self.path.chmod(PRIVATE_FILE)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            with db:
                yield db

    # -- runs in progress ----------------------------------------------------------------

    def run_started(self, log_id: int, job_id: int, started_utc: datetime) -> None:
        """Record a run the server has started (before any item is backed up)."""
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO running VALUES (?, ?, ?, NULL)",
                (log_id, job_id, _text(started_utc)),
            )

    def finish_pending(self, log_id: int, finish: PendingFinish) -> None:
        """Keep the finish the server could not be told, to send it at the next start."""
        value = {
            "Status": finish.status,
            "Lines": finish.lines,
            "Items": finish.items,
            "BytesUploaded": finish.bytes_uploaded,
        }
        with self._connect() as db:
            db.execute(
                "UPDATE running SET finish = ? WHERE log_id = ?", (json.dumps(value), log_id)
            )

    def running(self) -> list[RunningRun]:
        """Runs recorded as started and not finished, oldest first."""
        with self._connect() as db:
            query = "SELECT log_id, job_id, started_utc, finish FROM running ORDER BY log_id"
            rows = list(db.execute(query))
        return [RunningRun(r[0], r[1], _moment(r[2]), _pending(r[3])) for r in rows]

    def run_finished(self, run: FinishedRun) -> None:
        """The server accepted the run's finish: forget it as running, remember how it ended."""
        with self._connect() as db:
            db.execute("DELETE FROM running WHERE log_id = ?", (run.log_id,))
            db.execute(
                "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.log_id,
                    run.job_id,
                    run.job_name,
                    run.trigger,
                    run.status,
                    _text(run.started_utc),
                    _text(run.finished_utc),
                    run.bytes_uploaded,
                    run.first_error,
                ),
            )
            db.execute(
                "DELETE FROM runs WHERE log_id NOT IN "
                "(SELECT log_id FROM runs ORDER BY finished_utc DESC LIMIT ?)",
                (KEEP_RUNS,),
            )

    def forget_running(self, log_id: int) -> None:
        """Drop a run from ``running`` without recording an outcome."""
        with self._connect() as db:
            db.execute("DELETE FROM running WHERE log_id = ?", (log_id,))

    def last_runs(self, limit: int = 10) -> list[FinishedRun]:
        """The newest finished runs, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT log_id, job_id, job_name, trigger, status, started_utc, finished_utc, "
                "bytes_uploaded, first_error FROM runs ORDER BY finished_utc DESC LIMIT ?",
                (limit,),
            )
            return [
                FinishedRun(r[0], r[1], r[2], r[3], r[4], _moment(r[5]), _moment(r[6]), r[7], r[8])
                for r in rows
            ]

    # -- the last check-in ---------------------------------------------------------------

    def checked_in(
        self,
        at_utc: datetime,
        offset: timedelta,
        device: Mapping[str, Any],
        jobs: list[dict[str, Any]],
    ) -> None:
        """Remember a check-in; the items' Username and Password are not stored."""
        value = {
            "AtUtc": _text(at_utc),
            "OffsetSeconds": offset.total_seconds(),
            "Device": dict(device),
            "Jobs": [_without_credentials(job) for job in jobs],
        }
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO facts VALUES ('last_checkin', ?)", (json.dumps(value),)
            )

    def last_check_in(self) -> LastCheckIn | None:
        """The last check-in remembered, or None."""
        with self._connect() as db:
            row = db.execute("SELECT value FROM facts WHERE name = 'last_checkin'").fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        return LastCheckIn(
            _moment(value["AtUtc"]),
            timedelta(seconds=value["OffsetSeconds"]),
            value["Device"],
            value["Jobs"],
        )


def _pending(text: str | None) -> PendingFinish | None:
    if text is None:
        return None
    value = json.loads(text)
    return PendingFinish(value["Status"], value["Lines"], value["Items"], value["BytesUploaded"])


def _without_credentials(job: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(job)
    copy["JobItems"] = [
        {k: v for k, v in item.items() if k not in _SECRET_ITEM_ATTRIBUTES}
        for item in job.get("JobItems") or []
    ]
    return copy


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)
