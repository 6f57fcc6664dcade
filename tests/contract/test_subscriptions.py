"""Subscriptions over HTTPS: every attribute rule, filter, conflict and Event of resources.md."""

from __future__ import annotations

import secrets
from calendar import monthrange
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.support.server import Partner, ServerProcess

from cleverfox.server.catalog import operator as catalog
from cleverfox.server.kit.db import Database
from cleverfox.server.models import Device, Plan


@pytest.fixture(scope="module")
def db(server: ServerProcess) -> Iterator[Database]:
    """The server's own database, for what no endpoint of this package makes (devices, plans)."""
    database = Database(server.sqlalchemy_url, pool_size=1)
    yield database
    database.dispose()


def subscription_body(partner: Partner, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {"CompanyId": partner.company_id, "PlanId": 1}
    body.update(overrides)
    return body


def create_subscription(partner: Partner, **overrides: object) -> dict[str, Any]:
    response = partner.client.post(
        "/api/subscriptions", json=subscription_body(partner, **overrides)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def errors_of(response: Any) -> set[tuple[str, str]]:
    assert response.status_code == 400, response.text
    body = response.json()["error"]
    assert body["code"] == "validation_failed"
    return {(e["attribute"], e["code"]) for e in body["errors"]}


def events_of(partner: Partner, **params: object) -> list[dict[str, Any]]:
    response = partner.client.get("/api/events", params={"PageSize": 1000, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def add_device(db: Database, partner: Partner, subscription: dict[str, Any]) -> int:
    with db.writing() as session:
        device = Device(
            partner_id=partner.partner_id,
            company_id=subscription["CompanyId"],
            subscription_id=subscription["SubscriptionId"],
            name="PC",
            name_folded="pc",
            time_zone_id="UTC",
            iana_time_zone_id="UTC",
            api_key_encrypted="x",
            api_key_digest=secrets.token_hex(32),
        )
        session.add(device)
        session.flush()
        return device.id


def remove_device(db: Database, device_id: int) -> None:
    with db.writing() as session:
        session.delete(session.get(Device, device_id))


def test_create_returns_201_with_every_attribute(partner: Partner) -> None:
    response = partner.client.post(
        "/api/subscriptions",
        json=subscription_body(partner, ApplicationId="app-1", ExternalId="crm-sub-1"),
    )
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert response.headers["location"] == f"/api/subscriptions/{data['SubscriptionId']}"
    assert data["CompanyId"] == partner.company_id and data["PlanId"] == 1
    assert data["ApplicationId"] == "app-1" and data["ExternalId"] == "crm-sub-1"
    assert data["IsInactive"] is False and data["Status"] == "Active"
    assert data["BillingId"] is None and data["DownloadLimitExpireOn"] is None
    assert (
        data["AdditionalDevice"] == 0 and data["DeviceCount"] == 0 and data["StorageUsedBytes"] == 0
    )
    assert data["SendNotificationOnStorageLimit"] is False and data["SendNotificationTo"] is None
    assert data["Token"] is None and data["UpdatedOn"] is None and data["AddedOn"]


def test_embedded_company_and_plan_are_one_level_deep(partner: Partner) -> None:
    data = create_subscription(partner)
    company, plan = data["Company"], data["Plan"]
    assert company["CompanyId"] == partner.company_id
    assert company["Partner"] is None and company["PlanType"] is None
    assert plan["PlanId"] == 1 and plan["Name"] == "Small Plan" and plan["DeviceLimit"] == 1
    assert plan["PlanType"] is None


def test_period_is_the_current_calendar_month_in_utc(partner: Partner) -> None:
    before = datetime.now(UTC)
    data = create_subscription(partner)
    after = datetime.now(UTC)

    def month(now: datetime) -> tuple[str, str]:
        last = monthrange(now.year, now.month)[1]
        return (f"{now:%Y-%m}-01T00:00:00.000", f"{now:%Y-%m}-{last:02d}T23:59:59.999")

    assert (data["PeriodStart"], data["PeriodEnd"]) in {month(before), month(after)}


def test_company_and_plan_are_required_together(partner: Partner) -> None:
    response = partner.client.post("/api/subscriptions", json={"ApplicationId": "x" * 26})
    assert errors_of(response) == {
        ("CompanyId", "required"),
        ("PlanId", "required"),
        ("ApplicationId", "too_long"),
    }


def test_strings_have_their_limits(partner: Partner) -> None:
    response = partner.client.post(
        "/api/subscriptions",
        json=subscription_body(partner, ApplicationId="x" * 26, ExternalId="y" * 101),
    )
    assert errors_of(response) == {("ApplicationId", "too_long"), ("ExternalId", "too_long")}
    fits = create_subscription(partner, ApplicationId="x" * 25, ExternalId="y" * 100)
    assert len(fits["ExternalId"]) == 100


def test_company_of_another_partner_is_a_validation_failure(
    partner: Partner, partner_second: Partner
) -> None:
    response = partner.client.post(
        "/api/subscriptions", json=subscription_body(partner, CompanyId=partner_second.company_id)
    )
    assert errors_of(response) == {("CompanyId", "invalid_reference")}


def test_plan_must_exist_be_active_and_match_the_company_plan_type(
    partner: Partner, db: Database
) -> None:
    with db.writing() as session:
        other_type = catalog.create_plan_type(session, "Other type")
        other_plan = catalog.create_plan(
            session, "Other plan", plan_type_id=other_type.id, device_limit=1, storage_limit_gb=1
        )
        retired = catalog.create_plan(
            session, "Retired", plan_type_id=1, device_limit=1, storage_limit_gb=1
        )
        session.get_one(Plan, retired.id).is_inactive = True
        ids = (other_type.id, other_plan.id, retired.id)
    other_type_id, other_plan_id, retired_id = ids
    for plan_id in (999_999, other_plan_id, retired_id):
        response = partner.client.post(
            "/api/subscriptions", json=subscription_body(partner, PlanId=plan_id)
        )
        assert errors_of(response) == {("PlanId", "invalid_reference")}, plan_id
    company = partner.client.post(
        "/api/companies",
        json={"PartnerId": partner.partner_id, "PlanTypeId": other_type_id, "Name": "Other"},
    ).json()["data"]
    matching = create_subscription(partner, CompanyId=company["CompanyId"], PlanId=other_plan_id)
    assert matching["Plan"]["PlanTypeId"] == other_type_id
    mismatched = partner.client.post(
        "/api/subscriptions",
        json=subscription_body(partner, CompanyId=company["CompanyId"], PlanId=1),
    )
    assert errors_of(mismatched) == {("PlanId", "invalid_reference")}


def test_external_id_unique_per_partner(partner: Partner, partner_second: Partner) -> None:
    first = create_subscription(partner, ExternalId="sub-1")
    again = partner.client.post(
        "/api/subscriptions", json=subscription_body(partner, ExternalId="sub-1")
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "external_id_taken"
    second = create_subscription(partner, ExternalId="sub-2")
    moved = partner.client.put(
        f"/api/subscriptions/{second['SubscriptionId']}", json={"ExternalId": "sub-1"}
    )
    assert moved.status_code == 409 and moved.json()["error"]["code"] == "external_id_taken"
    assert (
        partner_second.client.post(
            "/api/subscriptions", json=subscription_body(partner_second, ExternalId="sub-1")
        ).status_code
        == 201
    )
    assert partner.client.delete(f"/api/subscriptions/{first['SubscriptionId']}").status_code == 200
    create_subscription(partner, ExternalId="sub-1")  # reusable at once after deletion


def test_notification_to_is_required_when_storage_limit_mail_is_on(partner: Partner) -> None:
    response = partner.client.post(
        "/api/subscriptions", json=subscription_body(partner, SendNotificationOnStorageLimit=True)
    )
    assert errors_of(response) == {("SendNotificationTo", "required")}
    data = create_subscription(
        partner, SendNotificationOnStorageLimit="true", SendNotificationTo="ops@example.com"
    )
    assert data["SendNotificationOnStorageLimit"] is True


def test_the_conditional_rule_is_checked_on_the_object_after_a_put(partner: Partner) -> None:
    sid = create_subscription(partner)["SubscriptionId"]
    url = f"/api/subscriptions/{sid}"
    turned_on = partner.client.put(url, json={"SendNotificationOnStorageLimit": True})
    assert errors_of(turned_on) == {("SendNotificationTo", "required")}
    assert (
        partner.client.put(url, json={"SendNotificationTo": "ops@example.com"}).status_code == 200
    )
    assert partner.client.put(url, json={"SendNotificationOnStorageLimit": True}).status_code == 200
    cleared = partner.client.put(url, json={"SendNotificationTo": None})
    assert errors_of(cleared) == {("SendNotificationTo", "required")}
    both = partner.client.put(
        url, json={"SendNotificationTo": "", "SendNotificationOnStorageLimit": None}
    )
    assert both.status_code == 200, both.text
    assert both.json()["data"]["SendNotificationTo"] is None


def test_email_lists_take_every_published_separator(partner: Partner) -> None:
    text = "a@example.com, b@example.com;c@example.com:d@example.com\r\ne@example.com"
    data = create_subscription(
        partner,
        SendNotificationTo=text,
        SendNotificationCc="f@example.com",
        SendNotificationBcc="g@example.com;h@example.com",
    )
    assert data["SendNotificationTo"] == text
    assert data["SendNotificationBcc"] == "g@example.com;h@example.com"


def test_each_address_of_a_list_is_validated(partner: Partner) -> None:
    response = partner.client.post(
        "/api/subscriptions",
        json=subscription_body(
            partner,
            SendNotificationTo="ok@example.com;not-an-address",
            SendNotificationCc="x@example.com, y@",
            SendNotificationBcc="fine@example.com",
        ),
    )
    assert errors_of(response) == {
        ("SendNotificationTo", "invalid_email"),
        ("SendNotificationCc", "invalid_email"),
    }
    assert "not-an-address" in response.text
    sid = create_subscription(partner)["SubscriptionId"]
    put = partner.client.put(f"/api/subscriptions/{sid}", json={"SendNotificationBcc": "a@b"})
    assert errors_of(put) == {("SendNotificationBcc", "invalid_email")}


def test_read_only_attributes_are_ignored_on_post_and_put(partner: Partner) -> None:
    data = create_subscription(
        partner,
        IsInactive=True,
        AdditionalDevice=9,
        Status="Inactive",
        BillingId=5,
        DeviceCount=3,
        StorageUsedBytes=7,
    )
    assert (
        data["IsInactive"] is False and data["AdditionalDevice"] == 0 and data["BillingId"] is None
    )
    assert data["DeviceCount"] == 0 and data["StorageUsedBytes"] == 0
    sid = data["SubscriptionId"]
    data["PlanId"], data["CompanyId"], data["IsInactive"] = 2, 999, True
    data["ApplicationId"] = "changed"
    put = partner.client.put(f"/api/subscriptions/{sid}", json=data)  # a GET-modify-PUT round trip
    assert put.status_code == 200, put.text
    after = put.json()["data"]
    assert after["PlanId"] == 1 and after["CompanyId"] == partner.company_id
    assert after["IsInactive"] is False and after["ApplicationId"] == "changed"


def test_put_changes_only_what_is_sent_and_writes_one_event(partner: Partner) -> None:
    sid = create_subscription(partner, ApplicationId="a", ExternalId="e")["SubscriptionId"]
    url = f"/api/subscriptions/{sid}"
    changed = partner.client.put(url, json={"applicationid": "b"})
    assert changed.status_code == 200
    data = changed.json()["data"]
    assert (
        data["ApplicationId"] == "b" and data["ExternalId"] == "e" and data["UpdatedOn"] is not None
    )
    unchanged = partner.client.put(url, json={"ApplicationId": "b"})
    assert (
        unchanged.status_code == 200 and unchanged.json()["data"]["UpdatedOn"] == data["UpdatedOn"]
    )
    modified = events_of(partner, EventTypeId=21)
    assert [e["SubscriptionId"] for e in modified] == [sid]
    assert modified[0]["Changes"] == {"ApplicationId": ["a", "b"]} and modified[0]["Actor"] == "Api"


def test_added_and_deleted_events_carry_the_ids(partner: Partner) -> None:
    sid = create_subscription(partner)["SubscriptionId"]
    assert partner.client.delete(f"/api/subscriptions/{sid}").status_code == 200
    events = events_of(partner, CompanyId=partner.company_id)
    kinds = [(e["EventTypeId"], e["SubscriptionId"], e["PlanId"], e["Changes"]) for e in events[:2]]
    assert kinds == [(22, sid, 1, None), (20, sid, 1, None)]


def test_delete_returns_the_object_and_then_404(partner: Partner) -> None:
    sid = create_subscription(partner)["SubscriptionId"]
    deleted = partner.client.delete(f"/api/subscriptions/{sid}")
    assert deleted.status_code == 200 and deleted.json()["data"]["SubscriptionId"] == sid
    assert partner.client.get(f"/api/subscriptions/{sid}").status_code == 404
    assert partner.client.delete(f"/api/subscriptions/{sid}").status_code == 404


def test_device_count_and_delete_while_devices_use_it(partner: Partner, db: Database) -> None:
    sub = create_subscription(partner)
    sid = sub["SubscriptionId"]
    device_id = add_device(db, partner, sub)
    data = partner.client.get(f"/api/subscriptions/{sid}").json()["data"]
    assert data["DeviceCount"] == 1 and data["Company"]["DeviceCount"] == 1
    listed = partner.client.get("/api/subscriptions", params={"CompanyId": partner.company_id})
    assert [s["DeviceCount"] for s in listed.json()["data"]] == [1]
    in_use = partner.client.delete(f"/api/subscriptions/{sid}")
    assert in_use.status_code == 409 and in_use.json()["error"]["code"] == "subscription_in_use"
    remove_device(db, device_id)
    assert partner.client.delete(f"/api/subscriptions/{sid}").status_code == 200


def test_filter_by_company_and_newest_first(partner: Partner) -> None:
    other = partner.client.post(
        "/api/companies", json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Other"}
    ).json()["data"]["CompanyId"]
    first = create_subscription(partner)["SubscriptionId"]
    second = create_subscription(partner)["SubscriptionId"]
    third = create_subscription(partner, CompanyId=other)["SubscriptionId"]
    ids = lambda r: [s["SubscriptionId"] for s in r.json()["data"]]  # noqa: E731
    assert ids(partner.client.get("/api/subscriptions")) == [third, second, first]
    assert ids(
        partner.client.get("/api/subscriptions", params={"companyid": partner.company_id})
    ) == [second, first]
    assert ids(partner.client.get("/api/subscriptions", params={"CompanyId": other})) == [third]
    assert ids(partner.client.get("/api/subscriptions", params={"BeforeId": second})) == [first]
    bad = partner.client.get("/api/subscriptions", params={"CompanyId": "abc"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_parameter"


def test_another_partners_subscription_is_404_on_every_verb(
    partner: Partner, partner_second: Partner
) -> None:
    sid = create_subscription(partner)["SubscriptionId"]
    url = f"/api/subscriptions/{sid}"
    client = partner_second.client
    assert client.get(url).status_code == 404
    assert client.put(url, json={"ApplicationId": "x"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get("/api/subscriptions").json()["data"] == []
    assert (
        client.get("/api/subscriptions", params={"CompanyId": partner.company_id}).json()["data"]
        == []
    )
    assert partner.client.get(url).json()["data"]["ApplicationId"] is None
