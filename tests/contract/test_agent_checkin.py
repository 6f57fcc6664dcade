"""The agent's check-in over HTTPS: who may call, what it answers, what it records — and the
duty that marks devices offline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from tests.contract.test_devices import (
    database,
    device_events,
    event_types,
    new_device,
    set_last_check,
)
from tests.support.server import Partner, ServerProcess

from cleverfox.server.devices.presence import mark_offline_devices
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.models import Device, Job, JobItem
from cleverfox.settings import Settings

FACTS = {"Hostname": "fs01", "OsName": "Windows Server", "OsVersion": "2022", "AgentVersion": "1.0"}


def check_in(
    server: ServerProcess, api_key: str, body: dict[str, object] | None = None
) -> httpx.Response:
    with server.client(api_key) as agent:
        return agent.post("/api/agent/checkin", json={} if body is None else body)


def checked_in(
    server: ServerProcess, api_key: str, body: dict[str, object] | None = None
) -> dict[str, Any]:
    response = check_in(server, api_key, body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.removesuffix("Z"))


def test_only_an_active_devices_key_may_check_in(server: ServerProcess, partner: Partner) -> None:
    refused = partner.client.post("/api/agent/checkin", json={})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "device_key_required"
    with server.client() as anonymous:
        assert anonymous.post("/api/agent/checkin", json={}).status_code == 401
    assert check_in(server, "cfd_not-a-key").status_code == 401
    device = new_device(server, partner, IsInactive=True)
    inactive = check_in(server, device["ApiKey"])
    assert inactive.status_code == 403 and inactive.json()["error"]["code"] == "device_inactive"
    active = new_device(server, partner)
    with server.client(active["ApiKey"]) as agent:
        assert agent.post("/api/agent/checkin", content=b"{}").status_code == 415
        assert agent.get("/api/agent/checkin").status_code == 405


def test_first_check_in_answers_and_records_online_and_the_reported_facts(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner, TimeZoneId="Tokyo Standard Time")
    data = checked_in(server, device["ApiKey"], {"data": FACTS})
    assert set(data) == {
        "Device",
        "Jobs",
        "RunNowJobIds",
        "ServerTimeUtc",
        "NextCheckInSeconds",
        "Storage",
    }
    assert data["Jobs"] == [] and data["RunNowJobIds"] == [] and data["NextCheckInSeconds"] == 60
    assert data["ServerTimeUtc"].endswith("Z")
    reported = data["Device"]
    assert reported["DeviceId"] == device["DeviceId"] and reported["ConnectionStatus"] == "Online"
    assert {k: reported[k] for k in FACTS} == FACTS and reported["UpdatedOn"] is None
    # LastApiCheckAt is Tokyo's wall time (UTC+9, no DST) of the check-in.
    assert parse(reported["LastApiCheckAt"]) == parse(data["ServerTimeUtc"]) + timedelta(hours=9)
    assert partner.client.get(f"/api/devices/{device['DeviceId']}").json()["data"] == reported
    events = device_events(partner, device["DeviceId"])
    assert [e["EventTypeId"] for e in events] == [30, 32, 34]
    assert events[1]["Actor"] == "Agent" and events[2]["Actor"] == "Agent"
    assert events[1]["Changes"] == {k: [None, v] for k, v in FACTS.items()}


def test_a_routine_check_in_records_nothing(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    first = checked_in(server, device["ApiKey"], FACTS)
    again = checked_in(server, device["ApiKey"], {"hostname": "fs01"})
    assert parse(again["ServerTimeUtc"]) >= parse(first["ServerTimeUtc"])
    assert again["Device"]["UpdatedOn"] is None and again["Device"]["OsName"] == "Windows Server"
    assert event_types(partner, device["DeviceId"]) == [30, 32, 34]


def test_changed_facts_record_device_modified(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    checked_in(server, device["ApiKey"], FACTS)
    upgraded = checked_in(server, device["ApiKey"], {"AgentVersion": "1.1", "OsVersion": None})
    assert upgraded["Device"]["AgentVersion"] == "1.1" and upgraded["Device"]["OsVersion"] is None
    modified = device_events(partner, device["DeviceId"])[-1]
    assert modified["EventTypeId"] == 32 and modified["Actor"] == "Agent"
    assert modified["Changes"] == {"OsVersion": ["2022", None], "AgentVersion": ["1.0", "1.1"]}
    assert upgraded["Device"]["UpdatedOn"] is None


def test_reported_facts_are_validated(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    response = check_in(
        server, device["ApiKey"], {"Hostname": "h" * 256, "AgentVersion": 7, "OsName": ["x"]}
    )
    assert response.status_code == 400
    errors = {(e["attribute"], e["code"]) for e in response.json()["error"]["errors"]}
    assert errors == {("Hostname", "too_long"), ("OsName", "invalid_type")}
    assert event_types(partner, device["DeviceId"]) == [30]


def test_offline_duty_and_coming_back_online(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    checked_in(server, device["ApiKey"])
    settings = Settings(data_dir=server.data_dir, database_url=server.database_url)
    with database(server) as session:
        assert mark_offline_devices(session, settings, now=utcnow()) == 0
    set_last_check(server, device["DeviceId"], utcnow() - timedelta(minutes=10))
    assert (
        partner.client.get(f"/api/devices/{device['DeviceId']}").json()["data"]["ConnectionStatus"]
        == "Offline"
    )
    with database(server) as session:
        assert mark_offline_devices(session, settings) >= 1
        stored = session.get(Device, device["DeviceId"])
        assert stored is not None and stored.reported_online is False
    with database(server) as session:
        mark_offline_devices(session, settings)  # nothing new to record
    checked_in(server, device["ApiKey"])
    events = device_events(partner, device["DeviceId"])
    assert [e["EventTypeId"] for e in events] == [30, 34, 35, 34]
    assert events[2]["Actor"] == "Server"


def test_a_check_in_after_silence_the_duty_missed_records_offline_then_online(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner)
    checked_in(server, device["ApiKey"])
    set_last_check(server, device["DeviceId"], utcnow() - timedelta(hours=2))
    checked_in(server, device["ApiKey"])
    assert event_types(partner, device["DeviceId"]) == [30, 34, 35, 34]


def test_jobs_carry_their_items_with_credentials_and_run_now_requests(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner)
    secret = load_or_create_secret(server.data_dir / "secret.key")
    with database(server) as session:
        jobs = [
            Job(
                partner_id=partner.partner_id,
                company_id=partner.company_id,
                device_id=device["DeviceId"],
                name=name,
                frequency="Daily",
                next_run_on=datetime(2030, 1, 1, 2),
                late_after=60,
                every=1,
                cloud_keep_last=7,
                local_keep_last=3,
                is_inactive=inactive,
                run_now_requested=run_now,
            )
            for name, inactive, run_now in (
                ("Files", False, False),
                ("Sql", False, True),
                ("Old", True, True),
            )
        ]
        session.add_all(jobs)
        session.flush()
        session.add(
            JobItem(
                partner_id=partner.partner_id,
                job_id=jobs[1].id,
                name="db",
                backup_type_id=2,
                server_name="sql01",
                database_name="crm",
                authentication_mode="S",
                username_encrypted=secret.encrypt("sa"),
                password_encrypted=secret.encrypt("p@ss"),
            )
        )
        ids = [job.id for job in jobs]
    data = checked_in(server, device["ApiKey"])
    assert [j["JobId"] for j in data["Jobs"]] == ids[:2]
    assert data["RunNowJobIds"] == [ids[1]]
    sql = data["Jobs"][1]
    assert sql["NextRunOn"] == "2030-01-01T02:00:00.000" and sql["Frequency"] == "Daily"
    [item] = sql["JobItems"]
    assert (item["Username"], item["Password"]) == ("sa", "p@ss")
    assert item["BackupType"]["EngineId"] == "MSSQL" and item["ServerName"] == "sql01"
    assert data["Jobs"][0]["JobItems"] == []
