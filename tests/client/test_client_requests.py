"""What the client sends: URLs, credentials, JSON bodies under wire names, Tokens."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from cleverfox.client import Client, Frequency, IgnoredAttributesWarning, NotFound
from tests.client.fakes import BASE_URL, FakeAPI, MakeClient, company, device, job


def test_basic_auth_with_the_key_as_user_name(client: Client, api: FakeAPI) -> None:
    list(client.plans.list())
    scheme, credentials = api.requests[0].headers["Authorization"].split()
    assert scheme == "Basic"
    assert base64.b64decode(credentials) == b"partner-key:"
    assert api.requests[0].headers["User-Agent"].startswith("cleverfox-python/")


@pytest.mark.parametrize(
    "given",
    [BASE_URL, BASE_URL + "/", BASE_URL + "/api", BASE_URL + "/api/"],
)
def test_base_url_with_or_without_api(api: FakeAPI, given: str) -> None:
    with Client(given, "k", transport=httpx.MockTransport(api)) as made:
        list(made.plans.list())
    assert str(api.requests[0].url) == f"{BASE_URL}/api/plans?PageSize=1000"


def test_a_path_prefix_of_a_proxy_is_kept(api: FakeAPI) -> None:
    api.before.append(lambda r: httpx.Response(200, json={"data": [], "has_more": False}))
    with Client("https://example.test/backup/api", "k", transport=httpx.MockTransport(api)) as made:
        list(made.plans.list())
    assert api.requests[0].url.path == "/backup/api/plans"


@pytest.mark.parametrize("url", ["http://cleverfox.test", "cleverfox.test:8443", "https://"])
def test_only_https_is_accepted(url: str) -> None:
    with pytest.raises(ValueError, match="https"):
        Client(url, "k")


@pytest.mark.parametrize("key", ["", "a:b", " key"])
def test_malformed_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="api_key"):
        Client(BASE_URL, key)


def test_tls_options_with_a_transport_are_refused(api: FakeAPI) -> None:
    with pytest.raises(ValueError, match="transport"):
        Client(BASE_URL, "k", transport=httpx.MockTransport(api), fingerprint="ab" * 32)


def test_the_key_is_not_in_the_repr(client: Client) -> None:
    assert "partner-key" not in repr(client)


def test_create_sends_json_under_wire_names(client: Client, api: FakeAPI) -> None:
    client.companies.create(
        partner_id=1, plan_type_id=1, name="Acme", state_providence="NY", address_line1="1 Main"
    )
    request = api.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/companies")
    assert request.headers["Content-Type"] == "application/json"
    assert not request.url.params
    body = json.loads(request.content)
    assert body == {
        "PartnerId": 1,
        "PlanTypeId": 1,
        "Name": "Acme",
        "StateProvidence": "NY",
        "AddressLine1": "1 Main",
        "Token": body["Token"],
    }


def test_values_are_encoded_for_the_wire(client: Client, api: FakeAPI) -> None:
    client.jobs.create(
        device_id=1,
        name="nightly",
        frequency=Frequency.MONTHLY,
        next_run_on=datetime(2025, 1, 2, 1, 30),
        expire_on=datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5))),
        late_after=60,
        every=1,
        cloud_keep_last=7,
        local_keep_last=3,
    )
    body = api.bodies("POST")[0]
    assert body["Frequency"] == "Monthy"
    assert body["NextRunOn"] == "2025-01-02T01:30:00.000"  # naive: the device's wall time
    assert body["ExpireOn"] == "2025-03-01T12:00:00.000-05:00"


def test_lines_are_joined_with_crlf(client: Client, api: FakeAPI) -> None:
    client.job_items.create(job_id=1, backup_type_id=1, search_patterns=["*.docx", "*.xlsx"])
    assert api.bodies("POST")[0]["SearchPatterns"] == "*.docx\r\n*.xlsx"


def test_update_sends_only_what_changes_and_none_clears(client: Client, api: FakeAPI) -> None:
    api.add("companies", **company(CompanyId=5, Phone="123"))
    updated = client.companies.update(5, phone=None, name="New")
    request = api.requests[0]
    assert (request.method, request.url.path) == ("PUT", "/api/companies/5")
    body = json.loads(request.content)
    assert {k: v for k, v in body.items() if k != "Token"} == {"Phone": None, "Name": "New"}
    assert updated.phone is None


def test_an_unknown_attribute_raises_before_sending(client: Client, api: FakeAPI) -> None:
    with pytest.raises(TypeError, match="nmae"):
        client.companies.create(partner_id=1, plan_type_id=1, name="A", nmae="B")  # type: ignore[call-arg]
    assert api.requests == []


def test_read_only_attributes_are_not_accepted_by_update(client: Client) -> None:
    with pytest.raises(TypeError, match="partner_id"):
        client.companies.update(5, partner_id=2)  # type: ignore[call-arg]


def test_extra_attributes_are_sent_verbatim(client: Client, api: FakeAPI) -> None:
    client.companies.create(partner_id=1, plan_type_id=1, name="A", extra_attributes={"Brand": "x"})
    assert api.bodies("POST")[0]["Brand"] == "x"


def test_ignored_attributes_warn(client: Client, api: FakeAPI) -> None:
    api.after.append(
        lambda req, resp: resp.headers.update({"X-CleverFox-Ignored-Attributes": "Brand"})
    )
    with pytest.warns(IgnoredAttributesWarning, match="Brand") as warned:
        client.companies.create(
            partner_id=1, plan_type_id=1, name="A", extra_attributes={"Brand": 1}
        )
    assert warned[0].filename == __file__  # points at the caller's line


def test_actions_post_an_object_with_a_token(client: Client, api: FakeAPI) -> None:
    api.add("devices", **device(DeviceId=3))
    api.add("jobs", **job(JobId=4))
    client.devices.rotate_api_key(3)
    client.jobs.run_now(4, token="run-4-once")
    apikey, run = api.requests
    assert (apikey.method, apikey.url.path) == ("POST", "/api/devices/3/apikey")
    assert (run.method, run.url.path) == ("POST", "/api/jobs/4/run")
    assert apikey.headers["Content-Type"] == "application/json"
    assert set(json.loads(apikey.content)) == {"Token"}
    assert json.loads(run.content) == {"Token": "run-4-once"}


def test_delete_returns_the_object_as_it_was(client: Client, api: FakeAPI) -> None:
    api.add("companies", **company(CompanyId=5, Name="Gone"))
    gone = client.companies.delete(5)
    assert gone.name == "Gone"
    assert api.requests[0].method == "DELETE"
    assert not api.requests[0].content


def test_time_zone_ids_are_url_encoded(client: Client, api: FakeAPI) -> None:
    api.add("timezones", TimeZoneId="Eastern Standard Time", IanaId="America/New_York")
    assert client.time_zones.get("Eastern Standard Time").iana_id == "America/New_York"
    assert api.requests[0].url.raw_path == b"/api/timezones/Eastern%20Standard%20Time"


@pytest.mark.parametrize("bad", [True, 1.5, None])
def test_ids_must_be_ints(client: Client, bad: object) -> None:
    with pytest.raises(TypeError):
        client.companies.get(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("namespace", "path"),
    [
        ("partners", "partners"),
        ("partner_users", "partnerusers"),
        ("plan_types", "plantypes"),
        ("plans", "plans"),
        ("companies", "companies"),
        ("company_users", "companyusers"),
        ("subscriptions", "subscriptions"),
        ("devices", "devices"),
        ("backup_types", "backuptypes"),
        ("jobs", "jobs"),
        ("job_items", "jobitems"),
        ("logs", "logs"),
        ("log_items", "logitems"),
        ("events", "events"),
        ("event_types", "eventtypes"),
    ],
)
def test_every_namespace_gets_and_lists_its_collection(
    make_client: MakeClient, api: FakeAPI, namespace: str, path: str
) -> None:
    answer = {"data": [], "has_more": False}
    api.before.append(lambda r: httpx.Response(200, json=answer))
    resource = getattr(make_client(), namespace)
    assert list(resource.list()) == []
    with pytest.raises(NotFound):
        resource.get(7)
    assert [r.url.path for r in api.requests] == [f"/api/{path}", f"/api/{path}/7"]
