"""Fixtures of the SDK's unit tests: a fake API (``fakes.FakeAPI``) behind
``httpx.MockTransport``, and clients on it whose sleeps are recorded, not slept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from cleverfox.client import AsyncClient, Client, RetryPolicy
from tests.client.fakes import BASE_URL, FakeAPI, MakeClient, Sleeps

# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def policy() -> RetryPolicy:
    """Three retries, no jitter randomness: each backoff is its ceiling."""
    return RetryPolicy(max_retries=3, backoff_base=0.5, backoff_cap=8.0, jitter=lambda: 1.0)


@pytest.fixture
def client(api: FakeAPI, sleeps: Sleeps, policy: RetryPolicy) -> Iterator[Client]:
    with Client(
        BASE_URL, "partner-key", transport=httpx.MockTransport(api), retries=policy, sleep=sleeps
    ) as made:
        yield made


@pytest.fixture
def make_client(api: FakeAPI, sleeps: Sleeps) -> Iterator[MakeClient]:
    """Clients on the fake API with other options (``retries=…``); closed after the test."""
    made: list[Client] = []

    def make(**options: Any) -> Client:
        options.setdefault("sleep", sleeps)
        made.append(Client(BASE_URL, "partner-key", transport=httpx.MockTransport(api), **options))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def async_client(api: FakeAPI, sleeps: Sleeps, policy: RetryPolicy) -> AsyncClient:
    return AsyncClient(
        BASE_URL,
        "partner-key",
        transport=httpx.MockTransport(api),
        retries=policy,
        sleep=sleeps.async_sleep,
    )
