"""back_up_item against a real server process over HTTPS: the check-in's own shapes, the
upload protocol, the server's file attributes, an unchanged re-run, the local copy kept
beside the cloud one, and a restore from the server."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from cleverfox.agent.backup import back_up_item, restore
from cleverfox.agent.backup.local_store import LocalStore
from cleverfox.agent.model import Committed, ItemContext, ManifestEntry, StorageParameters
from cleverfox.storage.records import parse_records
from tests.agent.backup.support import Progress, make_tree, tree_of
from tests.contract._fixtures_devices import create_device, create_item, create_job
from tests.support.server import Partner, ServerProcess


class HttpUploader:
    """The Uploader half of the agent transport, as plain HTTPS calls (the SDK's is core's)."""

    def __init__(self, agent: httpx.Client) -> None:
        self.agent = agent
        self.reported = 0

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        answer = self.agent.post(
            "/api/agent/chunks/missing", json={"Ids": [i.hex() for i in chunk_ids]}
        )
        assert answer.status_code == 200, answer.text
        found = [bytes.fromhex(i) for i in answer.json()["data"]["Missing"]]
        self.reported += len(found)
        return found

    def put_pack(self, body: bytes) -> tuple[int, int]:
        answer = self.agent.put(
            "/api/agent/packs", content=body, headers={"Content-Type": "application/octet-stream"}
        )
        assert answer.status_code == 200, answer.text
        data = answer.json()["data"]
        return data["Stored"], data["Duplicates"]

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterator[ManifestEntry]
    ) -> Committed:
        wire = [
            {
                "Path": e.path,
                "Mode": e.mode,
                "Size": e.size,
                "ModifiedUtc": e.modified_utc.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{e.modified_utc.microsecond // 1000:03d}Z",
                "ChunkIds": [i.hex() for i in e.chunk_ids],
            }
            for e in entries
        ]
        answer = self.agent.post(
            f"/api/agent/logs/{log_id}/files", json={"JobItemId": job_item_id, "Entries": wire}
        )
        assert answer.status_code in (200, 201), answer.text
        return Committed(answer.json()["data"])

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        answer = self.agent.get(f"/api/agent/logitems/{log_item_id}/manifest")
        assert answer.status_code == 200, answer.text
        for line in answer.text.splitlines():
            entry = json.loads(line)
            yield ManifestEntry(
                entry["Path"],
                entry["Mode"],
                entry["Size"],
                datetime.fromisoformat(entry["ModifiedUtc"].replace("Z", "+00:00")),
                [bytes.fromhex(i) for i in entry["ChunkIds"]],
            )

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        answer = self.agent.post(
            "/api/agent/chunks/read", json={"Ids": [i.hex() for i in chunk_ids]}
        )
        assert answer.status_code == 200, answer.text
        for record in parse_records(answer.content):
            yield bytes(record.chunk_id), record.codec, bytes(record.piece)


def run(
    server: ServerProcess, key: str, job_id: int, state: Path, started: str
) -> tuple[Any, HttpUploader, dict[str, Any]]:
    with server.client(key) as agent:
        checkin = agent.post("/api/agent/checkin", json={}).json()["data"]
        storage = checkin["Storage"]
        job = next(j for j in checkin["Jobs"] if j["JobId"] == job_id)
        log = agent.post(
            "/api/agent/logs", json={"JobId": job_id, "Trigger": "RunNow", "JobStartedOn": started}
        ).json()["data"]
        uploader = HttpUploader(agent)
        ctx = ItemContext(
            log_id=log["LogId"],
            job={**job, "ArchiveFolder": log["ArchiveFolder"]},
            item=job["JobItems"][0],
            started_on=datetime.fromisoformat(started),
            time_zone="UTC",
            storage=StorageParameters(
                base64.b64decode(storage["IdKey"]),
                storage["ChunkMinBytes"],
                storage["ChunkAvgBytes"],
                storage["ChunkMaxBytes"],
                storage["MaxPackBytes"],
            ),
            uploader=uploader,
            state_dir=state,
            progress=Progress(),
        )
        result = back_up_item(ctx)
        assert result.ok, result.errors
        finish = {
            "JobStatus": "Completed",
            "LogItems": [result.log_item],
            "BytesUploaded": result.bytes_uploaded,
        }
        finished = agent.put(f"/api/agent/logs/{log['LogId']}", json=finish)
        assert finished.status_code == 200, finished.text
        return result, uploader, finished.json()["data"]


def test_a_folder_backed_up_through_the_server_then_again_unchanged(
    server: ServerProcess, partner: Partner, tmp_path: Path
) -> None:
    base = tmp_path / "source"
    files = {f"docs/{i:02}.txt": b"document %d\n" % i * (200 * i + 1) for i in range(30)}
    files["big.bin"] = bytes(range(256)) * 8000
    files["photo.jpg"] = b"\xff\xd8" + bytes(range(256)) * 100
    make_tree(base, files)
    (base / "docs" / "link").symlink_to("00.txt")
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"], Name="Nightly", CloudKeepLast=3, LocalKeepLast=1)
    create_item(
        partner, job["JobId"], Name="Docs", BaseFolder=str(base), NoCompressExtensions="jpg"
    )
    state = tmp_path / "state"

    first, uploader, log = run(server, device["ApiKey"], job["JobId"], state, "2026-12-03T10:00:00")
    item = first.log_item
    assert item["BackupFileName"] == "Nightly-Docs-20261203-100000.zip"
    assert item["BackupListCount"] == 33
    assert first.bytes_uploaded > 0 and uploader.reported > 0
    assert log["LogItems"][0]["BackupFileSize"] == item["BackupFileSize"]
    assert log["JobStatus"] == "Completed"

    # The local copy beside the cloud one: same archive size, restorable without the server.
    folder = Path(item["BackupFolder"])
    with LocalStore(folder) as store:
        (copy,) = store.copies()
        assert copy.archive_size == item["BackupFileSize"]
        assert copy.log_item_id == log["LogItems"][0]["LogItemId"]
        restore(store, copy.copy_id, tmp_path / "restored")
    assert tree_of(tmp_path / "restored") == tree_of(base)

    again, uploader, _ = run(server, device["ApiKey"], job["JobId"], state, "2026-12-03T11:00:00")
    assert uploader.reported == 0
    assert again.bytes_uploaded == 0
    assert again.log_item["BackupFileSize"] == item["BackupFileSize"]
    assert again.log_item["BackupFileName"] == "Nightly-Docs-20261203-110000.zip"

    # And back from the server, every chunk checked against its id.
    with server.client(device["ApiKey"]) as agent:
        restored = restore(
            HttpUploader(agent),
            log["LogItems"][0]["LogItemId"],
            tmp_path / "from-server",
            id_key=key_of(agent),
        )
    assert restored.files == 33
    assert tree_of(tmp_path / "from-server") == tree_of(base)


def key_of(agent: httpx.Client) -> bytes:
    return base64.b64decode(
        agent.post("/api/agent/checkin", json={}).json()["data"]["Storage"]["IdKey"]
    )
