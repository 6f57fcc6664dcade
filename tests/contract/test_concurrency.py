"""Safe under concurrency (issue 2 item 6, spec §7): races end in 409, never 500, even with
several server processes on one database; migrations do not race."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine
from tests.support.server import (
    Partner,
    ServerProcess,
    postgres_database,
)

from cleverfox.server import migrate


def test_external_id_race_across_two_processes_is_one_201_and_409s(
    partner: Partner, server_second: ServerProcess
) -> None:
    other = server_second.client(partner.api_key)
    clients = [partner.client, other]
    body = {
        "PartnerId": partner.partner_id,
        "PlanTypeId": 1,
        "Name": "Race",
        "ExternalId": "race-1",
    }

    def post(n: int) -> int:
        return clients[n % 2].post("/api/companies", json=body).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = sorted(pool.map(post, range(20)))
    other.close()
    assert statuses.count(201) == 1 and statuses.count(409) == 19, statuses


def test_token_race_across_two_processes(partner: Partner, server_second: ServerProcess) -> None:
    other = server_second.client(partner.api_key)
    clients = [partner.client, other]
    body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Tok", "Token": "x-proc"}

    def post(n: int) -> tuple[int, str | None]:
        response = clients[n % 2].post("/api/companies", json=body)
        return response.status_code, response.json().get("error", {}).get("code")

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(post, range(20)))
    other.close()
    assert [s for s, _ in results].count(201) == 1
    assert all(code == "duplicate_request" for s, code in results if s != 201)


def test_case_folding_is_the_same_on_both_engines(partner: Partner) -> None:
    body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Großmann Straße GmbH"}
    assert partner.client.post("/api/companies", json=body).status_code == 201
    for needle in ("STRASSE", "großmann", "GROSSMANN STR"):
        found = partner.client.get("/api/companies", params={"NameContains": needle}).json()["data"]
        assert [c["Name"] for c in found] == ["Großmann Straße GmbH"], needle


def _upgrade_in_subprocesses(url: str, count: int) -> list[int]:
    code = (
        "import sys; from sqlalchemy import create_engine; from cleverfox.server import migrate;"
        "migrate.upgrade(create_engine(sys.argv[1]))"
    )
    processes = [subprocess.Popen([sys.executable, "-c", code, url]) for _ in range(count)]
    return [p.wait(120) for p in processes]


def test_concurrent_migrations_do_not_race(tmp_path: Path, database_url: str | None) -> None:
    if database_url is None:
        url = f"sqlite:///{tmp_path / 'race.db'}"
        assert _upgrade_in_subprocesses(url, 4) == [0, 0, 0, 0]
        assert migrate.is_current(create_engine(url))
        return
    server_url = database_url.rsplit("/", 1)[0]
    with postgres_database(server_url) as fresh:
        url = fresh.replace("postgresql://", "postgresql+psycopg://", 1)
        assert _upgrade_in_subprocesses(url, 4) == [0, 0, 0, 0]
        engine = create_engine(url)
        assert migrate.is_current(engine)
        engine.dispose()
