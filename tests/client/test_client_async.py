"""AsyncClient: the same surface as Client, and the same behaviour, awaited."""

from __future__ import annotations

import inspect

import httpx
import pytest

from cleverfox.client import AsyncClient, Client, DuplicateRequest, NotFound, ServerError
from tests.client.fakes import FakeAPI, Sleeps, company, device

pytestmark = pytest.mark.anyio

NAMESPACES = [
    "partners",
    "partner_users",
    "plan_types",
    "plans",
    "companies",
    "company_users",
    "subscriptions",
    "devices",
    "time_zones",
    "backup_types",
    "jobs",
    "job_items",
    "logs",
    "log_items",
    "events",
    "event_types",
]


def public_methods(namespace: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in inspect.getmembers(namespace, inspect.isfunction)
        if not name.startswith("_")
    }


def _parameters(signature: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


async def test_every_namespace_has_the_same_methods_and_parameters(
    client: Client, async_client: AsyncClient
) -> None:
    for name in NAMESPACES:
        sync_methods = public_methods(type(getattr(client, name)))
        async_methods = public_methods(type(getattr(async_client, name)))
        assert sync_methods.keys() == async_methods.keys(), name
        assert {"list", "get"} <= sync_methods.keys(), name
        for method, signature in sync_methods.items():
            assert _parameters(signature) == _parameters(async_methods[method]), (name, method)
    sync_init = inspect.signature(Client.__init__).parameters
    async_init = inspect.signature(AsyncClient.__init__).parameters
    assert list(sync_init) == list(async_init)


def test_writable_namespaces_and_actions() -> None:
    client = Client("https://x.test", "k")
    writable = {n for n in NAMESPACES if hasattr(getattr(client, n), "create")}
    assert writable == {
        "partner_users",
        "companies",
        "company_users",
        "subscriptions",
        "devices",
        "jobs",
        "job_items",
    }
    assert hasattr(client.partners, "update")
    assert not hasattr(client.partners, "delete")
    assert hasattr(client.devices, "rotate_api_key")
    assert hasattr(client.jobs, "run_now")
    assert hasattr(client.log_items, "download_backup_file")
    client.close()


async def test_async_paging(async_client: AsyncClient, api: FakeAPI) -> None:
    for i in range(1, 6):
        api.add("companies", **company(CompanyId=i))
    async with async_client:
        listed = [c.company_id async for c in async_client.companies.list(page_size=2)]
    assert listed == [5, 4, 3, 2, 1]
    assert [q.get("BeforeId") for q in api.queries()] == [None, "4", "2"]


async def test_async_token_retry_resolves_the_duplicate(
    async_client: AsyncClient, api: FakeAPI, sleeps: Sleeps
) -> None:
    def drop(request: httpx.Request, response: httpx.Response) -> None:
        raise httpx.ReadTimeout("lost", request=request)

    api.after.append(drop)
    async with async_client:
        made = await async_client.companies.create(partner_id=1, plan_type_id=1, name="A")
    assert len(api.store["companies"]) == 1
    assert made.company_id in api.store["companies"]
    assert [r.method for r in api.requests] == ["POST", "POST", "GET"]
    assert len(sleeps) == 1


async def test_async_errors_and_backoff(
    async_client: AsyncClient, api: FakeAPI, sleeps: Sleeps
) -> None:
    api.before.extend([lambda r: httpx.Response(503)] * 4)
    async with async_client:
        with pytest.raises(ServerError):
            await async_client.plans.get(1)
        with pytest.raises(NotFound):
            await async_client.plans.get(1)
    assert sleeps == [0.5, 1.0, 2.0]


async def test_async_actions_and_delete(async_client: AsyncClient, api: FakeAPI) -> None:
    api.add("devices", **device(DeviceId=3))
    async with async_client:
        rotated = await async_client.devices.rotate_api_key(3)
        gone = await async_client.devices.delete(3)
    assert rotated.api_key != "secret-key"
    assert gone.device_id == 3
    assert api.store["devices"] == {}


async def test_async_token_reuse_on_another_element_is_raised(
    async_client: AsyncClient, api: FakeAPI
) -> None:
    api.add("companies", **company(CompanyId=14))
    api.add("companies", **company(CompanyId=15, Name="Fifteen"))
    api.add("devices", **device(DeviceId=4))
    async with async_client:
        await async_client.companies.update(14, name="Renamed", token="crm-sync")
        with pytest.raises(DuplicateRequest) as updated:
            await async_client.companies.update(15, name="Other", token="crm-sync")
        with pytest.raises(DuplicateRequest) as rotated:
            await async_client.devices.rotate_api_key(4, token="crm-sync")
        again = await async_client.companies.update(14, name="Twice", token="crm-sync")

    assert (updated.value.resource, updated.value.id) == ("companies", 14)
    assert (rotated.value.resource, rotated.value.id) == ("companies", 14)
    assert api.store["companies"][15]["Name"] == "Fifteen"
    assert api.store["devices"][4]["ApiKey"] == "secret-key"
    assert (again.company_id, again.name) == (14, "Renamed")  # a repeat on 14 resolves to it
