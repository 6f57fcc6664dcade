"""Two server processes on one database and one storage, as several workers run: the same
chunks uploaded and committed through both at once are stored once, referenced exactly,
and no commit deadlocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.contract._fixtures_devices import create_device, create_item, create_job, database
from tests.support.agent import agent_client, manifest_of, ok, pack_bodies, terms_of
from tests.support.server import Partner, ServerProcess, start_server, stop_server

from cleverfox.server.models import StorageChunk, StorageManifest

OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture(scope="module")
def server_shared(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A second process on the first's database, secret and storage folder."""
    args = [
        "--rate-limit",
        "0",
        "--secret-key-file",
        str(server.data_dir / "secret.key"),
        "--storage-url",
        f"file://{server.data_dir / 'storage'}",
    ]
    if server.database_url is None:
        args += ["--database-url", f"sqlite:///{server.data_dir / 'cleverfox.db'}"]
    other = start_server(tmp_path_factory.mktemp("shared"), server.database_url, *args)
    yield other
    stop_server(other)


def test_the_same_chunks_through_two_servers_are_stored_and_referenced_once_each(
    server: ServerProcess, server_shared: ServerProcess, partner: Partner
) -> None:
    device = create_device(partner)
    jobs = [create_job(partner, device["DeviceId"], Name=f"Job {n}") for n in range(4)]
    items = [create_item(partner, job["JobId"]) for job in jobs]
    files: dict[str, Any] = {f"f{n}.bin": os.urandom(40_000) for n in range(20)}
    with agent_client(server, device["ApiKey"]) as agent:
        terms = terms_of(agent)
    entries, records = manifest_of(terms, files)
    [body] = list(pack_bodies(records, terms.max_pack_bytes))

    def upload(index: int) -> dict[str, Any]:
        target = (server, server_shared)[index % 2]
        with agent_client(target, device["ApiKey"]) as client:
            return ok(client.put("/api/agent/packs", content=body, headers=OCTETS))

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(upload, range(6)))
    assert sum(a["Stored"] for a in answers) == len(records)
    assert all(a["Stored"] + a["Duplicates"] == len(records) for a in answers)

    def run(index: int) -> dict[str, Any]:
        target = (server, server_shared)[index % 2]
        with agent_client(target, device["ApiKey"]) as client:
            start = {"JobId": jobs[index]["JobId"], "Trigger": "RunNow"}
            log = ok(client.post("/api/agent/logs", json=start), 201)
            commit = {"JobItemId": items[index]["JobItemId"], "Entries": entries}
            return ok(client.post(f"/api/agent/logs/{log['LogId']}/files", json=commit), 201)

    with ThreadPoolExecutor(4) as pool:
        committed = list(pool.map(run, range(4)))
    assert sorted(c["StoredBytes"] > 0 for c in committed) == [False, False, False, True]
    assert len({c["BackupFileSize"] for c in committed}) == 1
    with database(server) as session:
        rows = session.execute(
            select(StorageChunk.refs, func.count())
            .where(StorageChunk.company_id == partner.company_id)
            .group_by(StorageChunk.refs)
        ).all()
        assert [tuple(row) for row in rows] == [(4, len(records))]
        manifests = session.scalars(
            select(StorageManifest.blob_name).where(
                StorageManifest.company_id == partner.company_id
            )
        ).all()
        assert len(manifests) == 4
    for name in manifests:  # every manifest stream is where either process can read it
        assert (server.data_dir / "storage" / name).is_file()
