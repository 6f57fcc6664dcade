"""Listings across several pages of the real server: BeforeId paging, newest first, nothing
skipped or repeated (even while objects are added), ``limit``, and the async client."""

from __future__ import annotations

import httpx
import pytest

from cleverfox.client import AsyncClient, Client, Company, NotFound, ssl_context
from tests.support.server import Partner, ServerProcess

COUNT = 11


class Recording(httpx.BaseTransport):
    """Forwards to the server and keeps each request's query."""

    def __init__(self, server: ServerProcess) -> None:
        self._inner = httpx.HTTPTransport(verify=ssl_context(fingerprint=server.fingerprint))
        self.queries: list[dict[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.queries.append(dict(request.url.params))
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


def make_companies(sdk: Client, partner: Partner, count: int, prefix: str) -> list[Company]:
    return [
        sdk.companies.create(partner_id=partner.partner_id, plan_type_id=1, name=f"{prefix} {n}")
        for n in range(count)
    ]


def test_a_listing_pages_by_before_id(server: ServerProcess, partner: Partner, sdk: Client) -> None:
    made = make_companies(sdk, partner, COUNT, "Paged")
    recording = Recording(server)
    with Client(server.url, partner.api_key, transport=recording) as client:
        listed = list(client.companies.list(page_size=4, name_contains="Paged"))
    assert [c.id for c in listed] == [c.id for c in reversed(made)]
    assert len(recording.queries) == 3  # 4 + 4 + 3
    assert "BeforeId" not in recording.queries[0]
    assert [q["BeforeId"] for q in recording.queries[1:]] == [str(listed[3].id), str(listed[7].id)]


def test_limit_stops_early(server: ServerProcess, partner: Partner, sdk: Client) -> None:
    make_companies(sdk, partner, 7, "Limited")
    recording = Recording(server)
    with Client(server.url, partner.api_key, transport=recording) as client:
        listed = list(client.companies.list(page_size=3, limit=5, name_contains="Limited"))
    assert len(listed) == 5
    assert [q["PageSize"] for q in recording.queries] == ["3", "2"]


def test_objects_added_during_a_listing_skip_nothing(partner: Partner, sdk: Client) -> None:
    made = make_companies(sdk, partner, 6, "Moving")
    walk = sdk.companies.list(page_size=2, name_contains="Moving")
    seen = [next(walk).id, next(walk).id]
    make_companies(sdk, partner, 3, "Moving late")  # newer: above the cursor
    seen.extend(c.id for c in walk)
    assert seen == [c.id for c in reversed(made)]


def test_events_page_across_many_pages(partner: Partner, sdk: Client) -> None:
    make_companies(sdk, partner, 5, "Evented")
    events = list(sdk.events.list(page_size=2))
    assert len(events) >= 5
    assert [e.id for e in events] == sorted((e.id for e in events), reverse=True)


@pytest.mark.anyio
async def test_the_async_client_pages_writes_and_fails_alike(
    server: ServerProcess, partner: Partner
) -> None:
    async with AsyncClient(server.url, partner.api_key, fingerprint=server.fingerprint) as client:
        made = [
            await client.companies.create(
                partner_id=partner.partner_id, plan_type_id=1, name=f"Async {n}"
            )
            for n in range(5)
        ]
        listed = [c.id async for c in client.companies.list(page_size=2, name_contains="Async")]
        assert listed == [c.id for c in reversed(made)]
        assert (await client.companies.get(made[0].id)).name == "Async 0"
        with pytest.raises(NotFound):
            await client.devices.get(987654321)
