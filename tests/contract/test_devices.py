"""Devices over HTTPS: attributes, references, time zones, notification rules, the device
limit (also under concurrent requests), keys, deletion, filters and the agent download."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.models import Device, Job, Subscription

SMALL_PLAN, MEDIUM_PLAN = 1, 2


@contextmanager
def database(server: ServerProcess) -> Iterator[Session]:
    """A write transaction on the server's own database (for what no API sets)."""
    db = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with db.writing() as session:
            yield session
    finally:
        db.dispose()


def add_subscription(
    server: ServerProcess,
    partner: Partner,
    plan_id: int = MEDIUM_PLAN,
    *,
    company_id: int | None = None,
    inactive: bool = False,
    additional_device: int = 0,
) -> int:
    """A subscription as the operator would leave it (IsInactive, AdditionalDevice)."""
    with database(server) as session:
        subscription = Subscription(
            partner_id=partner.partner_id,
            company_id=company_id or partner.company_id,
            plan_id=plan_id,
            is_inactive=inactive,
            additional_device=additional_device,
        )
        session.add(subscription)
        session.flush()
        return subscription.id


def device_body(partner: Partner, subscription_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "CompanyId": partner.company_id,
        "SubscriptionId": subscription_id,
        "Name": "FileServer",
        "TimeZoneId": "Eastern Standard Time",
    }
    body.update(overrides)
    return body


def create_device(partner: Partner, subscription_id: int, **overrides: object) -> dict[str, Any]:
    response = partner.client.post(
        "/api/devices", json=device_body(partner, subscription_id, **overrides)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def new_device(server: ServerProcess, partner: Partner, **overrides: object) -> dict[str, Any]:
    """A device on a fresh Medium Plan subscription of the partner's own company."""
    return create_device(partner, add_subscription(server, partner), **overrides)


def device_events(partner: Partner, device_id: int) -> list[dict[str, Any]]:
    """The device's Events, oldest first, as the partner reads them."""
    response = partner.client.get("/api/events", params={"DeviceId": device_id, "PageSize": 1000})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))


def event_types(partner: Partner, device_id: int) -> list[int]:
    return [e["EventTypeId"] for e in device_events(partner, device_id)]


def set_last_check(
    server: ServerProcess, device_id: int, when: datetime | None, **values: object
) -> None:
    with database(server) as session:
        session.execute(
            update(Device).where(Device.id == device_id).values(last_api_check_at=when, **values)
        )


def errors_of(response: httpx.Response) -> set[tuple[str, str]]:
    assert response.status_code == 400, response.text
    return {(e["attribute"], e["code"]) for e in response.json()["error"]["errors"]}


def test_create_returns_201_with_key_location_and_embedded_objects(
    server: ServerProcess, partner: Partner
) -> None:
    subscription_id = add_subscription(server, partner)
    response = partner.client.post("/api/devices", json=device_body(partner, subscription_id))
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert response.headers["location"] == f"/api/devices/{data['DeviceId']}"
    assert data["ApiKey"].startswith("cfd_") and len(data["ApiKey"]) > 40
    assert data["ConnectionStatus"] == "Never Connected" and data["LastApiCheckAt"] is None
    assert data["TimeZoneId"] == "Eastern Standard Time"
    assert data["IanaTimeZoneId"] == "America/New_York"
    assert (
        data["Company"]["CompanyId"] == partner.company_id and data["Company"]["DeviceCount"] == 1
    )
    assert data["Company"]["Partner"] is None and data["Company"]["PlanType"] is None
    assert data["Subscription"]["SubscriptionId"] == subscription_id
    assert data["Subscription"]["DeviceCount"] == 1 and data["Subscription"]["Status"] == "Active"
    assert data["Subscription"]["Company"] is None and data["Subscription"]["Plan"] is None
    assert data["AgentDownloadUrl"].startswith(server.url + "/agent/config/")
    assert data["Token"] is None and data["UpdatedOn"] is None
    assert all(
        data[f"SendNotificationOnJob{k}"] is False for k in ("Completed", "Failed", "Missed")
    )
    assert partner.client.get(f"/api/devices/{data['DeviceId']}").json()["data"] == data
    [added] = device_events(partner, data["DeviceId"])
    assert added["EventTypeId"] == 30 and added["Changes"] is None and added["Actor"] == "Api"
    assert added["SubscriptionId"] == subscription_id and added["CompanyId"] == partner.company_id


