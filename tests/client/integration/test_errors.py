"""Every error class the real server can produce reaches the caller as the SDK's exception,
with its status, code, details and the request id the server logged it under."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cleverfox.client import (
    AuthenticationError,
    BadRequest,
    Client,
    Conflict,
    DuplicateRequest,
    IgnoredAttributesWarning,
    IgnoredParameters,
    NotFound,
    PartnerPlanRequired,
    RateLimited,
    TransportError,
    ValidationFailed,
)
from cleverfox.server.kit.db import Database
from cleverfox.server.partners import operator
from tests.client.integration.conftest import Tenant, connect
from tests.support.server import Partner, ServerProcess, free_port, start_server, stop_server


def test_unknown_key_is_authentication_error(server: ServerProcess) -> None:
    with connect(server, "cfp_not-a-key") as client, pytest.raises(AuthenticationError) as caught:
        client.companies.get(1)
    assert (caught.value.status, caught.value.code) == (401, "unauthorized")
    assert caught.value.request_id


def _set_active(server: ServerProcess, partner_id: int, active: bool) -> None:
    db = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with db.writing() as session:
            operator.set_partner_active(session, partner_id, active)
    finally:
        db.dispose()


def test_deactivated_partner_is_partner_plan_required(
    server: ServerProcess, partner: Partner, sdk: Client
) -> None:
    _set_active(server, partner.partner_id, False)
    try:
        with pytest.raises(PartnerPlanRequired) as caught:
            list(sdk.companies.list())
    finally:
        _set_active(server, partner.partner_id, True)
    assert (caught.value.status, caught.value.code) == (403, "partner_plan_required")
    assert caught.value.request_id
    assert next(sdk.companies.list()).id == partner.company_id


def test_a_device_key_is_not_a_partner_key(server: ServerProcess, tenant: Tenant) -> None:
    assert tenant.device.api_key is not None
    with connect(server, tenant.device.api_key) as client, pytest.raises(PartnerPlanRequired):
        client.companies.get(tenant.company.id)


def test_missing_and_foreign_objects_are_not_found(sdk: Client, partner_second: Partner) -> None:
    with pytest.raises(NotFound) as caught:
        sdk.devices.get(987654321)
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    with pytest.raises(NotFound):
        sdk.companies.update(partner_second.company_id, name="stolen")
    with pytest.raises(NotFound):
        sdk.time_zones.get("Nowhere Standard Time")


def test_validation_failed_names_every_attribute(sdk: Client, partner: Partner) -> None:
    with pytest.raises(ValidationFailed) as caught:
        sdk.companies.create(
            partner_id=partner.partner_id, plan_type_id=1, name="x" * 101, country="y" * 51
        )
    error = caught.value
    assert (error.status, error.code) == (400, "validation_failed")
    assert {e.attribute for e in error.errors} == {"Name", "Country"}
    assert error.for_attribute("name")[0].code
    assert error.request_id


def test_invalid_parameter_is_bad_request(sdk: Client) -> None:
    with pytest.raises(BadRequest) as caught:
        list(sdk.companies.list(extra_filters={"IsInactive": "maybe"}))
    assert not isinstance(caught.value, ValidationFailed)
    assert (caught.value.status, caught.value.code) == (400, "invalid_parameter")


def test_ignored_parameters_refuse_to_list_unfiltered(sdk: Client) -> None:
    with pytest.raises(IgnoredParameters) as caught:
        list(sdk.devices.list(extra_filters={"CompnyId": 7}))
    assert caught.value.parameters == ("CompnyId",)


def test_ignored_attributes_warn(sdk: Client, partner: Partner) -> None:
    with pytest.warns(IgnoredAttributesWarning, match="Colour"):
        made = sdk.companies.create(
            partner_id=partner.partner_id,
            plan_type_id=1,
            name="Warned",
            extra_attributes={"Colour": "red"},
        )
    assert made.name == "Warned"


def test_conflicts_carry_their_code(sdk: Client, tenant: Tenant, partner: Partner) -> None:
    sdk.companies.update(partner.company_id, external_id="X-1")
    with pytest.raises(Conflict) as taken:
        sdk.companies.update(tenant.company.id, external_id="X-1")
    assert (taken.value.status, taken.value.code) == (409, "external_id_taken")
    with pytest.raises(Conflict) as not_empty:
        sdk.companies.delete(tenant.company.id)
    assert not_empty.value.code == "company_not_empty"


def test_a_token_used_by_another_resource_is_duplicate_request(
    sdk: Client, partner: Partner
) -> None:
    company = sdk.companies.create(
        partner_id=partner.partner_id, plan_type_id=1, name="Tokened", token="tok-shared-1"
    )
    with pytest.raises(DuplicateRequest) as caught:
        sdk.subscriptions.create(company_id=company.id, plan_id=1, token="tok-shared-1")
    error = caught.value
    assert (error.status, error.code, error.resource, error.id) == (
        409,
        "duplicate_request",
        "companies",
        company.id,
    )
    again = sdk.companies.create(
        partner_id=partner.partner_id, plan_type_id=1, name="Other", token="tok-shared-1"
    )
    assert (again.id, again.name) == (company.id, "Tokened")  # resolved, not a second one
    assert [c.id for c in sdk.companies.list(name_contains="Other")] == []


def test_a_token_reused_for_another_element_is_duplicate_request(
    sdk: Client, tenant: Tenant
) -> None:
    """Defect 6: an update or action of device B with the Token of device A's update
    answered device A, with no error and B unchanged."""
    first = tenant.device
    second = sdk.devices.create(
        company_id=tenant.company.id,
        subscription_id=tenant.subscription.id,
        name="FS02",
        time_zone_id="UTC",
    )
    sdk.devices.update(first.id, name="FS01 renamed", token="tok-reused-1")

    with pytest.raises(DuplicateRequest) as updated:
        sdk.devices.update(second.id, name="FS02 renamed", token="tok-reused-1")
    with pytest.raises(DuplicateRequest) as rotated:
        sdk.devices.rotate_api_key(second.id, token="tok-reused-1")

    for caught in (updated, rotated):
        error = caught.value
        assert (error.status, error.code, error.resource, error.id) == (
            409,
            "duplicate_request",
            "devices",
            first.id,
        )
        assert error.request_id
    unchanged = sdk.devices.get(second.id)
    assert (unchanged.name, unchanged.api_key) == ("FS02", second.api_key)
    again = sdk.devices.update(first.id, name="FS01 again", token="tok-reused-1")
    assert (again.id, again.name) == (first.id, "FS01 renamed")  # a repeat: resolved


@pytest.fixture(scope="module")
def limited_server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ServerProcess]:
    """A server allowing each key 60 requests a minute with a burst of 2."""
    data_dir: Path = tmp_path_factory.mktemp("limited")
    process = start_server(data_dir, database_url, "--rate-limit", "60,2")
    yield process
    stop_server(process)


def test_rate_limited_carries_retry_after(limited_server: ServerProcess) -> None:
    made = limited_server.new_partner()
    made.client.close()
    with connect(limited_server, made.api_key, retries=0) as client:
        for _ in range(2):  # the burst
            client.partners.get(made.partner_id)
        with pytest.raises(RateLimited) as caught:
            client.partners.get(made.partner_id)
    assert (caught.value.status, caught.value.code) == (429, "rate_limited")
    assert caught.value.retry_after is not None and caught.value.retry_after > 0
    assert caught.value.request_id


def test_rate_limited_calls_wait_retry_after_then_succeed(limited_server: ServerProcess) -> None:
    made = limited_server.new_partner()
    made.client.close()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        import time

        time.sleep(seconds)

    with connect(limited_server, made.api_key, sleep=sleep) as client:
        names = [client.partners.get(made.partner_id).name for _ in range(4)]
    assert names == ["Test Partner"] * 4
    assert waits and all(0 < wait <= 2 for wait in waits)


def test_nothing_listening_is_a_transport_error(server: ServerProcess) -> None:
    client = Client(f"https://127.0.0.1:{free_port()}", "cfp_x", retries=0)
    with client, pytest.raises(TransportError) as caught:
        client.companies.get(1)
    assert caught.value.request_sent is False
