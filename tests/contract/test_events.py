"""Events over HTTPS: the partner's read-only audit trail, its filters and its isolation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.events import Actor, EventKind, record_event

EVENT_ATTRIBUTES = {
    "EventId",
    "EventTypeId",
    "EventType",
    "BackupTypeId",
    "CompanyId",
    "CompanyUserId",
    "DeviceId",
    "JobId",
    "JobItemId",
    "LogId",
    "LogItemId",
    "PartnerId",
    "PartnerUserId",
    "PlanId",
    "PlanTypeId",
    "SubscriptionId",
    "PartnerPlanId",
    "AddedOn",
    "Actor",
    "Changes",
}


@pytest.fixture(scope="module")
def db(server: ServerProcess) -> Iterator[Database]:
    database = Database(server.sqlalchemy_url, pool_size=1)
    yield database
    database.dispose()


def add_event(
    db: Database, partner: Partner, kind: EventKind, added_on: datetime | None = None, **ids: int
) -> int:
    """An Event as the agent or server would record it (their endpoints are not ours to call)."""
    with db.writing() as session:
        event = record_event(session, kind, actor=Actor.AGENT, partner_id=partner.partner_id, **ids)
        if added_on is not None:
            event.added_on = added_on
        session.flush()
        return event.id


def events(partner: Partner, **params: object) -> list[dict[str, Any]]:
    response = partner.client.get("/api/events", params={"PageSize": 1000, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [row["EventId"] for row in rows]


def new_company(partner: Partner, name: str = "Contoso") -> int:
    response = partner.client.post(
        "/api/companies", json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": name}
    )
    assert response.status_code == 201, response.text
    company_id: int = response.json()["data"]["CompanyId"]
    return company_id


def test_a_change_is_listed_newest_first_with_every_attribute(partner: Partner) -> None:
    cid = new_company(partner, "Before")
    partner.client.put(f"/api/companies/{cid}", json={"Name": "After"})
    modified, added = events(partner, CompanyId=cid)
    assert set(modified) == EVENT_ATTRIBUTES
    assert (modified["EventTypeId"], modified["EventType"]) == (11, "Company Modified")
    assert (added["EventTypeId"], added["EventType"]) == (10, "Company Added")
    assert modified["Changes"] == {"Name": ["Before", "After"]} and added["Changes"] is None
    assert modified["Actor"] == "Api" and modified["PartnerId"] == partner.partner_id
    assert modified["PartnerPlanId"] is None and modified["DeviceId"] is None
    assert modified["EventId"] > added["EventId"]
    assert len(modified["AddedOn"]) == 23 and "Z" not in modified["AddedOn"]


def test_get_one_event(partner: Partner) -> None:
    event_id = events(partner)[0]["EventId"]
    response = partner.client.get(f"/api/events/{event_id}")
    assert response.status_code == 200
    assert response.json()["data"]["EventId"] == event_id
    assert partner.client.get("/api/events/999999999").status_code == 404
    assert partner.client.get("/api/events/abc").status_code == 404


def test_event_type_names_agree_with_the_event_types_catalogue(
    partner: Partner, db: Database
) -> None:
    listed = partner.client.get("/api/eventtypes", params={"PageSize": 1000}).json()["data"]
    catalogue = {row["EventTypeId"]: row["Name"] for row in listed}
    assert catalogue == {int(kind): kind.title for kind in EventKind}
    made = {add_event(db, partner, kind): kind for kind in EventKind}
    for row in events(partner):
        if row["EventId"] in made:
            assert row["EventType"] == catalogue[row["EventTypeId"]]


def test_history_stays_visible_after_the_object_is_deleted(partner: Partner) -> None:
    cid = new_company(partner)
    assert partner.client.delete(f"/api/companies/{cid}").status_code == 200
    trail = events(partner, CompanyId=cid)
    assert [e["EventType"] for e in trail] == ["Company Deleted", "Company Added"]
    for event in trail:
        assert partner.client.get(f"/api/events/{event['EventId']}").status_code == 200


def test_filters_by_ids_combine_with_and(partner: Partner, db: Database) -> None:
    on_device = add_event(
        db, partner, EventKind.DEVICE_ONLINE, company_id=partner.company_id, device_id=7
    )
    on_job = add_event(
        db, partner, EventKind.JOB_MISSED, company_id=partner.company_id, device_id=7, job_id=70
    )
    assert ids(events(partner, DeviceId=7)) == [on_job, on_device]
    assert ids(events(partner, JobId=70)) == [on_job]
    assert ids(events(partner, DeviceId=7, EventTypeId=34)) == [on_device]
    assert ids(events(partner, eventtypeid=53, companyid=partner.company_id)) == [on_job]
    assert events(partner, JobId=71) == []


def test_since_is_inclusive_and_until_exclusive_in_utc(partner: Partner, db: Database) -> None:
    stamps = [datetime(2020, 1, 1, hour) for hour in (0, 1, 2)]
    made = [add_event(db, partner, EventKind.DEVICE_OFFLINE, at, device_id=5) for at in stamps]
    window = lambda **p: ids(events(partner, DeviceId=5, **p))  # noqa: E731
    assert window(Since="2020-01-01T01:00:00") == [made[2], made[1]]
    assert window(Until="2020-01-01T01:00:00") == [made[0]]
    assert window(Since="2020-01-01T00:00", Until="2020-01-01T02:00:00.000") == [made[1], made[0]]
    assert window(Since="2020-01-01T03:00:00+02:00") == [made[2], made[1]]  # 01:00 UTC
    assert window(Until="2019-12-31T20:00:00-05:00") == [made[0]]  # 01:00 UTC
    assert window(Since="2020-01-01T01:00:00Z", Until="2020-01-01T02:00:00Z") == [made[1]]
    assert window(UpdatedSince="2020-01-01T02:00:00") == [made[2]]


def test_bad_filter_values_are_400_invalid_parameter(partner: Partner) -> None:
    for params in (
        {"Since": "yesterday"},
        {"Until": "2020-13-01T00:00"},
        {"EventTypeId": "x"},
        {"DeviceId": "1.5"},
        {"PageSize": 0},
    ):
        response = partner.client.get("/api/events", params=params)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "invalid_parameter"


def test_paging_with_page_size_and_before_id(partner: Partner, db: Database) -> None:
    made = [add_event(db, partner, EventKind.JOB_STARTED, job_id=900) for _ in range(3)]
    first = partner.client.get("/api/events", params={"JobId": 900, "PageSize": 2}).json()
    assert ids(first["data"]) == [made[2], made[1]] and first["has_more"] is True
    second = partner.client.get(
        "/api/events", params={"JobId": 900, "PageSize": 2, "PageNo": 2}
    ).json()
    assert ids(second["data"]) == [made[0]] and second["has_more"] is False
    assert ids(events(partner, JobId=900, BeforeId=made[1])) == [made[0]]


def test_another_partners_events_are_invisible(partner: Partner, partner_second: Partner) -> None:
    cid = new_company(partner)
    event_id = events(partner, CompanyId=cid)[0]["EventId"]
    assert partner_second.client.get(f"/api/events/{event_id}").status_code == 404
    assert events(partner_second, CompanyId=cid) == []
    assert event_id not in ids(events(partner_second))
    assert {e["PartnerId"] for e in events(partner_second)} <= {partner_second.partner_id}


def test_events_are_not_writable(server: ServerProcess, partner: Partner) -> None:
    event_id = events(partner)[0]["EventId"]
    anonymous = server.client()
    try:
        for client in (partner.client, anonymous):
            for method, url in (
                ("POST", "/api/events"),
                ("PUT", f"/api/events/{event_id}"),
                ("DELETE", f"/api/events/{event_id}"),
            ):
                response = client.request(method, url, json={})
                assert response.status_code == 405, (method, url)
                assert response.headers["allow"] == "GET"
    finally:
        anonymous.close()