def test_the_key_is_stored_encrypted_and_by_digest(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    secret = load_or_create_secret(server.data_dir / "secret.key")
    with database(server) as session:
        stored = session.get(Device, device["DeviceId"])
        assert stored is not None
        assert device["ApiKey"] not in (stored.api_key_encrypted, stored.api_key_digest)
        assert secret.decrypt(stored.api_key_encrypted) == device["ApiKey"]
        assert stored.api_key_digest == secret.digest(device["ApiKey"])


def test_required_attributes_and_lengths(server: ServerProcess, partner: Partner) -> None:
    assert errors_of(partner.client.post("/api/devices", json={})) == {
        ("CompanyId", "required"),
        ("SubscriptionId", "required"),
        ("Name", "required"),
        ("TimeZoneId", "required"),
    }
    subscription_id = add_subscription(server, partner)
    too_long = device_body(
        partner,
        subscription_id,
        Name="n" * 101,
        ApplicationId="a" * 26,
        ExternalId="e" * 101,
        TimeZoneId="t" * 51,
    )
    assert errors_of(partner.client.post("/api/devices", json=too_long)) == {
        ("Name", "too_long"),
        ("ApplicationId", "too_long"),
        ("ExternalId", "too_long"),
        ("TimeZoneId", "too_long"),
    }


def test_time_zone_is_a_windows_id_or_an_iana_name(server: ServerProcess, partner: Partner) -> None:
    subscription_id = add_subscription(server, partner)
    folded = create_device(partner, subscription_id, TimeZoneId="eastern standard time")
    assert (folded["TimeZoneId"], folded["IanaTimeZoneId"]) == (
        "Eastern Standard Time",
        "America/New_York",
    )
    india = create_device(partner, subscription_id, TimeZoneId="Asia/Kolkata")
    assert (india["TimeZoneId"], india["IanaTimeZoneId"]) == ("India Standard Time", "Asia/Kolkata")
    unknown = partner.client.post(
        "/api/devices", json=device_body(partner, subscription_id, TimeZoneId="Mars/Olympus_Mons")
    )
    assert errors_of(unknown) == {("TimeZoneId", "invalid_time_zone")}


def test_a_round_trip_keeps_an_iana_zone_given_before(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner, TimeZoneId="America/Detroit")
    assert (device["TimeZoneId"], device["IanaTimeZoneId"]) == (
        "Eastern Standard Time",
        "America/Detroit",
    )
    again = partner.client.put(f"/api/devices/{device['DeviceId']}", json=device)
    assert again.status_code == 200 and again.json()["data"]["IanaTimeZoneId"] == "America/Detroit"
    assert again.json()["data"]["UpdatedOn"] is None and event_types(
        partner, device["DeviceId"]
    ) == [30]
    moved = partner.client.put(
        f"/api/devices/{device['DeviceId']}", json={"TimeZoneId": "Europe/Berlin"}
    )
    assert moved.json()["data"]["TimeZoneId"] == "W. Europe Standard Time"
    changes = device_events(partner, device["DeviceId"])[-1]["Changes"]
    assert changes == {
        "TimeZoneId": ["Eastern Standard Time", "W. Europe Standard Time"],
        "IanaTimeZoneId": ["America/Detroit", "Europe/Berlin"],
    }


def test_references_must_be_the_callers(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    own = add_subscription(server, partner)
    others = add_subscription(server, partner_second)
    other_company = partner.client.post(
        "/api/companies", json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Other"}
    ).json()["data"]["CompanyId"]
    of_other_company = add_subscription(server, partner, company_id=other_company)
    foreign_company = device_body(partner, own, CompanyId=partner_second.company_id)
    assert errors_of(partner.client.post("/api/devices", json=foreign_company)) == {
        ("CompanyId", "invalid_reference")
    }
    for subscription_id in (others, of_other_company, 999_999_999):
        response = partner.client.post("/api/devices", json=device_body(partner, subscription_id))
        assert errors_of(response) == {("SubscriptionId", "invalid_reference")}


def test_an_inactive_subscription_takes_no_new_devices(
    server: ServerProcess, partner: Partner
) -> None:
    inactive = add_subscription(server, partner, inactive=True)
    response = partner.client.post("/api/devices", json=device_body(partner, inactive))
    assert errors_of(response) == {("SubscriptionId", "inactive_subscription")}


def test_notification_settings(server: ServerProcess, partner: Partner) -> None:
    subscription_id = add_subscription(server, partner)
    needs_to = device_body(partner, subscription_id, SendNotificationOnJobFailed="true")
    assert errors_of(partner.client.post("/api/devices", json=needs_to)) == {
        ("SendNotificationTo", "required")
    }
    bad = device_body(
        partner,
        subscription_id,
        SendNotificationCc="ok@example.com; not-an-address",
        SendNotificationBcc="x@y",
    )
    assert errors_of(partner.client.post("/api/devices", json=bad)) == {
        ("SendNotificationCc", "invalid_email"),
        ("SendNotificationBcc", "invalid_email"),
    }
    device = create_device(
        partner,
        subscription_id,
        SendNotificationOnJobMissed=True,
        SendNotificationTo="a@example.com,b@example.org\r\nc@example.net",
    )
    url = f"/api/devices/{device['DeviceId']}"
    assert errors_of(partner.client.put(url, json={"SendNotificationTo": None})) == {
        ("SendNotificationTo", "required")
    }
    both = partner.client.put(
        url, json={"SendNotificationTo": "", "SendNotificationOnJobMissed": None}
    )
    assert both.status_code == 200
    assert both.json()["data"]["SendNotificationTo"] is None
    assert both.json()["data"]["SendNotificationOnJobMissed"] is False


def test_external_id_is_unique_per_partner(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    subscription_id = add_subscription(server, partner)
    create_device(partner, subscription_id, ExternalId="rmm-1")
    again = partner.client.post(
        "/api/devices", json=device_body(partner, subscription_id, ExternalId="rmm-1")
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "external_id_taken"
    other = create_device(partner, subscription_id, ExternalId="rmm-2")
    taken = partner.client.put(f"/api/devices/{other['DeviceId']}", json={"ExternalId": "rmm-1"})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "external_id_taken"
    new_device(server, partner_second, ExternalId="rmm-1")


def test_device_limit_of_the_plan_plus_additional_devices(
    server: ServerProcess, partner: Partner
) -> None:
    small = add_subscription(server, partner, SMALL_PLAN)
    create_device(partner, small)
    full = partner.client.post("/api/devices", json=device_body(partner, small))
    assert full.status_code == 409 and full.json()["error"]["code"] == "device_limit_reached"
    extended = add_subscription(server, partner, SMALL_PLAN, additional_device=1)
    create_device(partner, extended)
    create_device(partner, extended)
    assert (
        partner.client.post("/api/devices", json=device_body(partner, extended)).status_code == 409
    )


def test_device_limit_holds_under_concurrent_creation(
    server: ServerProcess, partner: Partner
) -> None:
    small = add_subscription(server, partner, SMALL_PLAN)

    def post(index: int) -> httpx.Response:
        with server.client(partner.api_key) as client:
            return client.post(
                "/api/devices", json=device_body(partner, small, Name=f"Racer {index}")
            )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(post, range(10)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 9, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "device_limit_reached"
    }
    listed = partner.client.get("/api/devices", params={"SubscriptionId": small}).json()["data"]
    assert len(listed) == 1


def test_put_changes_only_what_is_sent_and_records_the_changes(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner, ApplicationId="app")
    url = f"/api/devices/{device['DeviceId']}"
    changed = partner.client.put(
        url,
        json={
            "name": "Renamed",
            "IsInactive": "true",
            "ApiKey": "ignored",
            "Hostname": "ignored",
            "Colour": "x",
        },
    )
    assert changed.status_code == 200
    assert changed.headers["x-cleverfox-ignored-attributes"] == "Colour"
    data = changed.json()["data"]
    assert (
        data["Name"] == "Renamed" and data["IsInactive"] is True and data["ApplicationId"] == "app"
    )
    assert data["ApiKey"] == device["ApiKey"] and data["Hostname"] is None and data["UpdatedOn"]
    modified = device_events(partner, device["DeviceId"])[-1]
    assert modified["EventTypeId"] == 32 and modified["Actor"] == "Api"
    assert modified["Changes"] == {"Name": ["FileServer", "Renamed"], "IsInactive": [False, True]}
    unchanged = partner.client.put(url, json={"Name": "Renamed"})
    assert (
        unchanged.status_code == 200 and unchanged.json()["data"]["UpdatedOn"] == data["UpdatedOn"]
    )
    assert event_types(partner, device["DeviceId"]) == [30, 32]


def test_rotating_the_key(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    url = f"/api/devices/{device['DeviceId']}/apikey"
    assert partner.client.post(url, content=b"{}").status_code == 415
    rotated = partner.client.post(url, json={"Token": "rotate-1"})
    assert rotated.status_code == 200, rotated.text
    data = rotated.json()["data"]
    assert data["ApiKey"] != device["ApiKey"] and data["ApiKey"].startswith("cfd_")
    assert data["AgentDownloadUrl"] != device["AgentDownloadUrl"] and data["UpdatedOn"]
    with server.client(device["ApiKey"]) as old, server.client(data["ApiKey"]) as new:
        assert old.post("/api/agent/checkin", json={}).status_code == 401
        assert new.post("/api/agent/checkin", json={}).status_code == 200
    changed = device_events(partner, device["DeviceId"])
    assert changed[1]["EventTypeId"] == 33 and changed[1]["Changes"] == {"ApiKey": ["***", "***"]}
    duplicate = partner.client.post(url, json={"Token": "rotate-1"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["id"] == device["DeviceId"]
    for event in changed:
        assert device["ApiKey"] not in str(event) and data["ApiKey"] not in str(event)


def test_delete_refuses_a_device_with_jobs(server: ServerProcess, partner: Partner) -> None:
    device = new_device(server, partner)
    with database(server) as session:
        job = Job(
            partner_id=partner.partner_id,
            company_id=partner.company_id,
            device_id=device["DeviceId"],
            name="Nightly",
            frequency="Daily",
            next_run_on=datetime(2030, 1, 1, 2),
            late_after=60,
            every=1,
            cloud_keep_last=7,
            local_keep_last=7,
        )
        session.add(job)
    url = f"/api/devices/{device['DeviceId']}"
    refused = partner.client.delete(url)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "device_not_empty"
    with database(server) as session:
        session.query(Job).filter(Job.device_id == device["DeviceId"]).delete()
    deleted = partner.client.delete(url)
    assert deleted.status_code == 200 and deleted.json()["data"]["DeviceId"] == device["DeviceId"]
    assert partner.client.get(url).status_code == 404
    assert event_types(partner, device["DeviceId"]) == [30, 31]
    company = partner.client.get(f"/api/companies/{partner.company_id}").json()["data"]
    assert company["DeviceCount"] == 0


def test_another_partners_device_is_404_on_every_verb(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    device = new_device(server, partner)
    url = f"/api/devices/{device['DeviceId']}"
    assert partner_second.client.get(url).status_code == 404
    assert partner_second.client.put(url, json={"Name": "x"}).status_code == 404
    assert partner_second.client.delete(url).status_code == 404
    assert partner_second.client.post(url + "/apikey", json={}).status_code == 404
    assert partner_second.client.get("/api/devices").json()["data"] == []
    assert partner.client.get("/api/devices/0").status_code == 404
    assert partner.client.get("/api/devices/abc").status_code == 404


def test_device_keys_are_refused_on_partner_endpoints(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner)
    with server.client(device["ApiKey"]) as agent:
        for path in ("/api/devices", "/api/companies", "/api/timezones"):
            refused = agent.get(path)
            assert (
                refused.status_code == 403
                and refused.json()["error"]["code"] == "partner_plan_required"
            )


def test_filters(server: ServerProcess, partner: Partner) -> None:
    first, second = add_subscription(server, partner), add_subscription(server, partner)
    never = create_device(partner, first, Name="Alpha 100%", ExternalId="x-1")
    online = create_device(partner, first, Name="Beta_Box", IsInactive=True)
    offline = create_device(partner, second, Name="Gamma")
    set_last_check(server, online["DeviceId"], utcnow())
    set_last_check(server, offline["DeviceId"], utcnow() - timedelta(hours=1))

    def ids(**params: object) -> list[int]:
        response = partner.client.get("/api/devices", params=params)
        assert response.status_code == 200, response.text
        return [d["DeviceId"] for d in response.json()["data"]]

    assert ids() == [offline["DeviceId"], online["DeviceId"], never["DeviceId"]]
    assert ids(SubscriptionId=first) == [online["DeviceId"], never["DeviceId"]]
    assert ids(CompanyId=partner.company_id, ExternalId="x-1") == [never["DeviceId"]]
    assert ids(isinactive="true") == [online["DeviceId"]]
    assert ids(NameContains="A 10") == [never["DeviceId"]]
    assert ids(NameContains="0%") == [never["DeviceId"]]
    assert ids(NameContains="a_b") == [online["DeviceId"]]
    assert ids(ConnectionStatus="online") == [online["DeviceId"]]
    assert ids(ConnectionStatus="Offline") == [offline["DeviceId"]]
    assert ids(ConnectionStatus="Never Connected") == [never["DeviceId"]]
    statuses = {
        d["DeviceId"]: d["ConnectionStatus"]
        for d in partner.client.get("/api/devices").json()["data"]
    }
    assert statuses == {
        never["DeviceId"]: "Never Connected",
        online["DeviceId"]: "Online",
        offline["DeviceId"]: "Offline",
    }
    bad = partner.client.get("/api/devices", params={"ConnectionStatus": "Sleeping"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"
    assert ids(PageSize=1, BeforeId=offline["DeviceId"]) == [online["DeviceId"]]


def test_company_and_subscription_count_their_devices(
    server: ServerProcess, partner: Partner
) -> None:
    subscription_id = add_subscription(server, partner)
    for _ in range(3):
        create_device(partner, subscription_id)
    company = partner.client.get(f"/api/companies/{partner.company_id}").json()["data"]
    assert company["DeviceCount"] == 3
    listed = partner.client.get("/api/companies").json()["data"]
    assert {c["CompanyId"]: c["DeviceCount"] for c in listed}[partner.company_id] == 3
    refused = partner.client.delete(f"/api/companies/{partner.company_id}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "company_not_empty"


def test_agent_download_needs_no_key_and_carries_the_configuration(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner)
    with httpx.Client(verify=False, timeout=30) as anonymous:
        response = anonymous.get(device["AgentDownloadUrl"])
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == 'attachment; filename="cleverfox-agent.json"'
    assert response.headers["content-type"].startswith("application/json")
    config = response.json()
    assert config["ServerUrl"] == server.url and config["DeviceId"] == device["DeviceId"]
    assert config["ApiKey"] == device["ApiKey"]
    assert config["CertificateFingerprintSha256"] == server.fingerprint != ""
    after = partner.client.get(f"/api/devices/{device['DeviceId']}").json()["data"]
    assert after["LastAgentDownloadCreated"] is not None and after["UpdatedOn"] is None
    downloaded = device_events(partner, device["DeviceId"])[-1]
    assert downloaded["EventTypeId"] == 36 and downloaded["Actor"] == "Server"
    with server.client(config["ApiKey"]) as agent:
        assert agent.post("/api/agent/checkin", json={}).status_code == 200


def test_agent_download_refuses_bad_and_retired_tokens(
    server: ServerProcess, partner: Partner
) -> None:
    device = new_device(server, partner)
    url: str = device["AgentDownloadUrl"]
    token = url.rsplit("/", 1)[1]
    device_id, signature = token.split(".")
    forged = [
        f"{int(device_id) + 1}.{signature}",
        f"{device_id}.{'A' * len(signature)}",
        "nonsense",
        f"{device_id}.",
        "99999999999999999999.x",
    ]
    with httpx.Client(base_url=server.url, verify=False, timeout=30) as anonymous:
        for bad in forged:
            assert anonymous.get(f"/agent/config/{bad}").status_code == 404, bad
        partner.client.post(f"/api/devices/{device['DeviceId']}/apikey", json={})
        retired = anonymous.get(f"/agent/config/{token}")
        assert retired.status_code == 404 and retired.json()["error"]["code"] == "not_found"
    assert 36 not in event_types(partner, device["DeviceId"])
