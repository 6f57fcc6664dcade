"""Safe retries: Tokens make writes idempotent; waits are bounded; sleeps are injected."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.client import (
    Client,
    DuplicateRequest,
    NotFound,
    RateLimited,
    RequestTimeout,
    RetryPolicy,
    ServerError,
    TransportError,
)
from cleverfox.client._retry import RetryBudget
from tests.client.conftest import MakeClient, Sleeps
from tests.client.fakes import FakeAPI, company, device, error, job


def drop_response(request: httpx.Request, response: httpx.Response) -> None:
    """The server applied the request, then the answer was lost on the way back."""
    raise httpx.ReadTimeout("the answer never came", request=request)


def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


# ---- Token retries ---------------------------------------------------------------------


def test_create_after_a_lost_answer_returns_the_created_object(
    client: Client, api: FakeAPI, sleeps: Sleeps
) -> None:
    api.after.append(drop_response)

    made = client.companies.create(partner_id=1, plan_type_id=1, name="Acme")

    assert len(api.store["companies"]) == 1  # not a second company
    (stored,) = api.store["companies"].values()
    assert made.company_id == stored["CompanyId"]
    assert made.name == "Acme"
    first, second = api.bodies("POST")
    assert first["Token"] == second["Token"]  # retried with the SAME token
    assert len(first["Token"]) <= 50
    assert [r.method for r in api.requests] == ["POST", "POST", "GET"]
    assert api.requests[2].url.path == f"/api/companies/{made.company_id}"
    assert len(sleeps) == 1


def test_update_after_a_lost_answer_resolves_to_the_object(client: Client, api: FakeAPI) -> None:
    api.add("companies", **company(CompanyId=5))
    api.after.append(drop_response)

    changed = client.companies.update(5, name="Renamed")

    assert changed.name == "Renamed"
    assert [r.method for r in api.requests] == ["PUT", "PUT", "GET"]


def test_actions_after_a_lost_answer_resolve_to_the_object(client: Client, api: FakeAPI) -> None:
    api.add("devices", **device(DeviceId=3))
    api.add("jobs", **job(JobId=4))
    api.after.append(drop_response)
    rotated = client.devices.rotate_api_key(3)
    api.after.append(drop_response)
    run = client.jobs.run_now(4)

    assert rotated.api_key == api.store["devices"][3]["ApiKey"] != "secret-key"
    assert run.job_id == 4
    paths = [(r.method, r.url.path) for r in api.requests]
    assert paths == [
        ("POST", "/api/devices/3/apikey"),
        ("POST", "/api/devices/3/apikey"),
        ("GET", "/api/devices/3"),
        ("POST", "/api/jobs/4/run"),
        ("POST", "/api/jobs/4/run"),
        ("GET", "/api/jobs/4"),
    ]


def test_a_callers_token_resolves_a_repeat_across_calls(client: Client, api: FakeAPI) -> None:
    first = client.companies.create(partner_id=1, plan_type_id=1, name="A", token="order-17")
    again = client.companies.create(partner_id=1, plan_type_id=1, name="A", token="order-17")

    assert again.company_id == first.company_id
    assert len(api.store["companies"]) == 1


def test_a_duplicate_naming_another_resource_is_raised(client: Client, api: FakeAPI) -> None:
    api.before.append(lambda r: error(409, "duplicate_request", resource="devices", id=1))
    with pytest.raises(DuplicateRequest) as raised:
        client.companies.create(partner_id=1, plan_type_id=1, name="A")
    assert (raised.value.resource, raised.value.id) == ("devices", 1)


def test_a_token_reused_for_another_element_is_raised_not_resolved(
    client: Client, api: FakeAPI
) -> None:
    """Defect 6: update(15, token=T) after update(14, token=T) returned company 14."""
    api.add("companies", **company(CompanyId=14, Name="Fourteen"))
    api.add("companies", **company(CompanyId=15, Name="Fifteen"))
    client.companies.update(14, name="Renamed 14", token="crm-sync")

    with pytest.raises(DuplicateRequest) as raised:
        client.companies.update(15, name="Renamed 15", token="crm-sync")

    assert (raised.value.status, raised.value.resource, raised.value.id) == (409, "companies", 14)
    assert api.store["companies"][15]["Name"] == "Fifteen"
    assert [r.method for r in api.requests] == ["PUT", "PUT"]  # company 14 is not fetched


def test_a_token_reused_for_an_action_on_another_element_is_raised(
    client: Client, api: FakeAPI
) -> None:
    api.add("devices", **device(DeviceId=3))
    api.add("devices", **device(DeviceId=4))
    api.add("jobs", **job(JobId=7))
    api.add("jobs", **job(JobId=8))
    client.devices.update(3, name="pc-3", token="maintenance")
    client.jobs.run_now(7, token="nightly-run")

    with pytest.raises(DuplicateRequest) as rotated:
        client.devices.rotate_api_key(4, token="maintenance")
    with pytest.raises(DuplicateRequest) as run:
        client.jobs.run_now(8, token="nightly-run")

    assert (rotated.value.resource, rotated.value.id) == ("devices", 3)
    assert (run.value.resource, run.value.id) == ("jobs", 7)
    assert api.store["devices"][4]["ApiKey"] == "secret-key"  # not rotated


def test_a_callers_token_repeated_on_the_same_element_resolves_to_it(
    client: Client, api: FakeAPI
) -> None:
    api.add("companies", **company(CompanyId=14, Name="Fourteen"))
    first = client.companies.update(14, name="Once", token="rename-14")
    again = client.companies.update(14, name="Twice", token="rename-14")

    assert (first.name, again.name) == ("Once", "Once")  # the repeat is not applied
    assert [r.method for r in api.requests] == ["PUT", "PUT", "GET"]


def test_a_duplicate_naming_another_element_after_a_retry_is_raised(
    client: Client, api: FakeAPI
) -> None:
    """Even for the SDK's own fresh Token, only the element it wrote is its retry's result."""
    api.add("companies", **company(CompanyId=5))
    api.after.append(drop_response)
    api.before.extend(
        [lambda r: None, lambda r: error(409, "duplicate_request", resource="companies", id=6)]
    )

    with pytest.raises(DuplicateRequest) as raised:
        client.companies.update(5, name="Renamed")
    assert raised.value.id == 6


def test_a_token_longer_than_50_is_refused(client: Client, api: FakeAPI) -> None:
    with pytest.raises(ValueError, match="Token"):
        client.companies.create(partner_id=1, plan_type_id=1, name="A", token="x" * 51)
    assert api.requests == []


def test_every_write_carries_a_fresh_token(client: Client, api: FakeAPI) -> None:
    client.companies.create(partner_id=1, plan_type_id=1, name="A")
    client.companies.create(partner_id=1, plan_type_id=1, name="B")
    tokens = [body["Token"] for body in api.bodies("POST")]
    assert len(set(tokens)) == 2
    assert all(t and len(t) <= 50 for t in tokens)


# ---- what is retried -----------------------------------------------------------------------


def test_get_is_retried_after_a_read_timeout(client: Client, api: FakeAPI) -> None:
    api.add("plans", PlanId=1, Name="Small")
    api.after.append(drop_response)
    assert client.plans.get(1).name == "Small"
    assert len(api.requests) == 2


def test_delete_is_not_resent_when_it_may_have_arrived(client: Client, api: FakeAPI) -> None:
    api.add("companies", **company(CompanyId=5))
    api.after.append(drop_response)

    with pytest.raises(RequestTimeout) as raised:
        client.companies.delete(5)

    assert raised.value.request_sent
    assert len(api.requests) == 1


def test_delete_is_retried_when_it_surely_did_not_arrive(client: Client, api: FakeAPI) -> None:
    api.add("companies", **company(CompanyId=5))
    api.before.append(refuse)

    assert client.companies.delete(5).company_id == 5
    assert [r.method for r in api.requests] == ["DELETE", "DELETE"]


def test_delete_is_retried_on_503(client: Client, api: FakeAPI, sleeps: Sleeps) -> None:
    api.add("companies", **company(CompanyId=5))
    api.before.append(lambda r: error(503, "starting"))
    assert client.companies.delete(5).company_id == 5


def test_delete_is_not_retried_on_502(client: Client, api: FakeAPI) -> None:
    api.add("companies", **company(CompanyId=5))
    api.before.append(lambda r: error(502, "bad_gateway"))
    with pytest.raises(ServerError):
        client.companies.delete(5)
    assert 5 in api.store["companies"]


def test_500_is_a_bug_and_not_retried(client: Client, api: FakeAPI, sleeps: Sleeps) -> None:
    api.before.append(lambda r: error(500, "internal_error"))
    with pytest.raises(ServerError):
        client.plans.get(1)
    assert sleeps == []


def test_4xx_is_not_retried(client: Client, api: FakeAPI, sleeps: Sleeps) -> None:
    with pytest.raises(NotFound):
        client.plans.get(1)
    assert sleeps == []
    assert len(api.requests) == 1


# ---- 429 -----------------------------------------------------------------------------------


def rate_limited(seconds: str) -> httpx.Response:
    response = error(429, "rate_limited")
    response.headers["Retry-After"] = seconds
    return response


def test_429_waits_retry_after_then_succeeds(client: Client, api: FakeAPI, sleeps: Sleeps) -> None:
    api.add("plans", PlanId=1, Name="Small")
    api.before.extend([lambda r: rate_limited("2"), lambda r: rate_limited("3")])

    assert client.plans.get(1).plan_id == 1
    assert sleeps == [2.0, 3.0]


def test_429_longer_than_the_budget_is_raised_at_once(
    api: FakeAPI, sleeps: Sleeps, make_client: MakeClient
) -> None:
    api.before.append(lambda r: rate_limited("120"))
    policy = RetryPolicy(max_retries=3, max_total_wait=60)
    with pytest.raises(RateLimited) as raised:
        make_client(retries=policy).plans.get(1)
    assert raised.value.retry_after == 120.0
    assert sleeps == []


def test_429_without_retry_after_backs_off(client: Client, api: FakeAPI, sleeps: Sleeps) -> None:
    api.add("plans", PlanId=1, Name="Small")
    api.before.append(lambda r: error(429, "rate_limited"))
    client.plans.get(1)
    assert sleeps == [0.5]


def test_writes_are_retried_after_429_with_the_same_token(client: Client, api: FakeAPI) -> None:
    api.before.append(lambda r: rate_limited("1"))
    client.companies.create(partner_id=1, plan_type_id=1, name="A")
    first, second = api.bodies("POST")
    assert first["Token"] == second["Token"]
    assert len(api.store["companies"]) == 1


# ---- 5xx and connection backoff ------------------------------------------------------------


@pytest.mark.parametrize("status", [502, 503, 504])
def test_5xx_backs_off_exponentially_then_gives_up(
    client: Client, api: FakeAPI, sleeps: Sleeps, status: int
) -> None:
    api.before.extend([lambda r: error(status, "unavailable")] * 4)

    with pytest.raises(ServerError) as raised:
        client.plans.get(1)

    assert raised.value.status == status
    assert sleeps == [0.5, 1.0, 2.0]  # jitter at its ceiling: base * 2**retry
    assert len(api.requests) == 4


def test_backoff_is_capped(api: FakeAPI, sleeps: Sleeps, make_client: MakeClient) -> None:
    api.before.extend([refuse] * 6)
    policy = RetryPolicy(max_retries=5, backoff_base=1, backoff_cap=3, jitter=lambda: 1.0)
    client = make_client(retries=policy)
    with pytest.raises(TransportError):
        client.plans.get(1)
    assert sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


def test_total_wait_is_bounded(api: FakeAPI, sleeps: Sleeps, make_client: MakeClient) -> None:
    api.before.extend([refuse] * 10)
    policy = RetryPolicy(max_retries=9, backoff_base=4, max_total_wait=10, jitter=lambda: 1.0)
    client = make_client(retries=policy)
    with pytest.raises(TransportError):
        client.plans.get(1)
    assert sleeps == [4.0, 6.0]
    assert sum(sleeps) <= 10


def test_retries_zero_sends_once(api: FakeAPI, sleeps: Sleeps, make_client: MakeClient) -> None:
    api.before.append(refuse)
    with pytest.raises(TransportError):
        make_client(retries=0).plans.get(1)
    assert len(api.requests) == 1
    assert sleeps == []


@given(
    retries=st.integers(0, 8),
    base=st.floats(0, 5),
    cap=st.floats(0, 30),
    total=st.floats(0, 120),
    jitter=st.floats(0, 0.999999),
    failures=st.lists(st.sampled_from([502, 503, 504, 429, 0]), min_size=1, max_size=12),
)
def test_backoff_never_exceeds_its_bounds(
    retries: int,
    base: float,
    cap: float,
    total: float,
    jitter: float,
    failures: list[int],
) -> None:
    policy = RetryPolicy(
        max_retries=retries,
        backoff_base=base,
        backoff_cap=cap,
        max_total_wait=total,
        jitter=lambda: jitter,
    )
    budget = RetryBudget(policy, replayable=True)
    for status in failures:
        failure = (
            TransportError("dropped", request_sent=True)
            if status == 0
            else RateLimited(429, "rate_limited", "m", retry_after=None)
            if status == 429
            else ServerError(status, "x", "m")
        )
        ceiling = min(cap, base * 2.0**budget.retries)
        delay = budget.after(failure)
        if delay is None:
            break
        assert 0 <= delay <= ceiling
        budget.spend(delay)
    assert budget.retries <= retries
    assert budget.waited <= total + 1e-9
