"""Logs and Log Items over HTTPS: Running ones listed only when asked for, every filter and
keyset paging, Missed Logs, history that outlives what it describes, tenant isolation."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlalchemy import select
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

from cleverfox.server.duties.missed_jobs import record_missed_jobs
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.models import Mail


def due_now(partner: Partner, device: dict[str, Any], **overrides: object) -> dict[str, Any]:
    due = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    return create_job(partner, device["DeviceId"], NextRunOn=wall(due), LateAfter=60, **overrides)


def run(
    server: ServerProcess, device: dict[str, Any], job_id: int, status: str | None
) -> dict[str, Any]:
    """A run of the job (RunNow, so NextRunOn stays due), finished as ``status``."""
    log = created(start_run(server, device, job_id, Trigger="RunNow"))
    if status is None:
        return log
    return created(finish_run(server, device, log["LogId"], JobStatus=status))


def ids(partner: Partner, path: str = "/api/logs", **params: Any) -> list[int]:
    response = partner.client.get(path, params=params)
    assert response.status_code == 200, response.text
    key = "LogId" if path == "/api/logs" else "LogItemId"
    return [row[key] for row in response.json()["data"]]


def test_running_logs_are_listed_only_when_asked_for(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job = due_now(partner, device)
    done = run(server, device, job["JobId"], "Completed")
    running = run(server, device, job["JobId"], None)
    assert ids(partner) == [done["LogId"]]
    assert ids(partner, JobStatus="running") == [running["LogId"]]
    assert ids(partner, IncludeRunning="true") == [running["LogId"], done["LogId"]]
    one = partner.client.get(f"/api/logs/{running['LogId']}")
    assert one.status_code == 200 and one.json()["data"]["JobStatus"] == "Running"


def test_filters_and_keyset_paging(server: ServerProcess, partner: Partner) -> None:
    other_company = created(
        partner.client.post(
            "/api/companies",
            json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Other"},
        )
    )["CompanyId"]
    first, second = create_device(partner), create_device(partner, company_id=other_company)
    job_a, job_b = due_now(partner, first)["JobId"], due_now(partner, second)["JobId"]
    before = utcnow() - timedelta(seconds=1)
    a1 = run(server, first, job_a, "Completed")["LogId"]
    a2 = run(server, first, job_a, "Failed")["LogId"]
    b1 = run(server, second, job_b, "Failed")["LogId"]
    assert ids(partner, DeviceId=first["DeviceId"]) == [a2, a1]
    assert ids(partner, JobId=job_b) == [b1]
    assert ids(partner, CompanyId=partner.company_id, JobStatus="Failed") == [a2]
    assert ids(partner, JobStatus="Failed") == [b1, a2]
    assert ids(partner, Since=wall(before)) == [b1, a2, a1]
    assert ids(partner, Until=wall(before)) == []
    assert ids(partner, BeforeId=b1) == [a2, a1]
    page = partner.client.get("/api/logs", params={"PageSize": 2}).json()
    assert [r["LogId"] for r in page["data"]] == [b1, a2] and page["has_more"] is True
    assert ids(partner, PageSize=2, PageNo=3) == []
    for bad in (
        {"JobStatus": "Lost"},
        {"Since": "soon"},
        {"DeviceId": "x"},
        {"IncludeRunning": "maybe"},
    ):
        response = partner.client.get("/api/logs", params=bad)
        assert (
            response.status_code == 400 and response.json()["error"]["code"] == "invalid_parameter"
        )


def test_a_closed_window_becomes_one_missed_log(server: ServerProcess, partner: Partner) -> None:
    device = create_device(
        partner, SendNotificationTo="ops@example.com", SendNotificationOnJobMissed=True
    )
    due = utcnow().replace(microsecond=0) - timedelta(seconds=58)
    job = create_job(partner, device["DeviceId"], NextRunOn=wall(due), LateAfter=1)
    time.sleep(max(0.0, (due + timedelta(minutes=1) - utcnow()).total_seconds()) + 0.1)
    with database(server) as session:
        record_missed_jobs(session, utcnow())
    with database(server) as session:
        record_missed_jobs(session, utcnow())  # nothing left to miss
    [missed] = partner.client.get("/api/logs", params={"JobId": job["JobId"]}).json()["data"]
    assert missed["JobStatus"] == "Missed" and missed["Trigger"] == "Schedule"
    assert missed["NextRunOn"] == job["NextRunOn"] and missed["JobStartedOn"] is None
    assert missed["SendNotificationOnJobMissed"] is True
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert after["NextRunOn"] == wall(due + timedelta(days=1)) + ".000"
    assert after["LastJobStatus"] == "Missed"
    assert event_type_ids(partner, JobId=job["JobId"]) == [40, 53]
    with database(server) as session:
        kinds = session.scalars(select(Mail.kind).where(Mail.log_id == missed["LogId"])).all()
    assert kinds == ["job_missed"]


def test_history_outlives_what_it_describes(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner)
    job = due_now(partner, device)
    log = run(server, device, job["JobId"], "Completed")
    assert log["Device"]["DeviceId"] == device["DeviceId"] and log["Job"]["JobId"] == job["JobId"]
    assert partner.client.delete(f"/api/jobs/{job['JobId']}").status_code == 200
    assert partner.client.delete(f"/api/devices/{device['DeviceId']}").status_code == 200
    assert (
        partner.client.delete(f"/api/subscriptions/{device['SubscriptionId']}").status_code == 200
    )
    kept = partner.client.get(f"/api/logs/{log['LogId']}").json()["data"]
    assert (kept["Job"], kept["Device"], kept["Subscription"]) == (None, None, None)
    assert kept["Company"]["CompanyId"] == partner.company_id and kept["Plan"]["PlanId"] == 3
    assert (kept["JobId"], kept["DeviceId"]) == (job["JobId"], device["DeviceId"])
    assert ids(partner, DeviceId=device["DeviceId"]) == [log["LogId"]]


def test_local_times_stay_in_the_logs_own_zone(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner, time_zone="Tokyo Standard Time")
    job = create_job(partner, device["DeviceId"])
    log = created(
        start_run(
            server, device, job["JobId"], Trigger="RunNow", JobStartedOn="2030-06-01T12:00:00"
        )
    )
    partner.client.put(f"/api/devices/{device['DeviceId']}", json={"TimeZoneId": "UTC"})
    done = created(
        finish_run(
            server,
            device,
            log["LogId"],
            JobStatus="Completed",
            JobCompletedOn="2030-06-01T03:30:00Z",
        )
    )
    assert (
        done["TimeZoneId"] == "Tokyo Standard Time"
        and done["JobStartedOn"] == "2030-06-01T12:00:00.000"
    )
    assert done["JobCompletedOn"] == "2030-06-01T12:30:00.000" and done["DurationSeconds"] == 1800


def test_another_partners_history_is_invisible(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    device = create_device(partner_second)
    job = due_now(partner_second, device)
    item = create_item(partner_second, job["JobId"])
    log = created(start_run(server, device, job["JobId"]))
    done = created(
        finish_run(
            server,
            device,
            log["LogId"],
            JobStatus="Completed",
            LogItems=[{"JobItemId": item["JobItemId"]}],
        )
    )
    item_id = done["LogItems"][0]["LogItemId"]
    assert partner.client.get(f"/api/logs/{log['LogId']}").status_code == 404
    assert partner.client.get(f"/api/logitems/{item_id}").status_code == 404
    assert ids(partner, DeviceId=device["DeviceId"], IncludeRunning=True) == []
    assert ids(partner, "/api/logitems", LogId=log["LogId"]) == []
    assert ids(partner_second, "/api/logitems", LogId=log["LogId"]) == [item_id]


def test_log_items_read_api(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner)
    job = due_now(partner, device)
    first = create_item(partner, job["JobId"])["JobItemId"]
    second = create_item(partner, job["JobId"], Name="Photos")["JobItemId"]
    log = created(start_run(server, device, job["JobId"]))
    done = created(
        finish_run(
            server,
            device,
            log["LogId"],
            JobStatus="Completed",
            LogItems=[
                {"JobItemId": first, "BackupFileSize": 10},
                {"JobItemId": second, "BackupFileSize": 20},
            ],
        )
    )
    a, b = (row["LogItemId"] for row in done["LogItems"])
    assert ids(partner, "/api/logitems", LogId=log["LogId"]) == [b, a]
    assert ids(partner, "/api/logitems", JobItemId=second) == [b]
    assert ids(partner, "/api/logitems", JobId=job["JobId"], BeforeId=b) == [a]
    assert ids(partner, "/api/logitems", DeviceId=device["DeviceId"]) == [b, a]
    assert ids(partner, "/api/logitems", CompanyId=partner.company_id) == [b, a]
    one = partner.client.get(f"/api/logitems/{a}").json()["data"]
    assert (
        one["LogId"] == log["LogId"] and one["Name"] == "Documents" and one["BackupFileSize"] == 10
    )
    assert one["Expires"] is None and one["AddedOn"] is not None
    assert partner.client.get("/api/logitems/999999999").status_code == 404
