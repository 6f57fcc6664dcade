"""The agent's restore endpoints over HTTPS: the manifest as NDJSON, chunks read back as
records, and that a device reaches only its own company's backups."""

from __future__ import annotations

import json
import os

from tests.contract._fixtures_devices import create_device
from tests.contract._fixtures_storage import MODIFIED_MS, backed_up, remove_file
from tests.support.server import Partner, ServerProcess

from cleverfox.storage.pieces import plain_form
from cleverfox.storage.records import parse_records

FILES = {
    "b/big.bin": os.urandom(6000),
    "a.txt": b"hello\n" * 300,
    "pics/x.jpg": os.urandom(700),
    "empty": b"",
}


def test_a_device_restores_its_backup_from_manifest_and_chunks(
    server: ServerProcess, partner: Partner
) -> None:
    backup = backed_up(server, partner, FILES)
    with server.client(backup.device["ApiKey"]) as agent:
        response = agent.get(f"/api/agent/logitems/{backup.log_item_id}/manifest")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/x-ndjson")
        entries = [json.loads(line) for line in response.text.splitlines()]
        assert [e["Path"] for e in entries] == ["a.txt", "b/big.bin", "empty", "pics/x.jpg"]
        assert {e["Path"]: e["Size"] for e in entries} == {p: len(c) for p, c in FILES.items()}
        assert entries[0]["Mode"] == 0o100644
        assert entries[0]["ModifiedUtc"] == "2023-11-14T22:13:20.000Z" and MODIFIED_MS
        wanted = [chunk for e in entries for chunk in e["ChunkIds"]]
        read = agent.post("/api/agent/chunks/read", json={"Ids": wanted})
        assert read.status_code == 200, read.text
        assert read.headers["content-type"] == "application/octet-stream"
        assert int(read.headers["content-length"]) == len(read.content)
        records = parse_records(read.content)
        assert [r.chunk_id.hex() for r in records] == wanted
        plain = {r.chunk_id.hex(): plain_form(r.codec, r.piece) for r in records}
        for entry in entries:
            assert b"".join(plain[c] for c in entry["ChunkIds"]) == FILES[entry["Path"]]


def test_the_restore_endpoints_refuse_what_is_not_the_devices(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    backup = backed_up(server, partner, FILES)
    stranger = create_device(partner_second)
    manifest = f"/api/agent/logitems/{backup.log_item_id}/manifest"
    with server.client(backup.device["ApiKey"]) as agent:
        ids = [json.loads(line)["ChunkIds"] for line in agent.get(manifest).text.splitlines()]
        some = [chunk for chunks in ids for chunk in chunks][:3]
    with server.client(stranger["ApiKey"]) as other:
        assert other.get(manifest).status_code == 404
        missing = other.post("/api/agent/chunks/read", json={"Ids": some})
        assert missing.status_code == 404
        error = missing.json()["error"]
        assert error["code"] == "chunk_missing" and error["ids"] == some
    assert partner.client.get(manifest).status_code == 403
    with server.client(backup.device["ApiKey"]) as agent:
        for body in ({"Ids": []}, {"Ids": ["AB" * 32]}, {"Ids": ["ab"]}, {"Ids": [5]}, {},
                     {"Ids": ["ab" * 32] * 1001}):  # fmt: skip
            refused = agent.post("/api/agent/chunks/read", json=body)
            assert refused.status_code == 400, body
            assert refused.json()["error"]["code"] == "validation_failed"
        unknown = agent.post("/api/agent/chunks/read", json={"Ids": ["00" * 32, some[0]]})
        assert unknown.status_code == 404 and unknown.json()["error"]["ids"] == ["00" * 32]
        assert agent.get("/api/agent/logitems/99999999/manifest").status_code == 404
        remove_file(server, backup.log_item_id)
        gone = agent.get(manifest)
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "backup_file_not_available"
