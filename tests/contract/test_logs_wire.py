"""A Log's JSON over HTTPS: its embedded Company, Device, Job, Subscription and Plan are those
objects as their own GETs show them, one level down (their own embedded objects null), and
``null`` once deleted; its Log Items are those of ``/api/logitems``; the list, GET one and
the agent's answer write the same Log the same way, down to the order of the attributes."""

from __future__ import annotations

import json
import time
from typing import Any

from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    created,
    finish_run,
    start_run,
)
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.datetimes import utcnow


def get(partner: Partner, path: str, **params: Any) -> Any:
    response = partner.client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def same(one: Any, other: Any) -> bool:
    """Equal as JSON, attribute order included (``==`` on dicts ignores the order)."""
    return json.dumps(one) == json.dumps(other)


def finished_run(
    server: ServerProcess, partner: Partner, device: dict[str, Any], **job: object
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job with a folder and a database item on ``device``, run once: (job, agent's Log)."""
    made = create_job(partner, device["DeviceId"], **job)
    folder = create_item(partner, made["JobId"], ExcludePatterns="~$*")
    base = created(
        partner.client.post(
            "/api/jobitems",
            json={
                "JobId": made["JobId"],
                "Name": "Accounting",
                "BackupTypeId": 3,
                "ServerName": "db01",
                "DatabaseName": "accounting",
                "Username": "backup",
                "Password": "s3cret",
            },
        )
    )
    log = created(start_run(server, device, made["JobId"], Trigger="RunNow"))
    done = created(
        finish_run(
            server,
            device,
            log["LogId"],
            JobStatus="Completed",
            LogItems=[
                {
                    "JobItemId": folder["JobItemId"],
                    "BackupFileName": "docs.zip",
                    "BackupFileSize": 7,
                },
                {"JobItemId": base["JobItemId"], "ServerVersion": "16.4", "BackupFileSize": 9},
            ],
        )
    )
    return made, done


def test_embedded_objects_are_their_own_gets_one_level_down(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(
        partner,
        time_zone="Tokyo Standard Time",
        ExternalId="pc-7",
        SendNotificationCc="cc@example.com",
    )
    with server.client(device["ApiKey"]) as agent:  # LastApiCheckAt, ConnectionStatus
        assert agent.post("/api/agent/checkin", json={"Hostname": "pc-7"}).status_code == 200
    job, done = finished_run(server, partner, device, Frequency="Weekly", OnFriday=True)
    log = get(partner, f"/api/logs/{done['LogId']}")
    company = get(partner, f"/api/companies/{log['CompanyId']}")
    assert same(log["Company"], {**company, "Partner": None, "PlanType": None})
    device = get(partner, f"/api/devices/{device['DeviceId']}")
    assert device["LastApiCheckAt"] is not None and device["ConnectionStatus"] == "Online"
    assert same(log["Device"], {**device, "Company": None, "Subscription": None})
    job = get(partner, f"/api/jobs/{job['JobId']}")
    assert job["LastRanOn"] is not None and job["LastJobStatus"] == "Completed"
    assert same(log["Job"], {**job, "Device": None, "JobItems": None})
    subscription = get(partner, f"/api/subscriptions/{log['SubscriptionId']}")
    assert same(log["Subscription"], {**subscription, "Company": None, "Plan": None})
    plan = get(partner, f"/api/plans/{log['PlanId']}")
    assert same(log["Plan"], {**plan, "PlanType": None})
    items = [get(partner, f"/api/logitems/{item['LogItemId']}") for item in log["LogItems"]]
    assert len(items) == 2 and same(log["LogItems"], items)


def test_the_list_get_one_and_the_agent_write_a_log_alike(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job, done = finished_run(server, partner, device)
    assert same(get(partner, f"/api/logs/{done['LogId']}"), done)
    running = created(start_run(server, device, job["JobId"]))  # the Job embedded changes
    assert same(get(partner, f"/api/logs/{running['LogId']}"), running)
    listed = get(partner, "/api/logs", DeviceId=device["DeviceId"], IncludeRunning="true")
    assert same(listed, [running, get(partner, f"/api/logs/{done['LogId']}")])
    items = get(partner, "/api/logitems", LogId=done["LogId"])
    assert same(items, done["LogItems"][::-1])  # newest first


def test_deleted_objects_are_null_in_the_logs_that_name_them(
    server: ServerProcess, partner: Partner
) -> None:
    company = created(
        partner.client.post(
            "/api/companies",
            json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Short-lived"},
        )
    )
    device = create_device(partner, company_id=company["CompanyId"])
    job, done = finished_run(server, partner, device)
    assert done["Company"]["CompanyId"] == company["CompanyId"]
    for path in (
        f"/api/jobs/{job['JobId']}",
        f"/api/devices/{device['DeviceId']}",
        f"/api/companies/{company['CompanyId']}",
    ):  # its subscriptions go with it
        assert partner.client.delete(path).status_code == 200, path
    kept = get(partner, f"/api/logs/{done['LogId']}")
    assert [kept[name] for name in ("Company", "Device", "Job", "Subscription")] == [None] * 4
    assert kept["Plan"]["PlanId"] == done["PlanId"]
    assert same(
        {**kept, "Company": None},
        {**done, "Company": None, "Device": None, "Job": None, "Subscription": None},
    )
    listed = get(partner, "/api/logs", CompanyId=company["CompanyId"])
    assert same(listed, [kept])


def test_updated_since_counts_a_finish_as_a_change(server: ServerProcess, partner: Partner) -> None:
    device = create_device(partner)
    job, earlier = finished_run(server, partner, device)
    started = created(start_run(server, device, job["JobId"]))
    time.sleep(0.01)
    moment = utcnow().isoformat(timespec="milliseconds")
    time.sleep(0.01)
    finished = created(finish_run(server, device, started["LogId"], JobStatus="Failed"))
    assert finished["AddedOn"] < moment < finished["UpdatedOn"]
    assert [log["LogId"] for log in get(partner, "/api/logs", UpdatedSince=moment)] == [
        started["LogId"]
    ]
    assert [log["LogId"] for log in get(partner, "/api/logs", Since=moment)] == []
    assert {log["LogId"] for log in get(partner, "/api/logs")} == {
        earlier["LogId"],
        started["LogId"],
    }
