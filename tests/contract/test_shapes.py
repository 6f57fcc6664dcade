"""One object, one shape (issue 9): every answer that carries a resource emits the same object.

Per resource, over HTTPS against the real server: the POST answer is what GET by id then
answers; the PUT answer is what GET by id and the list entry answer after it; and wherever
the resource is embedded in another, it is the same object one level down (README §4: its
own embedded objects ``null``). The documented differences are named where they are
allowed: an agent's Job carries RunNowRequested and its JobItems' credentials (resources.md,
Agent endpoints), and a Running Log's finish fills its outcome.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.contract._fixtures_devices import (
    created,
    file_item_body,
    finish_run,
    job_body,
    start_run,
)
from tests.support.server import Partner, ServerProcess

Obj = dict[str, Any]

# What each resource embeds, by attribute: null when it is itself embedded (README §4).
EMBEDS: dict[str, tuple[str, ...]] = {
    "Partner": ("PlanType",),
    "Company": ("Partner", "PlanType"),
    "CompanyUser": ("Company",),
    "PartnerUser": ("Partner",),
    "Plan": ("PlanType",),
    "Subscription": ("Company", "Plan"),
    "Device": ("Company", "Subscription"),
    "Job": ("Device", "JobItems"),
    "JobItem": ("BackupType",),
}


def flat(kind: str, obj: Obj) -> Obj:
    """``obj`` as embedded one level down: its own embedded objects null."""
    return {**obj, **dict.fromkeys(EMBEDS.get(kind, ()), None)}


def get(partner: Partner, path: str) -> Obj:
    return created(partner.client.get(path))


def listed(partner: Partner, path: str, id_name: str, object_id: int, **filters: Any) -> Obj:
    """The entry of ``object_id`` in the collection ``path`` (a page of 1000)."""
    response = partner.client.get(path, params={"PageSize": 1000, **filters})
    assert response.status_code == 200, response.text
    entries = [e for e in response.json()["data"] if e[id_name] == object_id]
    assert len(entries) == 1, f"{path}: {object_id} listed {len(entries)} times"
    entry: Obj = entries[0]
    return entry


def post_put_get_list(
    partner: Partner, path: str, id_name: str, body: Obj, change: Obj, **filters: Any
) -> Obj:
    """POST, then GET; PUT ``change``, then GET and the list: all the same object.
    Returns the object as it now is."""
    made = created(partner.client.post(path, json=body))
    object_id = made[id_name]
    assert get(partner, f"{path}/{object_id}") == made
    put = created(partner.client.put(f"{path}/{object_id}", json=change))
    assert put["UpdatedOn"] is not None
    assert get(partner, f"{path}/{object_id}") == put
    assert listed(partner, path, id_name, object_id, **filters) == put
    return put


@pytest.fixture
def world(server: ServerProcess, partner: Partner) -> dict[str, Obj]:
    """One of everything, each made and changed through the API, and a finished run."""
    company = post_put_get_list(
        partner,
        "/api/companies",
        "CompanyId",
        {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Contoso", "Country": "NL"},
        {"Phone": "+31 20 555 0100"},
    )
    cid = company["CompanyId"]
    company_user = post_put_get_list(
        partner,
        "/api/companyusers",
        "CompanyUserId",
        {"CompanyId": cid, "FirstName": "Ada", "LastName": "L", "Email": "ada@example.com"},
        {"WorkPhone": "555"},
        CompanyId=cid,
    )
    partner_user = post_put_get_list(
        partner,
        "/api/partnerusers",
        "PartnerUserId",
        {
            "PartnerId": partner.partner_id,
            "FirstName": "Bo",
            "LastName": "M",
            "Email": "bo@example.com",
        },
        {"HomePhone": "556"},
    )
    subscription = post_put_get_list(
        partner,
        "/api/subscriptions",
        "SubscriptionId",
        {"CompanyId": cid, "PlanId": 3, "ExternalId": "sub-1"},
        {"SendNotificationTo": "ops@example.com", "SendNotificationOnStorageLimit": True},
        CompanyId=cid,
    )
    device = post_put_get_list(
        partner,
        "/api/devices",
        "DeviceId",
        {
            "CompanyId": cid,
            "SubscriptionId": subscription["SubscriptionId"],
            "Name": "FileServer",
            "TimeZoneId": "W. Europe Standard Time",
        },
        {"SendNotificationTo": "ops@example.com", "SendNotificationOnJobFailed": True},
        CompanyId=cid,
    )
    job = post_put_get_list(
        partner,
        "/api/jobs",
        "JobId",
        job_body(device["DeviceId"]),
        {"Name": "Nightly files"},
        DeviceId=device["DeviceId"],
    )
    job_item = post_put_get_list(
        partner,
        "/api/jobitems",
        "JobItemId",
        file_item_body(job["JobId"]),
        {"ExcludePatterns": "*.tmp"},
        JobId=job["JobId"],
    )
    with server.client(device["ApiKey"]) as agent:
        check_in = created(agent.post("/api/agent/checkin", json={"Hostname": "fs1"}))
    running = created(start_run(server, device, job["JobId"]))
    assert running["JobStatus"] == "Running"
    assert get(partner, f"/api/logs/{running['LogId']}") == running
    item = {"JobItemId": job_item["JobItemId"], "BackupFileName": "a.zip", "BackupFileSize": 9}
    log = created(
        finish_run(server, device, running["LogId"], JobStatus="Completed", LogItems=[item])
    )
    return {
        "Company": company,
        "CompanyUser": company_user,
        "PartnerUser": partner_user,
        "Subscription": subscription,
        "Device": device,
        "Job": job,
        "JobItem": job_item,
        "CheckIn": check_in,
        "Running": running,
        "Log": log,
    }


def test_post_put_get_and_list_agree_for_every_writable_resource(
    world: dict[str, Obj],
) -> None:
    # post_put_get_list asserted it for each while the world was made; this names the test.
    assert {"Company", "CompanyUser", "PartnerUser", "Subscription", "Device", "Job"} <= set(world)


def test_a_company_is_the_same_wherever_it_is_embedded(
    partner: Partner, world: dict[str, Obj]
) -> None:
    cid = world["Company"]["CompanyId"]
    company = get(partner, f"/api/companies/{cid}")
    assert company["DeviceCount"] == 1
    embedded = flat("Company", company)
    user = world["CompanyUser"]["CompanyUserId"]
    assert get(partner, f"/api/companyusers/{user}")["Company"] == embedded
    sub = world["Subscription"]["SubscriptionId"]
    assert get(partner, f"/api/subscriptions/{sub}")["Company"] == embedded
    device = world["Device"]["DeviceId"]
    assert get(partner, f"/api/devices/{device}")["Company"] == embedded
    assert get(partner, f"/api/logs/{world['Log']['LogId']}")["Company"] == embedded
    assert listed(partner, "/api/companies", "CompanyId", cid) == company


def test_the_partner_and_catalogues_are_the_same_wherever_they_are_embedded(
    partner: Partner, world: dict[str, Obj]
) -> None:
    own = get(partner, f"/api/partners/{partner.partner_id}")
    assert listed(partner, "/api/partners", "PartnerId", partner.partner_id) == own
    assert get(partner, f"/api/companies/{world['Company']['CompanyId']}")["Partner"] == flat(
        "Partner", own
    )
    user = get(partner, f"/api/partnerusers/{world['PartnerUser']['PartnerUserId']}")
    assert user["Partner"] == flat("Partner", own)

    plan_type = get(partner, "/api/plantypes/1")
    assert own["PlanType"] == plan_type
    assert world["Company"]["PlanType"] == plan_type
    plan = get(partner, "/api/plans/3")
    assert plan["PlanType"] == plan_type
    assert listed(partner, "/api/plans", "PlanId", 3) == plan
    sub = get(partner, f"/api/subscriptions/{world['Subscription']['SubscriptionId']}")
    assert sub["Plan"] == flat("Plan", plan)
    assert get(partner, f"/api/logs/{world['Log']['LogId']}")["Plan"] == flat("Plan", plan)

    backup_type = get(partner, "/api/backuptypes/1")
    assert listed(partner, "/api/backuptypes", "BackupTypeId", 1) == backup_type
    assert get(partner, f"/api/jobitems/{world['JobItem']['JobItemId']}")["BackupType"] == (
        backup_type
    )


def test_a_subscription_and_a_device_are_the_same_wherever_they_are_embedded(
    partner: Partner, world: dict[str, Obj]
) -> None:
    sub = get(partner, f"/api/subscriptions/{world['Subscription']['SubscriptionId']}")
    assert sub["DeviceCount"] == 1
    device = get(partner, f"/api/devices/{world['Device']['DeviceId']}")
    assert device["Subscription"] == flat("Subscription", sub)
    log = get(partner, f"/api/logs/{world['Log']['LogId']}")
    assert log["Subscription"] == flat("Subscription", sub)

    assert device["Hostname"] == "fs1" and device["ConnectionStatus"] == "Online"
    assert listed(partner, "/api/devices", "DeviceId", device["DeviceId"]) == device
    assert log["Device"] == flat("Device", device)
    job = get(partner, f"/api/jobs/{world['Job']['JobId']}")
    assert job["Device"] == flat("Device", device)
    # the check-in answered the device as GET answers it after that check-in
    assert world["CheckIn"]["Device"] == device


def test_a_job_and_its_items_are_the_same_wherever_they_are_embedded(
    partner: Partner, world: dict[str, Obj]
) -> None:
    job = get(partner, f"/api/jobs/{world['Job']['JobId']}")
    item = get(partner, f"/api/jobitems/{world['JobItem']['JobItemId']}")
    assert job["JobItems"] == [flat("JobItem", item)]
    assert item["Username"] is None and item["Password"] is None
    log = get(partner, f"/api/logs/{world['Log']['LogId']}")
    assert log["Job"] == flat("Job", job)
    assert listed(partner, "/api/jobs", "JobId", job["JobId"]) == job
    # the agent's Job: the public one with its Device left out (the check-in carries it)
    # and its JobItems with their credentials, plus RunNowRequested (resources.md)
    [agent_job] = world["CheckIn"]["Jobs"]
    assert agent_job.pop("RunNowRequested") is False
    agent_items = agent_job.pop("JobItems")
    # (as it was at the check-in, before the run: world["Job"] is the PUT answer)
    assert {**agent_job, "JobItems": None} == flat("Job", world["Job"])
    assert [{**i, "Username": None, "Password": None} for i in agent_items] == [item]


def test_a_log_and_its_items_are_the_same_in_every_answer(
    partner: Partner, world: dict[str, Obj]
) -> None:
    log = world["Log"]
    assert get(partner, f"/api/logs/{log['LogId']}") == log
    assert listed(partner, "/api/logs", "LogId", log["LogId"]) == log
    [item] = log["LogItems"]
    assert item["BackupFileName"] == "a.zip" and item["Url"] is None
    assert get(partner, f"/api/logitems/{item['LogItemId']}") == item
    assert listed(partner, "/api/logitems", "LogItemId", item["LogItemId"]) == item
    running = world["Running"]
    # the finish fills the outcome; the embedded Job's LastJobStatus and LastRanOn follow it
    finished = ("JobCompletedOn", "JobStatus", "LogItems", "DurationSeconds", "UpdatedOn", "Job")
    assert {k: v for k, v in running.items() if k not in finished} == {
        k: v for k, v in log.items() if k not in finished
    }
    assert (running["Job"].pop("LastJobStatus"), log["Job"].pop("LastJobStatus")) == (
        "Running",
        "Completed",
    )
    assert running["Job"].pop("LastRanOn") is None and log["Job"].pop("LastRanOn") is not None
    assert running["Job"] == log["Job"]


def test_an_event_is_the_same_one_by_one_and_listed(
    partner: Partner, world: dict[str, Obj]
) -> None:
    response = partner.client.get(
        "/api/events", params={"CompanyId": world["Company"]["CompanyId"], "PageSize": 1000}
    )
    events = response.json()["data"]
    assert {e["EventType"] for e in events} >= {"Company Added", "Company Modified"}
    for event in events:
        assert get(partner, f"/api/events/{event['EventId']}") == event
