"""Jobs over HTTPS: attributes and their rules, NextRunOn in the device's zone, settling a
NextRunOn whose window closed, run now, deletion, filters and Events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    event_type_ids,
    events_of,
    finish_run,
    job_body,
    start_run,
    wall,
)
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.datetimes import utcnow


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def errors_of(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 400, response.text
    return {(e["attribute"], e["code"]) for e in response.json()["error"]["errors"]}


def test_create_returns_the_job_with_its_device_and_items(partner: Partner) -> None:
    device = create_device(partner)
    response = partner.client.post("/api/jobs", json=job_body(device["DeviceId"]))
    assert response.status_code == 201, response.text
    job = response.json()["data"]
    assert response.headers["location"] == f"/api/jobs/{job['JobId']}"
    assert job["Device"]["DeviceId"] == device["DeviceId"]
    assert job["Device"]["Company"] is None and job["Device"]["Subscription"] is None
    assert job["JobItems"] == [] and job["LastRanOn"] is None and job["LastJobStatus"] is None
    assert job["Frequency"] == "Daily" and job["Token"] is None and job["UpdatedOn"] is None
    assert job["NextRunUtc"].endswith("Z") and parse(job["NextRunUtc"]) == parse(job["NextRunOn"])
    assert event_type_ids(partner, JobId=job["JobId"]) == [40]
    item = create_item(partner, job["JobId"])
    again = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert [i["JobItemId"] for i in again["JobItems"]] == [item["JobItemId"]]
    assert again["JobItems"][0]["BackupType"] is None  # one level only


def test_every_rule_fails_at_once(partner: Partner) -> None:
    device = create_device(partner)
    body = job_body(
        device["DeviceId"],
        Name="x" * 101,
        LateAfter=1440,
        Every=0,
        CloudKeepLast=1000,
        LocalKeepLast=-1,
        Frequency="Fortnightly",
        DayOfMonth=32,
    )
    assert errors_of(partner.client.post("/api/jobs", json=body)) == {
        ("Name", "too_long"),
        ("LateAfter", "out_of_range"),
        ("Every", "out_of_range"),
        ("CloudKeepLast", "out_of_range"),
        ("LocalKeepLast", "out_of_range"),
        ("Frequency", "invalid_choice"),
        ("DayOfMonth", "out_of_range"),
    }
    missing = partner.client.post("/api/jobs", json={"DeviceId": device["DeviceId"]})
    assert errors_of(missing) == {
        (name, "required")
        for name in (
            "Name",
            "Frequency",
            "NextRunOn",
            "LateAfter",
            "Every",
            "CloudKeepLast",
            "LocalKeepLast",
        )
    }
    assert errors_of(
        partner.client.post(
            "/api/jobs", json=job_body(device["DeviceId"], NextRunOn="next tuesday")
        )
    ) == {("NextRunOn", "invalid_datetime")}


def test_frequency_is_case_insensitive_and_monthly_means_monthy(partner: Partner) -> None:
    device = create_device(partner)
    monthly = create_job(partner, device["DeviceId"], Frequency="monthly", DayOfMonth=31)
    assert monthly["Frequency"] == "Monthy"
    assert create_job(partner, device["DeviceId"], Frequency="ONE TIME")["Frequency"] == "One Time"
    without_day = partner.client.post(
        "/api/jobs", json=job_body(device["DeviceId"], Frequency="Monthy")
    )
    assert errors_of(without_day) == {("DayOfMonth", "required")}
    found = partner.client.get("/api/jobs", params={"frequency": "Monthly"}).json()["data"]
    assert [j["JobId"] for j in found] == [monthly["JobId"]]


def test_weekly_needs_at_least_one_day_also_after_a_put(partner: Partner) -> None:
    device = create_device(partner)
    refused = partner.client.post(
        "/api/jobs", json=job_body(device["DeviceId"], Frequency="Weekly")
    )
    assert errors_of(refused) == {("OnMonday", "weekday_required")}
    job = create_job(partner, device["DeviceId"], Frequency="Weekly", OnFriday="true")
    assert job["OnFriday"] is True and job["OnMonday"] is False
    cleared = partner.client.put(f"/api/jobs/{job['JobId']}", json={"OnFriday": False})
    assert errors_of(cleared) == {("OnMonday", "weekday_required")}
    daily = partner.client.put(
        f"/api/jobs/{job['JobId']}", json={"OnFriday": None, "Frequency": "daily"}
    )
    assert daily.status_code == 200 and daily.json()["data"]["OnFriday"] is False


def test_next_run_on_is_the_devices_wall_time(partner: Partner) -> None:
    tokyo = create_device(partner, time_zone="Tokyo Standard Time")
    unzoned = create_job(partner, tokyo["DeviceId"], NextRunOn="2030-01-15T10:00")
    assert unzoned["NextRunOn"] == "2030-01-15T10:00:00.000"
    assert unzoned["NextRunUtc"] == "2030-01-15T01:00:00.000Z"
    zoned = create_job(partner, tokyo["DeviceId"], NextRunOn="2030-01-15T10:00:00Z")
    assert zoned["NextRunOn"] == "2030-01-15T19:00:00.000"
    offset = create_job(
        partner,
        tokyo["DeviceId"],
        NextRunOn="2030-01-15T10:00:00-05:00",
        Frequency="One Time",
        ExpireOn="2030-01-16T00:00:00+09:00",
    )
    assert offset["NextRunOn"] == "2030-01-16T00:00:00.000"
    assert offset["ExpireOn"] == "2030-01-16T00:00:00.000"


def test_a_time_in_a_dst_gap_runs_at_the_end_of_the_gap(partner: Partner) -> None:
    eastern = create_device(partner, time_zone="America/New_York")
    job = create_job(partner, eastern["DeviceId"], NextRunOn="2030-03-10T02:30:00")
    assert job["NextRunOn"] == "2030-03-10T02:30:00.000"
    assert job["NextRunUtc"] == "2030-03-10T07:00:00.000Z"
    overlap = create_job(partner, eastern["DeviceId"], NextRunOn="2030-11-03T01:30:00")
    assert overlap["NextRunUtc"] == "2030-11-03T05:30:00.000Z"  # the first 01:30 (EDT)


def test_a_closed_window_rolls_forward_and_an_open_one_stays(partner: Partner) -> None:
    device = create_device(partner)
    now = utcnow().replace(second=0, microsecond=0)
    past = now - timedelta(days=3, minutes=30)
    rolled = create_job(partner, device["DeviceId"], NextRunOn=wall(past), LateAfter=0)
    next_run = parse(rolled["NextRunOn"])
    assert next_run.time() == past.time() and now < next_run <= now + timedelta(days=1)
    open_window = now - timedelta(minutes=10)
    kept = create_job(partner, device["DeviceId"], NextRunOn=wall(open_window), LateAfter=60)
    assert parse(kept["NextRunOn"]) == open_window
    one_time = create_job(partner, device["DeviceId"], NextRunOn=wall(past), Frequency="One Time")
    assert parse(one_time["NextRunOn"]) == past and one_time["NextRunUtc"] is None
    logs = partner.client.get("/api/logs", params={"DeviceId": device["DeviceId"]}).json()["data"]
    assert logs == []  # rolling forward records no Missed Log


def test_put_changes_only_what_is_sent_and_settles_again(partner: Partner) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"], NextRunOn="2031-05-01T22:00")
    jid = job["JobId"]
    changed = partner.client.put(
        f"/api/jobs/{jid}", json={"nextrunon": "2031-06-01T23:30", "name": "Late"}
    )
    data = changed.json()["data"]
    assert data["NextRunOn"] == "2031-06-01T23:30:00.000" and data["Name"] == "Late"
    assert data["NextRunUtc"] == "2031-06-01T23:30:00.000Z" and data["LateAfter"] == 60
    assert data["UpdatedOn"] is not None
    modified = [e for e in events_of(partner, JobId=jid) if e["EventTypeId"] == 41]
    assert modified[0]["Changes"] == {
        "NextRunOn": ["2031-05-01T22:00:00.000", "2031-06-01T23:30:00.000"],
        "Name": ["Nightly", "Late"],
    }
    round_trip = partner.client.put(f"/api/jobs/{jid}", json=data)
    assert (
        round_trip.status_code == 200
        and round_trip.json()["data"]["UpdatedOn"] == data["UpdatedOn"]
    )
    assert event_type_ids(partner, JobId=jid) == [40, 41]
    assert errors_of(partner.client.put(f"/api/jobs/{jid}", json={"Every": None})) == {
        ("Every", "required")
    }
    stale = partner.client.put(
        f"/api/jobs/{jid}", json={"NextRunOn": "2001-01-01T23:30", "LateAfter": 0}
    )
    assert parse(stale.json()["data"]["NextRunOn"]) > utcnow()  # rolled forward at once


def test_another_partners_jobs_and_devices_are_invisible(
    partner: Partner, partner_second: Partner
) -> None:
    theirs = create_job(partner_second, create_device(partner_second)["DeviceId"])
    jid = theirs["JobId"]
    assert partner.client.get(f"/api/jobs/{jid}").status_code == 404
    assert partner.client.put(f"/api/jobs/{jid}", json={"Name": "Mine"}).status_code == 404
    assert partner.client.delete(f"/api/jobs/{jid}").status_code == 404
    assert partner.client.post(f"/api/jobs/{jid}/run", json={}).status_code == 404
    borrowed = partner.client.post("/api/jobs", json=job_body(theirs["DeviceId"]))
    assert errors_of(borrowed) == {("DeviceId", "invalid_reference")}
    assert (
        partner.client.get("/api/jobs", params={"DeviceId": theirs["DeviceId"]}).json()["data"]
        == []
    )
    assert partner.client.get("/api/jobs/0").status_code == 404


def test_filters(partner: Partner) -> None:
    other_company = partner.client.post(
        "/api/companies", json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Other"}
    ).json()["data"]
    first = create_device(partner)
    second = create_device(partner, company_id=other_company["CompanyId"])
    a = create_job(partner, first["DeviceId"])
    b = create_job(partner, second["DeviceId"], IsInactive=True, Frequency="Hourly")

    def ids(**params: Any) -> list[int]:
        return [j["JobId"] for j in partner.client.get("/api/jobs", params=params).json()["data"]]

    assert ids(DeviceId=first["DeviceId"]) == [a["JobId"]]
    assert ids(CompanyId=other_company["CompanyId"]) == [b["JobId"]]
    assert ids(IsInactive="true") == [b["JobId"]]
    assert ids(Frequency="hourly") == [b["JobId"]]
    assert ids() == [b["JobId"], a["JobId"]]
    assert partner.client.get("/api/jobs", params={"Frequency": "Sometimes"}).status_code == 400


def test_run_now_is_accepted_once_and_refused_while_running(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"])
    jid = job["JobId"]
    assert partner.client.post(f"/api/jobs/{jid}/run", content=b"").status_code == 415
    accepted = partner.client.post(f"/api/jobs/{jid}/run", json={})
    assert accepted.status_code == 202 and accepted.json()["data"]["JobId"] == jid
    assert partner.client.post(f"/api/jobs/{jid}/run", json={}).status_code == 202
    assert event_type_ids(partner, JobId=jid) == [40, 54]
    log = start_run(server, device, jid, Trigger="RunNow").json()["data"]
    running = partner.client.post(f"/api/jobs/{jid}/run", json={})
    assert running.status_code == 409 and running.json()["error"]["code"] == "job_running"
    finish_run(server, device, log["LogId"], JobStatus="Completed")
    inactive = create_job(partner, device["DeviceId"], IsInactive=True)
    refused = partner.client.post(f"/api/jobs/{inactive['JobId']}/run", json={})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "job_inactive"


def test_delete_takes_items_keeps_logs_and_waits_for_a_run(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"])
    jid = job["JobId"]
    items = [create_item(partner, jid)["JobItemId"] for _ in range(2)]
    log = start_run(server, device, jid).json()["data"]
    busy = partner.client.delete(f"/api/jobs/{jid}")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "job_running"
    finish_run(server, device, log["LogId"], JobStatus="Failed", ErrorMessages="disk full")
    deleted = partner.client.delete(f"/api/jobs/{jid}")
    assert deleted.status_code == 200 and deleted.json()["data"]["JobId"] == jid
    assert partner.client.get(f"/api/jobs/{jid}").status_code == 404
    for item_id in items:
        assert partner.client.get(f"/api/jobitems/{item_id}").status_code == 404
    kept = partner.client.get(f"/api/logs/{log['LogId']}").json()["data"]
    assert kept["JobId"] == jid and kept["Job"] is None and kept["JobStatus"] == "Failed"
    assert event_type_ids(partner, JobId=jid)[-3:] == [45, 45, 42]


def test_changing_the_device_zone_keeps_wall_times(partner: Partner) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"], NextRunOn="2030-01-15T10:00")
    moved = partner.client.put(
        f"/api/devices/{device['DeviceId']}", json={"TimeZoneId": "Tokyo Standard Time"}
    )
    assert moved.status_code == 200, moved.text
    after = partner.client.get(f"/api/jobs/{job['JobId']}").json()["data"]
    assert after["NextRunOn"] == "2030-01-15T10:00:00.000"
    assert after["NextRunUtc"] == "2030-01-15T01:00:00.000Z"
