"""README §2/§4 limits: per-key rate limits and the per-address failed-authentication limit.

Each test runs its own server so its budgets are not shared with the rest of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.server import ServerProcess, start_server, stop_server


@pytest.fixture
def limited_server(tmp_path: Path, database_url: str | None) -> Iterator[ServerProcess]:
    # 6 per minute: one token per 10 s, so a loaded machine cannot refill the burst mid-test.
    server = start_server(tmp_path / "limited", database_url, "--rate-limit", "6,3")
    yield server
    stop_server(server)


def test_rate_limit_headers_and_429_with_retry_after(limited_server: ServerProcess) -> None:
    partner = limited_server.new_partner()
    first = partner.client.get("/api/companies")
    assert first.status_code == 200
    assert first.headers["ratelimit-limit"] == "3"
    assert first.headers["ratelimit-remaining"] == "2"
    assert int(first.headers["ratelimit-reset"]) >= 1
    statuses = [partner.client.get("/api/companies").status_code for _ in range(3)]
    assert statuses[:2] == [200, 200] and statuses[2] == 429
    limited = partner.client.get("/api/companies")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    other = limited_server.new_partner("Other")
    assert other.client.get("/api/companies").status_code == 200  # budgets are per key


def test_more_than_20_failed_authentications_from_one_address_are_429(
    limited_server: ServerProcess,
) -> None:
    partner = limited_server.new_partner()
    with limited_server.client("cfp_wrong") as wrong:
        statuses = [wrong.get("/api/companies").status_code for _ in range(21)]
        assert statuses[:20] == [401] * 20 and statuses[20] == 429
        refused = wrong.get("/api/companies")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    # The address is refused outright, even with a good key, until the window passes.
    assert partner.client.get("/api/companies").status_code == 429


def test_non_ascii_authorizations_count_toward_the_failed_authentication_limit(
    limited_server: ServerProcess,
) -> None:
    """Once a 500, they were not counted either: an address could try them without end."""
    headers = {"Authorization": "Basic ключ".encode()}
    with limited_server.client() as client:
        statuses = [client.get("/api/companies", headers=headers).status_code for _ in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_rate_limit_zero_turns_it_off(server: ServerProcess) -> None:
    partner = server.new_partner()
    responses = [partner.client.get("/api/plans") for _ in range(5)]
    assert all(r.status_code == 200 for r in responses)
    assert "ratelimit-limit" not in responses[0].headers
