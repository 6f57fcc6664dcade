"""One run of a job: start its Log, back up each item, finish it (agent.md §3).

``POST /api/agent/logs`` starts the run (409 ``job_already_running``: another run of the job
is on, so this one is skipped); the run is recorded in the agent's state at once, so a crash
from here on is finished as Failed ("interrupted") at the next start. Each job item goes to
``back_up_item(ctx)`` (the backup part's, passed in) one after another. The finish is
Completed when every item produced its backup file, otherwise Failed; ErrorMessages has one
line per problem (an item's warnings included) and, for a failed run, at most 50 lines of the
run's log. A finish the server could not be told is kept in the state and re-sent at the
next start.
"""

from __future__ import annotations

import base64
import logging
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cleverfox.agent.core.files import write_private
from cleverfox.agent.core.logfile import Redact, RunTail
from cleverfox.agent.core.progress import Listener, RunProgress, ServerProgress
from cleverfox.agent.core.schedule import DueRun, device_zone, local_now
from cleverfox.agent.core.state import AgentState, FinishedRun, PendingFinish
from cleverfox.agent.core.uploader import ServerUploader
from cleverfox.agent.model import ItemContext, ItemResult, StorageParameters
from cleverfox.client import errors
from cleverfox.client.agent import AgentClient, CheckIn
from cleverfox.storage.chunking import DEFAULT_CHUNKING

log = logging.getLogger("cleverfox.agent")

COMPLETED = "Completed"
FAILED = "Failed"
SKIPPED = "Skipped"
ERROR_MESSAGES_MAX = 65536
LOCAL_KEY_NAME = "local-id.key"
DEFAULT_MAX_PACK_BYTES = 64 * 1024 * 1024
CANCELLED = "cancelled: the agent was stopped during this run"
NO_STORAGE = (
    "the server offers no storage (its check-in has no Storage): cloud copies need a newer server"
)

ItemBackup = Callable[[ItemContext], ItemResult]
"""``cleverfox.agent.backup.back_up_item``'s signature."""


@dataclass(frozen=True)
class Clock:
    """The server's clock as this agent sees it: ours plus the offset measured at check-in."""

    offset: timedelta = timedelta(0)
    ours: Callable[[], datetime] = field(default=lambda: datetime.now(UTC), compare=False)

    def now(self) -> datetime:
        return self.ours() + self.offset


@dataclass(frozen=True)
class RunResult:
    """How a run ended: Completed, Failed or Skipped (not started: another run was on)."""

    job_id: int
    log_id: int | None
    status: str
    messages: list[str]
    bytes_uploaded: int = 0


@dataclass
class CurrentRun:
    """The run in progress (so a stopping service can fail it cleanly)."""

    log_id: int
    job_id: int
    job_name: str | None
    trigger: str
    started_utc: datetime
    cancel: threading.Event


