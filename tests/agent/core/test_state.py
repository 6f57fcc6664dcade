"""The agent's SQLite state: runs in progress, pending finishes, last runs and check-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cleverfox.agent.core.state import KEEP_RUNS, AgentState, FinishedRun, PendingFinish

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def finished(log_id: int, minutes: int = 0, status: str = "Completed") -> FinishedRun:
    at = T0 + timedelta(minutes=minutes)
    return FinishedRun(log_id, 7, "Nightly", "Schedule", status, at, at, 10, None)


def test_a_started_run_is_still_recorded_by_a_new_process(tmp_path: Path) -> None:
    AgentState(tmp_path).run_started(5, 7, T0)

    (run,) = AgentState(tmp_path).running()
    assert (run.log_id, run.job_id, run.started_utc, run.finish) == (5, 7, T0, None)


def test_a_finished_run_leaves_running_and_joins_the_last_runs(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    state.run_started(5, 7, T0)
    state.run_finished(finished(5, status="Failed"))

    assert state.running() == []
    assert [(r.log_id, r.status) for r in state.last_runs()] == [(5, "Failed")]


def test_a_pending_finish_is_kept_with_its_run(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    state.run_started(5, 7, T0)
    pending = PendingFinish(
        "Completed", ["a: warning"], [{"JobItemId": 1, "BackupFileSize": 3}], 99
    )
    state.finish_pending(5, pending)

    assert AgentState(tmp_path).running()[0].finish == pending


def test_only_the_newest_runs_are_kept(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    for n in range(KEEP_RUNS + 5):
        state.run_finished(finished(n, minutes=n))

    newest = state.last_runs(limit=1000)
    assert len(newest) == KEEP_RUNS
    assert newest[0].log_id == KEEP_RUNS + 4


def test_the_last_check_in_is_kept_without_credentials(tmp_path: Path) -> None:
    state = AgentState(tmp_path)
    job = {"JobId": 1, "JobItems": [{"JobItemId": 2, "Username": "sa", "Password": "s3cret!"}]}
    state.checked_in(T0, timedelta(seconds=-3), {"DeviceId": 9}, [job])

    last = AgentState(tmp_path).last_check_in()
    assert last is not None
    assert (last.at_utc, last.clock_offset, last.device) == (
        T0,
        timedelta(seconds=-3),
        {"DeviceId": 9},
    )
    assert last.jobs == [{"JobId": 1, "JobItems": [{"JobItemId": 2}]}]
    assert b"s3cret!" not in (tmp_path / "state.sqlite").read_bytes()
    assert AgentState(tmp_path / "new").last_check_in() is None
