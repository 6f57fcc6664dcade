"""Token retries against the real server: the first answer is lost after the server applied
the request (a transport that forwards to the server, then raises a timeout instead of
returning its response); the SDK re-sends with the same Token, the server answers
``duplicate_request``, and the caller gets the object the first attempt made — never an
error, never a second object."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from cleverfox.client import Client, RequestTimeout, ssl_context
from tests.client.integration.conftest import Tenant
from tests.support.server import Partner, ServerProcess


class LoseFirstAnswer(httpx.BaseTransport):
    """Forwards every request; the first one of ``method`` is applied by the server but its
    answer is dropped and a read timeout raised in its place."""

    def __init__(self, server: ServerProcess, method: str) -> None:
        self._inner = httpx.HTTPTransport(verify=ssl_context(fingerprint=server.fingerprint))
        self._method = method
        self.lost: list[httpx.Response] = []
        self.seen: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        response = self._inner.handle_request(request)
        if request.method == self._method and not self.lost:
            response.read()
            response.close()
            self.lost.append(response)
            raise httpx.ReadTimeout("simulated: the answer was lost", request=request)
        return response

    def close(self) -> None:
        self._inner.close()

    def tokens(self) -> list[str]:
        """The Tokens of the requests of ``method``, in order."""
        bodies = [json.loads(r.content) for r in self.seen if r.method == self._method]
        return [body["Token"] for body in bodies]


def lossy(
    server: ServerProcess, partner: Partner, method: str
) -> Iterator[tuple[Client, LoseFirstAnswer]]:
    transport = LoseFirstAnswer(server, method)
    with Client(server.url, partner.api_key, transport=transport, sleep=lambda _: None) as client:
        yield client, transport


@pytest.fixture
def losing_post(
    server: ServerProcess, partner: Partner
) -> Iterator[tuple[Client, LoseFirstAnswer]]:
    yield from lossy(server, partner, "POST")


@pytest.fixture
def losing_put(server: ServerProcess, partner: Partner) -> Iterator[tuple[Client, LoseFirstAnswer]]:
    yield from lossy(server, partner, "PUT")


def test_a_create_whose_answer_was_lost_is_the_object_it_made(
    losing_post: tuple[Client, LoseFirstAnswer], partner: Partner, sdk: Client
) -> None:
    client, transport = losing_post
    made = client.companies.create(
        partner_id=partner.partner_id, plan_type_id=1, name="Lost Answer Ltd"
    )
    assert transport.lost and transport.lost[0].status_code == 201
    assert transport.lost[0].json()["data"]["CompanyId"] == made.id
    first, second = transport.tokens()
    assert first == second  # re-sent with the same Token
    assert [c.id for c in sdk.companies.list(name_contains="Lost Answer")] == [made.id]


def test_an_update_whose_answer_was_lost_is_the_object_it_changed(
    losing_put: tuple[Client, LoseFirstAnswer], partner: Partner, sdk: Client
) -> None:
    client, transport = losing_put
    changed = client.companies.update(partner.company_id, phone="0800 123")
    assert (changed.id, changed.phone) == (partner.company_id, "0800 123")
    assert len(set(transport.tokens())) == 1 and len(transport.tokens()) == 2
    modified = [
        e
        for e in sdk.events.list(company_id=partner.company_id)
        if e.event_type == "Company Modified"
    ]
    assert len(modified) == 1  # applied once


def test_actions_whose_answer_was_lost_are_applied_once(
    losing_post: tuple[Client, LoseFirstAnswer], sdk: Client, tenant: Tenant
) -> None:
    client, transport = losing_post
    rotated = client.devices.rotate_api_key(tenant.device.id)
    assert transport.lost[0].json()["data"]["ApiKey"] == rotated.api_key
    assert sdk.devices.get(tenant.device.id).api_key == rotated.api_key
    changes = [
        e
        for e in sdk.events.list(device_id=tenant.device.id)
        if e.event_type == "Device API Key Changed"
    ]
    assert len(changes) == 1
    assert client.jobs.run_now(tenant.job.id).id == tenant.job.id  # no loss left: plain 202


def test_a_delete_is_not_resent_after_a_lost_answer(
    server: ServerProcess, partner: Partner, sdk: Client
) -> None:
    spare = sdk.companies.create(partner_id=partner.partner_id, plan_type_id=1, name="Spare")
    for client, transport in lossy(server, partner, "DELETE"):
        with pytest.raises(RequestTimeout, match="simulated"):
            client.companies.delete(spare.id)
        assert [r.method for r in transport.seen] == ["DELETE"]
    assert [c.id for c in sdk.companies.list(name_contains="Spare")] == []