class Runner:
    """Runs jobs for one device on ``client``, recording them in ``state``.

    ``listeners(log_id)`` gives the progress listeners of a run besides the server's (the
    terminal line of ``agent backup``).
    """

    def __init__(
        self,
        client: AgentClient,
        state: AgentState,
        data_folder: Path,
        back_up_item: ItemBackup,
        *,
        redact: Redact,
        listeners: Callable[[int], Sequence[Listener]] = lambda _: (),
        server_progress_interval: float = 2.0,
    ) -> None:
        self._client = client
        self._state = state
        self._data_folder = data_folder
        self._back_up_item = back_up_item
        self._redact = redact
        self._listeners = listeners
        self._progress_interval = server_progress_interval
        self.current: CurrentRun | None = None

    def run(
        self, due: DueRun, check_in: CheckIn, clock: Clock, cancel: threading.Event
    ) -> RunResult:
        """Run ``due`` with the job as ``check_in`` shows it. Raises the SDK's errors when the
        server cannot be reached to start the run; after that the run always gets a finish."""
        job = due.job
        zone = device_zone(check_in.device)
        started_local = local_now(clock.now(), zone)
        try:
            started = self._client.start_log(
                due.job_id, started_on=started_local, trigger=due.trigger
            )
        except (errors.Conflict, errors.NotFound) as refused:  # running, inactive, deleted
            log.info("job %s not started: %s", due.job_id, refused.message)
            return RunResult(due.job_id, None, SKIPPED, [refused.message])
        log_id = int(started["LogId"])
        current = CurrentRun(log_id, due.job_id, job.get("Name"), due.trigger, clock.now(), cancel)
        self._state.run_started(log_id, due.job_id, current.started_utc)
        self.current = current
        try:
            return self._items_and_finish(
                current, job, check_in, started_local, str(zone.key), cancel
            )
        finally:
            self.current = None

    def _items_and_finish(
        self,
        current: CurrentRun,
        job: Mapping[str, Any],
        check_in: CheckIn,
        started_local: datetime,
        zone: str,
        cancel: threading.Event,
    ) -> RunResult:
        log.info("run %s of job %s (%s) started", current.log_id, current.job_id, job.get("Name"))
        listeners: list[Listener] = [
            ServerProgress(self._client, current.log_id, self._progress_interval),
            *self._listeners(current.log_id),
        ]
        progress = RunProgress(listeners)
        results: list[ItemResult] = []
        with RunTail(self._redact) as tail:
            for item in job.get("JobItems") or []:
                if cancel.is_set():
                    break
                # Passwords only: blanking a user name such as "sa" would garble every line.
                self._redact.add(item.get("Password"))
                results.append(
                    self._item(current, job, item, check_in, started_local, zone, progress, cancel)
                )
            progress.finish()
            status, said = outcome(job, results, cancel.is_set())
            messages = [self._redact.text(line) for line in said]
            tail_lines = list(tail.lines) if status == FAILED else []
        for line in messages:
            log.warning("run %s: %s", current.log_id, line)
        log.info("run %s of job %s: %s", current.log_id, current.job_id, status)
        uploaded = sum(r.bytes_uploaded for r in results)
        items = [r.log_item for r in results if set(r.log_item) - {"JobItemId"}]
        self.finish(current, status, error_lines(messages, tail_lines), items, uploaded)
        return RunResult(current.job_id, current.log_id, status, messages, uploaded)

    def _item(
        self,
        current: CurrentRun,
        job: Mapping[str, Any],
        item: Mapping[str, Any],
        check_in: CheckIn,
        started_local: datetime,
        zone: str,
        progress: RunProgress,
        cancel: threading.Event,
    ) -> ItemResult:
        item_id = int(item["JobItemId"])
        cloud = int(job.get("CloudKeepLast") or 0) > 0
        if cloud and check_in.storage is None:
            return ItemResult(False, {"JobItemId": item_id}, errors=[NO_STORAGE])
        context = ItemContext(
            log_id=current.log_id,
            job=job,
            item=with_engine_id(item),
            started_on=started_local,
            time_zone=zone,
            storage=self.storage_parameters(check_in),
            uploader=ServerUploader(self._client) if cloud else None,
            state_dir=self._data_folder,
            progress=progress,
            cancel=cancel,
        )
        try:
            result = self._back_up_item(context)
        except (
            Exception
        ) as exc:  # an item's failure, whatever it is, fails the item, not the run's finish
            log.exception("item %s failed", item_id)
            return ItemResult(
                False, {"JobItemId": item_id}, errors=[f"{type(exc).__name__}: {exc}"]
            )
        result.log_item.setdefault("JobItemId", item_id)
        return result

    def storage_parameters(self, check_in: CheckIn) -> StorageParameters:
        """The company's chunking (the check-in's ``Storage``); without it (a server that
        does not send it, only local copies possible) a key of this device's own."""
        if check_in.storage is not None:
            s = check_in.storage
            return StorageParameters(
                s.id_key, s.chunk_min_bytes, s.chunk_avg_bytes, s.chunk_max_bytes, s.max_pack_bytes
            )
        return StorageParameters(
            self._local_id_key(),
            DEFAULT_CHUNKING.min_bytes,
            DEFAULT_CHUNKING.avg_bytes,
            DEFAULT_CHUNKING.max_bytes,
            DEFAULT_MAX_PACK_BYTES,
        )

    def _local_id_key(self) -> bytes:
        path = self._data_folder / LOCAL_KEY_NAME
        if not path.exists():
            write_private(path, base64.b64encode(secrets.token_bytes(32)) + b"\n")
        return base64.b64decode(path.read_bytes().strip())

    def finish(
        self,
        current: CurrentRun,
        status: str,
        lines: Sequence[str],
        items: Sequence[Mapping[str, object]] = (),
        uploaded: int = 0,
    ) -> None:
        """Send the finish; once the server has it, the run leaves ``running`` for ``runs``.
        If the server cannot be told, the finish is kept with the run (the next start sends
        it)."""
        finish = PendingFinish(status, list(lines), [dict(i) for i in items], uploaded)
        try:
            send_finish(self._client, current.log_id, finish)
        except errors.CleverFoxError as exc:
            log.error("run %s: the server was not told how it ended: %s", current.log_id, exc)
            self._state.finish_pending(current.log_id, finish)
            return
        self._state.run_finished(
            FinishedRun(
                current.log_id,
                current.job_id,
                current.job_name,
                current.trigger,
                status,
                current.started_utc,
                datetime.now(UTC),
                uploaded,
                lines[0] if lines else None,
            )
        )


