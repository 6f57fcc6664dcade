"""Time Zones over HTTPS: the list (paged by PageNo/PageSize only) and elements by Windows id
or IANA name."""

from __future__ import annotations

from urllib.parse import quote

from tests.contract.test_devices import new_device
from tests.support.server import Partner, ServerProcess


def all_zones(partner: Partner) -> list[dict[str, object]]:
    response = partner.client.get("/api/timezones", params={"PageSize": 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["has_more"] is False
    zones: list[dict[str, object]] = body["data"]
    return zones


def test_list_holds_windows_ids_with_names_iana_ids_and_offsets(partner: Partner) -> None:
    zones = all_zones(partner)
    assert len(zones) > 100
    by_id = {z["TimeZoneId"]: z for z in zones}
    eastern = by_id["Eastern Standard Time"]
    assert set(eastern) == {"TimeZoneId", "Name", "IanaId", "CurrentUtcOffset"}
    assert eastern["Name"] == "(UTC-05:00) Eastern Time (US & Canada)"
    assert eastern["IanaId"] == "America/New_York" and eastern["CurrentUtcOffset"] in (-300, -240)
    assert by_id["India Standard Time"]["CurrentUtcOffset"] == 330
    assert by_id["UTC"]["CurrentUtcOffset"] == 0
    offsets = [z["CurrentUtcOffset"] for z in zones]
    assert offsets == sorted(offsets)  # type: ignore[type-var]


def test_list_is_paged_by_page_no_and_page_size(partner: Partner) -> None:
    zones = all_zones(partner)
    first = partner.client.get("/api/timezones").json()
    assert first["page_size"] == 25 and first["has_more"] is True and first["data"] == zones[:25]
    second = partner.client.get("/api/timezones", params={"pageno": 2, "pagesize": 10}).json()
    assert second["data"] == zones[10:20] and second["page_no"] == 2
    last = partner.client.get("/api/timezones", params={"PageNo": 2, "PageSize": len(zones) - 1})
    assert last.json()["data"] == zones[-1:] and last.json()["has_more"] is False
    past = partner.client.get("/api/timezones", params={"PageNo": 99}).json()
    assert past["data"] == [] and past["has_more"] is False
    bad = partner.client.get("/api/timezones", params={"PageSize": 0})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


def test_before_id_and_updated_since_do_not_apply_and_are_named(partner: Partner) -> None:
    response = partner.client.get(
        "/api/timezones", params={"BeforeId": 5, "updatedsince": "2020-01-01T00:00:00", "_": "123"}
    )
    assert response.status_code == 200
    named = set(response.headers["x-cleverfox-ignored-parameters"].split(","))
    assert named == {"BeforeId", "updatedsince", "_"}
    assert response.json()["data"] == all_zones(partner)[:25]
    assert "x-cleverfox-ignored-parameters" not in partner.client.get("/api/timezones").headers


def test_element_by_windows_id_or_iana_name(partner: Partner) -> None:
    by_windows = partner.client.get("/api/timezones/" + quote("Eastern Standard Time"))
    assert by_windows.status_code == 200
    assert by_windows.json()["data"]["IanaId"] == "America/New_York"
    folded = partner.client.get("/api/timezones/" + quote("eastern standard time"))
    assert folded.json()["data"] == by_windows.json()["data"]
    by_iana = partner.client.get("/api/timezones/" + quote("America/Detroit", safe=""))
    assert by_iana.status_code == 200
    assert by_iana.json()["data"]["TimeZoneId"] == "Eastern Standard Time"
    assert by_iana.json()["data"]["IanaId"] == "America/Detroit"
    unslashed = partner.client.get("/api/timezones/Asia/Kolkata")
    assert unslashed.json()["data"]["TimeZoneId"] == "India Standard Time"
    assert unslashed.json()["data"]["CurrentUtcOffset"] == 330
    for unknown in ("Nowhere Standard Time", "x" * 300, quote("Mars/Olympus", safe="")):
        missing = partner.client.get("/api/timezones/" + unknown)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_time_zones_need_a_partner_key(server: ServerProcess, partner: Partner) -> None:
    with server.client() as anonymous:
        assert anonymous.get("/api/timezones").status_code == 401
        assert anonymous.get("/api/timezones/UTC").status_code == 401
    device = new_device(server, partner)
    with server.client(device["ApiKey"]) as agent:
        refused = agent.get("/api/timezones/UTC")
        assert (
            refused.status_code == 403
            and refused.json()["error"]["code"] == "partner_plan_required"
        )
    assert partner.client.post("/api/timezones", json={}).status_code == 405
