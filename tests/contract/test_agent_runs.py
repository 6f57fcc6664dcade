"""The agent's runs over HTTPS: starting (snapshot, NextRunOn, one Running Log per job, also
under concurrent starts), finishing (idempotent, Log Items, mails), who may call, and the
stale-log duty."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    created,
    database,
    event_type_ids,
    finish_run,
    start_run,
    wall,
)
from tests.support.server import Partner, ServerProcess

from cleverfox.server.duties.stale_logs import fail_stale_logs
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.models import Log, Mail

NOTIFY: dict[str, Any] = {
    "SendNotificationTo": "ops@example.com; boss@example.com",
    "SendNotificationBcc": "audit@example.com",
    "SendNotificationOnJobCompleted": True,
    "SendNotificationOnJobFailed": True,
    "SendNotificationOnJobMissed": True,
}


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def due_now(partner: Partner, device: dict[str, Any], **overrides: object) -> dict[str, Any]:
    """A Daily job due five minutes ago, its LateAfter window still open."""
    due = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    return create_job(partner, device["DeviceId"], NextRunOn=wall(due), LateAfter=60, **overrides)


def test_only_the_devices_own_key_may_start_and_finish(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    other = create_device(partner)
    job = due_now(partner, device)
    refused = partner.client.post("/api/agent/logs", json={"JobId": job["JobId"]})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "device_key_required"
    with server.client() as anonymous:
        assert anonymous.post("/api/agent/logs", json={"JobId": job["JobId"]}).status_code == 401
    assert start_run(server, other, job["JobId"]).status_code == 404
    assert start_run(server, device, 10**12).status_code == 404
    log = created(start_run(server, device, job["JobId"]))
    assert finish_run(server, other, log["LogId"], JobStatus="Completed").status_code == 404
    with server.client(device["ApiKey"]) as agent:
        assert agent.get("/api/jobs").status_code == 403  # device keys stay on agent endpoints
        assert agent.put("/api/agent/logs/abc", json={"JobStatus": "Completed"}).status_code == 404
    partner.client.put(f"/api/devices/{device['DeviceId']}", json={"IsInactive": True})
    inactive = finish_run(server, device, log["LogId"], JobStatus="Completed")
    assert inactive.status_code == 403 and inactive.json()["error"]["code"] == "device_inactive"


def test_start_writes_a_running_log_with_its_snapshot(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner, time_zone="Tokyo Standard Time", **NOTIFY)
    due = (utcnow() + timedelta(hours=9) - timedelta(minutes=5)).replace(microsecond=0)
    job = create_job(partner, device["DeviceId"], NextRunOn=wall(due), LateAfter=60)
    response = start_run(server, device, job["JobId"], JobStartedOn="2030-01-01T00:00:00Z")
    assert response.status_code == 201, response.text
    log = response.json()["data"]
    assert response.headers["location"] == f"/api/logs/{log['LogId']}"
    assert log["JobStatus"] == "Running" and log["Trigger"] == "Schedule"
    assert log["JobStartedOn"] == "2030-01-01T09:00:00.000"  # converted to the device's zone
    assert log["TimeZoneId"] == "Tokyo Standard Time" and log["IanaTimeZoneId"] == "Asia/Tokyo"
    assert log["NextRunOn"] == job["NextRunOn"] and log["Name"] == "Nightly"
    assert (log["LateAfter"], log["CloudKeepLast"], log["LocalKeepLast"]) == (60, 7, 3)
    assert log["PlanId"] == 3 and log["Plan"]["PlanId"] == 3
    assert log["SubscriptionId"] == device["SubscriptionId"] and log["Subscription"]["Plan"] is None
    assert log["Company"]["CompanyId"] == partner.company_id and log["Device"]["Company"] is None
    assert log["Job"]["JobId"] == job["JobId"] and log["Job"]["Device"] is None
    assert log["ArchiveFolder"] == f"archive/job-{job['JobId']}"
    assert log["UploadFolder"].endswith(f"/devices/{device['DeviceId']}/jobs/{job['JobId']}")
    assert log["SendNotificationTo"] == NOTIFY["SendNotificationTo"]
    assert log["SendNotificationOnJobMissed"] is True and log["LogItems"] == []
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert parse(after["NextRunOn"]) == due + timedelta(days=1)  # a Schedule run advances it
    assert after["LastJobStatus"] == "Running"
    assert event_type_ids(partner, JobId=job["JobId"]) == [40, 50]


def test_one_running_log_per_job_even_when_starts_race(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job = due_now(partner, device)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: start_run(server, device, job["JobId"]), range(8)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 7, [a.text for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code == 409} == {
        "job_already_running"
    }
    running = partner.client.get(
        "/api/logs", params={"JobId": job["JobId"], "JobStatus": "Running"}
    )
    assert len(running.json()["data"]) == 1
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert parse(after["NextRunOn"]) == parse(job["NextRunOn"]) + timedelta(days=1)  # advanced once


def test_run_now_clears_the_request_and_keeps_next_run_on(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"])
    partner.client.post(f"/api/jobs/{job['JobId']}/run", json={})
    with server.client(device["ApiKey"]) as agent:
        assert agent.post("/api/agent/checkin", json={}).json()["data"]["RunNowJobIds"] == [
            job["JobId"]
        ]
        log = created(
            agent.post("/api/agent/logs", json={"jobid": job["JobId"], "trigger": "runnow"})
        )
        assert log["Trigger"] == "RunNow"
        assert agent.post("/api/agent/checkin", json={}).json()["data"]["RunNowJobIds"] == []
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert after["NextRunOn"] == job["NextRunOn"] and after["NextRunUtc"] == job["NextRunUtc"]


def test_a_one_time_job_past_its_expire_on_runs_only_when_asked(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    due = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    job = due_now(partner, device, Frequency="One Time", ExpireOn=wall(due + timedelta(minutes=1)))
    expired = start_run(server, device, job["JobId"])
    assert expired.status_code == 409 and expired.json()["error"]["code"] == "job_expired"
    assert start_run(server, device, job["JobId"], Trigger="RunNow").status_code == 201


def test_a_one_time_run_leaves_the_job_done(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner)
    job = due_now(partner, device, Frequency="One Time")
    log = created(start_run(server, device, job["JobId"]))
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert after["NextRunOn"] == job["NextRunOn"] and after["NextRunUtc"] is None
    created(finish_run(server, device, log["LogId"], JobStatus="Completed"))
    renamed = partner.client.put(f"/api/jobs/{job['JobId']}", json={"Name": "Once"})
    assert renamed.json()["data"]["NextRunUtc"] is None  # still done: it does not run again


def test_finish_records_items_and_is_idempotent(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner, **NOTIFY)
    job = due_now(partner, device)
    item = create_item(partner, job["JobId"], ExcludeFolders="C:\\Data\\Temp")
    log = created(start_run(server, device, job["JobId"], JobStartedOn="2031-02-03T04:05:06"))
    report = {
        "JobItemId": item["JobItemId"],
        "BackupFolder": "D:\\Backups",
        "BackupFileName": "a.zip",
        "BackupFileSize": "1048576",
        "BackupListName": "a.lst",
        "BackupListSize": 2048,
        "BackupListCount": 12,
        "ServerVersion": None,
    }
    response = finish_run(
        server,
        device,
        log["LogId"],
        JobStatus="completed",
        JobCompletedOn="2031-02-03T04:15:36",
        LogItems=[report],
    )
    assert response.status_code == 200, response.text
    done = response.json()["data"]
    assert done["JobStatus"] == "Completed" and done["DurationSeconds"] == 630
    assert done["JobCompletedOn"] == "2031-02-03T04:15:36.000" and done["UpdatedOn"] is not None
    [logged] = done["LogItems"]
    assert logged["JobItemId"] == item["JobItemId"] and logged["EngineId"] == "FILE"
    assert (logged["Name"], logged["BaseFolder"], logged["ExcludeFolders"]) == (
        "Documents",
        "C:\\Data",
        "C:\\Data\\Temp",
    )
    assert (logged["BackupFileSize"], logged["BackupListCount"], logged["Url"]) == (
        1048576,
        12,
        None,
    )
    again = finish_run(server, device, log["LogId"], JobStatus="Completed")
    assert again.status_code == 200 and again.json()["data"] == done
    other = finish_run(server, device, log["LogId"], JobStatus="Failed")
    assert other.status_code == 409 and other.json()["error"]["code"] == "log_already_finished"
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert after["LastRanOn"] == "2031-02-03T04:05:06.000" and after["LastJobStatus"] == "Completed"
    assert event_type_ids(partner, JobId=job["JobId"]) == [40, 43, 50, 51]
    with database(server) as session:
        [mail] = session.scalars(select(Mail).where(Mail.log_id == log["LogId"])).all()
        assert (mail.kind, mail.partner_id) == ("job_completed", partner.partner_id)
        assert mail.to_addresses == "ops@example.com, boss@example.com"
        assert mail.bcc_addresses == "audit@example.com" and mail.cc_addresses is None
        assert "Nightly" in mail.subject and "completed" in mail.subject
        assert mail.message_id.startswith("<")


def test_a_failed_run_carries_its_messages(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner)
    job = due_now(partner, device)
    log = created(start_run(server, device, job["JobId"], Token="t-1"))
    failed = finish_run(
        server,
        device,
        log["LogId"],
        JobStatus="Failed",
        ErrorMessages="Disk full\r\nRetry failed",
        Token="t-1",
    )
    assert failed.status_code == 200
    assert failed.json()["data"]["ErrorMessages"] == "Disk full\r\nRetry failed"
    assert event_type_ids(partner, JobId=job["JobId"])[-1] == 52
    again = start_run(server, device, job["JobId"], Token="t-1")  # agents' Tokens are ignored
    assert again.status_code == 201
    with database(server) as session:  # notifications are off on this device
        assert session.scalars(select(Mail).where(Mail.log_id == log["LogId"])).all() == []


def test_agents_ignore_tokens_of_any_shape(server: ServerProcess, partner: Partner) -> None:
    """README §3: agent endpoints ignore Tokens — not read, so not refused either."""
    device = create_device(partner)
    job = due_now(partner, device)
    for token in ({"a": 1}, "a\x00b", "t" * 51, 7):
        log = created(start_run(server, device, job["JobId"], Token=token))
        finished = finish_run(server, device, log["LogId"], JobStatus="Completed", Token=token)
        assert finished.status_code == 200, finished.text
        with server.client(device["ApiKey"]) as agent:
            checked_in = agent.post("/api/agent/checkin", json={"Token": token})
        assert checked_in.status_code == 200, checked_in.text


def test_finish_bodies_are_validated(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner)
    job = due_now(partner, device)
    log = created(start_run(server, device, job["JobId"]))
    cases: list[tuple[dict[str, Any], set[tuple[str, str]]]] = [
        ({}, {("JobStatus", "required")}),
        ({"JobStatus": "Running"}, {("JobStatus", "invalid_choice")}),
        ({"JobStatus": "Failed", "LogItems": "none"}, {("LogItems", "invalid_type")}),
        (
            {"JobStatus": "Failed", "LogItems": [{"BackupFileSize": -1}]},
            {("LogItems[0].JobItemId", "required"), ("LogItems[0].BackupFileSize", "out_of_range")},
        ),
        (
            {"JobStatus": "Failed", "JobCompletedOn": "yesterday"},
            {("JobCompletedOn", "invalid_datetime")},
        ),
    ]
    for body, expected in cases:
        response = finish_run(server, device, log["LogId"], **body)
        assert response.status_code == 400, response.text
        assert {(e["attribute"], e["code"]) for e in response.json()["error"]["errors"]} == expected
    assert start_run(server, device, "x").status_code == 400
    still = partner.client.get(f"/api/logs/{log['LogId']}").json()["data"]
    assert still["JobStatus"] == "Running"


def test_a_run_left_running_is_failed_by_the_server(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner, **NOTIFY)
    job = due_now(partner, device)
    log = created(start_run(server, device, job["JobId"]))
    with database(server) as session:
        session.execute(
            update(Log)
            .where(Log.id == log["LogId"])
            .values(started_utc=utcnow() - timedelta(hours=25))
        )
    with database(server) as session:
        assert fail_stale_logs(session, utcnow(), timeout_hours=24) >= 1
    failed = partner.client.get(f"/api/logs/{log['LogId']}").json()["data"]
    assert (
        failed["JobStatus"] == "Failed"
        and failed["ErrorMessages"] == "The agent stopped reporting."
    )
    assert event_type_ids(partner, JobId=job["JobId"])[-1] == 52
    late = finish_run(server, device, log["LogId"], JobStatus="Completed")
    assert late.status_code == 409 and late.json()["error"]["code"] == "log_already_finished"
    with database(server) as session:
        kinds = session.scalars(select(Mail.kind).where(Mail.log_id == log["LogId"])).all()
        assert kinds == ["job_failed"]