def send_finish(client: AgentClient, log_id: int, finish: PendingFinish) -> None:
    """``PUT /api/agent/logs/{LogId}``; a 409 (someone finished it first: the stale-log duty,
    or this agent before a crash) counts as done."""
    try:
        client.finish_log(
            log_id,
            status=finish.status,
            error_messages=finish.lines,
            log_items=finish.items,
            bytes_uploaded=finish.bytes_uploaded,
        )
    except errors.Conflict as refused:
        log.info("run %s was already finished: %s", log_id, refused.message)


def outcome(
    job: Mapping[str, Any], results: Sequence[ItemResult], cancelled: bool
) -> tuple[str, list[str]]:
    """Completed when every item produced its file (warnings allowed), else Failed; and one
    line per problem, prefixed with the item's name."""
    names = {
        int(i["JobItemId"]): str(i.get("Name") or i["JobItemId"]) for i in job.get("JobItems") or []
    }
    lines: list[str] = []
    for result in results:
        name = names.get(int(result.log_item.get("JobItemId") or 0), "item")
        lines.extend(f"{name}: {line}" for line in (*result.errors, *result.warnings))
    failed = cancelled or any(not r.ok for r in results) or not results
    if cancelled:
        lines.append(CANCELLED)
    elif not results:
        lines.append("the job has no items")
    return (FAILED if failed else COMPLETED), lines


def error_lines(messages: Sequence[str], tail: Sequence[str]) -> list[str]:
    """ErrorMessages: the problems, then the log's tail, each a single line, within the
    server's 65,536 characters (the problems kept first)."""
    lines = [" ".join(line.split()) for line in messages]
    if tail:
        lines.append("-- last lines of the agent's log --")
        lines.extend(" ".join(line.split()) for line in tail)
    kept: list[str] = []
    size = 0
    for line in lines:
        size += len(line) + 2
        if size > ERROR_MESSAGES_MAX:
            break
        kept.append(line)
    return kept


def with_engine_id(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """The check-in's JobItem with ``EngineId`` at the top, as ``ItemContext.item`` promises:
    the wire carries it inside ``BackupType`` only."""
    if item.get("EngineId"):
        return item
    backup_type = item.get("BackupType")
    engine = backup_type.get("EngineId") if isinstance(backup_type, Mapping) else None
    return {**item, "EngineId": engine} if engine else item
