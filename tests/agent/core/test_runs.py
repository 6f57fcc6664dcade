"""Runs against the real server: due jobs and run-now, the finish and its ErrorMessages, one
run per job, crash recovery, and the service loop's stop. The item backup is a function the
test passes in (the backup part is another helper's)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cleverfox.agent.core.agent import INTERRUPTED, serve
from cleverfox.agent.core.runner import COMPLETED, FAILED, NO_STORAGE, SKIPPED
from cleverfox.agent.core.state import AgentState, PendingFinish
from cleverfox.agent.model import ItemContext, ItemResult
from cleverfox.client.agent import AgentClient
from tests.agent.core.conftest import MakeAgent, due_job, produced, tokyo_wall
from tests.contract._fixtures_devices import finish_run, start_run
from tests.support.server import Partner, ServerProcess


def server_log(partner: Partner, log_id: int) -> dict[str, Any]:
    response = partner.client.get(f"/api/logs/{log_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def server_log_items(partner: Partner, log_id: int) -> list[dict[str, Any]]:
    response = partner.client.get("/api/logitems", params={"LogId": log_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["data"]
    return items


def test_a_due_job_runs_and_completes_with_its_items(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any], data_folder: Path
) -> None:
    job = due_job(partner, device, items=2)
    due_job(partner, device, NextRunOn=tokyo_wall(timedelta(hours=3)))  # not due
    agent = make_agent(produced)

    (result,) = agent.run_due()

    assert (result.job_id, result.status) == (job["JobId"], COMPLETED)
    log = server_log(partner, result.log_id or 0)
    assert log["JobStatus"] == "Completed" and log["Trigger"] == "Schedule"
    assert log["ErrorMessages"].splitlines() == [
        "Item 0: C:/Data/locked.db: skipped, locked by another process",
        "Item 1: C:/Data/locked.db: skipped, locked by another process",
    ]
    names = sorted(i["BackupFileName"] for i in server_log_items(partner, result.log_id or 0))
    assert names[0].startswith("Item 0 ") and names[1].startswith("Item 1 ")
    state = AgentState(data_folder)
    assert state.running() == []
    assert [(r.log_id, r.status) for r in state.last_runs()] == [(result.log_id, COMPLETED)]
    assert agent.run_due() == []  # NextRunOn moved on: nothing due any more


def test_run_now_runs_whatever_the_schedule(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device, NextRunOn=tokyo_wall(timedelta(days=2)))
    assert partner.client.post(f"/api/jobs/{job['JobId']}/run", json={}).status_code == 202

    (result,) = make_agent(produced).run_due()

    assert result.status == COMPLETED
    assert server_log(partner, result.log_id or 0)["Trigger"] == "RunNow"


def test_jobs_run_one_after_another_in_next_run_on_order(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any]
) -> None:
    later = due_job(partner, device, NextRunOn=tokyo_wall(-timedelta(minutes=2)))
    earlier = due_job(partner, device, NextRunOn=tokyo_wall(-timedelta(minutes=9)))
    order: list[int] = []
    active = threading.Lock()

    def one_at_a_time(ctx: ItemContext) -> ItemResult:
        assert active.acquire(blocking=False), "two runs at once"
        try:
            order.append(int(ctx.job["JobId"]))
            return produced(ctx)
        finally:
            active.release()

    results = make_agent(one_at_a_time).run_due()

    assert order == [earlier["JobId"], later["JobId"]]
    assert [r.status for r in results] == [COMPLETED, COMPLETED]


def test_a_failing_item_fails_the_run_with_its_lines_and_the_log_tail(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any]
) -> None:
    due_job(partner, device, items=2)

    def second_fails(ctx: ItemContext) -> ItemResult:
        if ctx.item["Name"] == "Item 1":
            raise OSError("disk full")
        return produced(ctx)

    (result,) = make_agent(second_fails).run_due()

    assert result.status == FAILED
    lines = server_log(partner, result.log_id or 0)["ErrorMessages"].splitlines()
    assert "Item 1: OSError: disk full" in lines
    assert "-- last lines of the agent's log --" in lines
    tail = lines[lines.index("-- last lines of the agent's log --") + 1 :]
    assert 0 < len(tail) <= 50
    assert any("item" in line and "failed" in line for line in tail)
    items = server_log_items(partner, result.log_id or 0)
    assert [i["BackupFileName"].split(" ")[1] for i in items] == ["0"]  # the item that produced


def test_an_item_that_produced_nothing_fails_the_run(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any]
) -> None:
    due_job(partner, device)

    def nothing(ctx: ItemContext) -> ItemResult:
        return ItemResult(False, {"JobItemId": ctx.item["JobItemId"]}, errors=["no file"])

    (result,) = make_agent(nothing).run_due()

    assert result.status == FAILED
    assert server_log(partner, result.log_id or 0)["ErrorMessages"].startswith("Item 0: no file")


def test_cloud_copies_get_the_servers_storage_or_fail_clearly_without_it(
    make_agent: MakeAgent, client: AgentClient, partner: Partner, device: dict[str, Any]
) -> None:
    due_job(partner, device, CloudKeepLast=3)
    seen: list[ItemContext] = []

    def backup(ctx: ItemContext) -> ItemResult:
        seen.append(ctx)
        return produced(ctx)

    offered = client.checkin().storage
    (result,) = make_agent(backup).run_due()

    if offered is None:  # a server without the storage endpoints (main before storage-upload)
        assert result.status == FAILED and seen == []
        assert result.messages[-1] == f"Item 0: {NO_STORAGE}"
    else:
        assert result.status == COMPLETED
        (ctx,) = seen
        assert ctx.uploader is not None and ctx.storage.id_key == offered.id_key


def test_a_job_already_running_is_skipped(
    make_agent: MakeAgent, server: ServerProcess, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device, NextRunOn=tokyo_wall(timedelta(days=2)))
    started = start_run(server, device, job["JobId"], Trigger="RunNow")
    assert started.status_code == 201

    result = make_agent(produced).run_job(job["JobId"])

    assert result.status == SKIPPED and result.log_id is None
    finish_run(server, device, started.json()["data"]["LogId"], JobStatus="Completed")


def test_a_run_cut_off_by_a_crash_is_failed_as_interrupted_at_the_next_start(
    make_agent: MakeAgent,
    server: ServerProcess,
    partner: Partner,
    device: dict[str, Any],
    data_folder: Path,
) -> None:
    job = due_job(partner, device)

    def crash(ctx: ItemContext) -> ItemResult:
        raise SystemExit("power loss")  # not an Exception: nothing finishes the run

    agent = make_agent(crash)
    with pytest.raises(SystemExit):
        agent.run_due()
    (cut,) = AgentState(data_folder).running()
    assert server_log(partner, cut.log_id)["JobStatus"] == "Running"

    assert make_agent(produced).recover() == [cut.log_id]

    log = server_log(partner, cut.log_id)
    assert (log["JobStatus"], log["ErrorMessages"]) == ("Failed", INTERRUPTED)
    assert AgentState(data_folder).running() == []
    assert make_agent(produced).run_job(job["JobId"]).status == COMPLETED  # the job runs again


def test_a_finish_the_server_could_not_be_told_is_sent_at_the_next_start(
    make_agent: MakeAgent,
    server: ServerProcess,
    partner: Partner,
    device: dict[str, Any],
    data_folder: Path,
) -> None:
    job = due_job(partner, device)
    log_id = start_run(server, device, job["JobId"]).json()["data"]["LogId"]
    state = AgentState(data_folder)
    state.run_started(log_id, job["JobId"], datetime.now(UTC))
    item_id = job["JobItems"][0]["JobItemId"]
    pending = PendingFinish(
        "Completed", ["Item 0: a warning"], [{"JobItemId": item_id, "BackupFileName": "x.zip"}], 5
    )
    state.finish_pending(log_id, pending)

    assert make_agent(produced).recover() == [log_id]

    log = server_log(partner, log_id)
    assert (log["JobStatus"], log["ErrorMessages"]) == ("Completed", "Item 0: a warning")
    assert [i["BackupFileName"] for i in server_log_items(partner, log_id)] == ["x.zip"]


def test_a_run_finished_meanwhile_by_the_server_is_just_forgotten(
    make_agent: MakeAgent,
    server: ServerProcess,
    partner: Partner,
    device: dict[str, Any],
    data_folder: Path,
) -> None:
    job = due_job(partner, device)
    log_id = start_run(server, device, job["JobId"]).json()["data"]["LogId"]
    finish_run(server, device, log_id, JobStatus="Completed")
    AgentState(data_folder).run_started(log_id, job["JobId"], datetime.now(UTC))

    assert make_agent(produced).recover() == [log_id]
    assert server_log(partner, log_id)["JobStatus"] == "Completed"
    assert AgentState(data_folder).running() == []


def test_the_service_stops_and_fails_a_run_that_outlives_the_grace_period(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any], data_folder: Path
) -> None:
    due_job(partner, device)
    entered = threading.Event()

    def stuck(ctx: ItemContext) -> ItemResult:
        entered.set()
        time.sleep(30)  # ignores ctx.cancel
        return produced(ctx)

    agent = make_agent(stuck)
    stop = threading.Event()
    loop = threading.Thread(target=serve, args=(agent, stop), kwargs={"grace": 0.5})
    loop.start()
    assert entered.wait(30)
    stop.set()
    loop.join(10)

    assert not loop.is_alive()
    (last,) = AgentState(data_folder).last_runs()
    log = server_log(partner, last.log_id)
    assert log["JobStatus"] == "Failed" and log["ErrorMessages"].startswith(INTERRUPTED)


def test_the_service_lets_a_cancelled_run_finish_as_failed(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any], data_folder: Path
) -> None:
    due_job(partner, device, items=2)
    entered = threading.Event()

    def cooperative(ctx: ItemContext) -> ItemResult:
        entered.set()
        ctx.cancel.wait(30)
        return ItemResult(False, {"JobItemId": ctx.item["JobItemId"]}, errors=["stopped"])

    agent = make_agent(cooperative)
    stop = threading.Event()
    loop = threading.Thread(target=serve, args=(agent, stop), kwargs={"grace": 20})
    loop.start()
    assert entered.wait(30)
    stop.set()
    loop.join(25)

    assert not loop.is_alive()
    (last,) = AgentState(data_folder).last_runs()
    lines = server_log(partner, last.log_id)["ErrorMessages"].splitlines()
    assert lines[:2] == ["Item 0: stopped", "cancelled: the agent was stopped during this run"]


def test_an_items_password_never_reaches_the_error_messages(
    make_agent: MakeAgent, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device, items=0)
    body = {
        "JobId": job["JobId"],
        "Name": "Sales DB",
        "BackupTypeId": 2,
        "ServerName": "db01",
        "DatabaseName": "sales",
        "AuthenticationMode": "S",
        "Username": "backup",
        "Password": "Tr0ub4dor&3",
    }
    made = partner.client.post("/api/jobitems", json=body)
    assert made.status_code == 201, made.text

    def leaky(ctx: ItemContext) -> ItemResult:
        logging.getLogger("cleverfox.agent.db").info("connecting with %s", ctx.item["Password"])
        raise RuntimeError(f"login failed for password {ctx.item['Password']}")

    (result,) = make_agent(leaky).run_due()

    messages = server_log(partner, result.log_id or 0)["ErrorMessages"]
    assert result.status == FAILED and "Tr0ub4dor&3" not in messages
    assert "connecting with ********" in messages
