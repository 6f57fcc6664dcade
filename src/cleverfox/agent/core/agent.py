"""The agent: check in, recover cut-off runs, run what is due one job after another, serve.

- :meth:`Agent.recover` (every start): a run still recorded as running was cut off by a
  crash; it is finished as Failed (``interrupted: the agent stopped during this run``), or
  with the finish the agent had meant to send, and forgotten.
- :meth:`Agent.run_due` (``once``, and each pass of ``run``): check in, take what is due
  (``schedule.due_runs``), and before each run check in again, so every run starts with the
  job as the server has it now and only while it is still due.
- :meth:`Agent.run_job` (``backup JOB_ID``): one job now, whatever its schedule.
- :func:`serve` (``run``): passes every ``NextCheckInSeconds`` (±10 % jitter) until the stop
  event; then the current run is cancelled, given ``grace`` seconds to end, and otherwise
  finished as Failed by the service itself.

The caller holds the data folder's lock around all of it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cleverfox.agent.core.errors import ConfigError
from cleverfox.agent.core.runner import FAILED, Clock, CurrentRun, Runner, RunResult, send_finish
from cleverfox.agent.core.schedule import (
    RUN_NOW,
    DueRun,
    clock_offset,
    device_zone,
    due_runs,
    still_due,
)
from cleverfox.agent.core.state import AgentState, PendingFinish
from cleverfox.client import errors
from cleverfox.client.agent import AgentClient, CheckIn

log = logging.getLogger("cleverfox.agent")

INTERRUPTED = "interrupted: the agent stopped during this run"
RECHECK_AFTER_SECONDS = 5.0
RETRY_AFTER_FAILURE_SECONDS = 60.0


@dataclass(frozen=True)
class Checked:
    """A check-in's answer and the server's clock as measured by it."""

    answer: CheckIn
    clock: Clock
    at: datetime


class Agent:
    """One enrolled device's agent."""

    def __init__(
        self,
        client: AgentClient,
        state: AgentState,
        runner: Runner,
        *,
        facts: Mapping[str, str | None] | None = None,
        ours: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.state = state
        self.runner = runner
        self._facts = dict(facts or {})
        self._ours = ours
        self.next_check_in_seconds = RETRY_AFTER_FAILURE_SECONDS

    def check_in(self) -> Checked:
        """Check in; remember the answer (without credentials) and the clock offset."""
        sent = self._ours()
        answer = self.client.checkin(self._facts)
        received = self._ours()
        self.next_check_in_seconds = max(float(answer.next_check_in_seconds), 1.0)
        offset = clock_offset(answer.server_time_utc, sent, received)
        self.state.checked_in(received, offset, answer.device, answer.jobs)
        return Checked(answer, Clock(offset, self._ours), received)

    def recover(self) -> list[int]:
        """Finish the runs a crash cut off (see the module); the ids of those finished. A
        run the server cannot be told about now stays recorded for the next start."""
        done = []
        for run in self.state.running():
            finish = run.finish or PendingFinish(FAILED, [INTERRUPTED], [], 0)
            try:
                send_finish(self.client, run.log_id, finish)
            except errors.NotFound:
                log.warning("run %s is unknown to the server; forgotten", run.log_id)
            except errors.CleverFoxError as exc:
                log.error("run %s: could not report it as interrupted: %s", run.log_id, exc)
                continue
            log.warning(
                "run %s of job %s finished as %s at start-up", run.log_id, run.job_id, finish.status
            )
            self.state.forget_running(run.log_id)
            done.append(run.log_id)
        return done

    def run_due(self, cancel: threading.Event | None = None) -> list[RunResult]:
        """Check in and run what is due (see the module); the results, in order."""
        cancel = cancel or threading.Event()
        checked = self.check_in()
        answer = checked.answer
        zone = device_zone(answer.device)
        results: list[RunResult] = []
        for planned in due_runs(answer.jobs, answer.run_now_job_ids, zone, checked.clock.now()):
            if cancel.is_set():
                break
            if (self._ours() - checked.at).total_seconds() > RECHECK_AFTER_SECONDS:
                checked = self.check_in()
            fresh = checked.answer
            run = still_due(planned, fresh.jobs, fresh.run_now_job_ids, zone, checked.clock.now())
            if run is None:
                log.info("job %s is no longer due", planned.job_id)
                continue
            results.append(self.runner.run(run, fresh, checked.clock, cancel))
        return results

    def run_job(self, job_id: int, cancel: threading.Event | None = None) -> RunResult:
        """Run one job now (trigger RunNow), whatever its schedule."""
        checked = self.check_in()
        for job in checked.answer.jobs:
            if int(job["JobId"]) == job_id:
                due = DueRun(job, RUN_NOW, None)
                return self.runner.run(
                    due, checked.answer, checked.clock, cancel or threading.Event()
                )
        raise ConfigError(f"job {job_id} is not an active job of this device")

    def abandon(self, current: CurrentRun, reason: str) -> None:
        """Finish the run in progress as Failed because the agent is stopping."""
        self.runner.finish(current, FAILED, [reason])


def serve(
    agent: Agent,
    stop: threading.Event,
    *,
    grace: float = 60.0,
    jitter: Callable[[], float] = random.random,
) -> None:
    """The service loop (see the module). Returns once ``stop`` is set and the current run
    has ended or been failed."""
    agent.recover()
    while not stop.is_set():
        cancel = threading.Event()
        outcome: dict[str, float] = {}
        worker = threading.Thread(target=_pass, args=(agent, cancel, outcome), daemon=True)
        worker.start()
        while worker.is_alive() and not stop.is_set():
            worker.join(0.2)
        if worker.is_alive():
            cancel.set()
            worker.join(grace)
            current = agent.runner.current
            if worker.is_alive() and current is not None:
                log.warning(
                    "run %s did not end within %.0fs of the stop; failing it", current.log_id, grace
                )
                agent.abandon(current, f"{INTERRUPTED} (stopped by the service manager)")
            return
        interval = outcome.get("interval", RETRY_AFTER_FAILURE_SECONDS)
        stop.wait(interval * (0.9 + 0.2 * jitter()))


def _pass(agent: Agent, cancel: threading.Event, outcome: dict[str, float]) -> None:
    """One pass of the service; a failure is logged and the loop tries again later."""
    try:
        for result in agent.run_due(cancel):
            log.info("job %s: %s", result.job_id, result.status)
        outcome["interval"] = float(agent.next_check_in_seconds)
    except errors.CleverFoxError as exc:
        log.error("pass failed: %s", exc)
    except Exception:  # a bug in a pass must not end the service; the next pass retries
        log.exception("pass failed")
