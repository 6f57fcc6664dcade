"""The agent transport's storage calls against the real server (now on main): a file cut
into chunks, missing → packs → a paged manifest commit → finish, then the manifest and the
chunks read back for a restore; and the refusals the server answers, as the SDK's errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from cleverfox.client import errors
from cleverfox.client.agent import AgentClient, StorageInfo
from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.ids import chunk_id
from cleverfox.storage.pieces import make_piece, open_piece
from cleverfox.storage.records import encode_records
from tests.contract._fixtures_devices import create_device, create_item, create_job
from tests.support.server import Partner, ServerProcess

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    path: str
    mode: int
    size: int
    modified_utc: datetime
    chunk_ids: tuple[bytes, ...]


@pytest.fixture
def device(partner: Partner) -> dict[str, Any]:
    return create_device(partner)


@pytest.fixture
def agent(server: ServerProcess, device: dict[str, Any]) -> Iterator[AgentClient]:
    with AgentClient(server.url, device["ApiKey"], fingerprint=server.fingerprint) as made:
        yield made


def chunks_of(storage: StorageInfo, content: bytes) -> list[tuple[bytes, bytes]]:
    params = ChunkingParams(
        storage.chunk_min_bytes, storage.chunk_avg_bytes, storage.chunk_max_bytes
    )
    return [
        (bytes(chunk_id(storage.id_key, c)), bytes(c))
        for c in Chunker(params).chunks_of_bytes(content)
    ]


def test_a_backup_is_uploaded_committed_in_pages_and_read_back(
    agent: AgentClient, partner: Partner, device: dict[str, Any]
) -> None:
    job = create_job(partner, device["DeviceId"])
    item = create_item(partner, job["JobId"])
    storage = agent.checkin().storage
    assert storage is not None
    files = {f"docs/file-{n:03}.bin": os.urandom(300_000 + n) for n in range(30)}
    files["docs/empty"] = b""
    entries, records = [], {}
    for path, content in files.items():
        chunks = chunks_of(storage, content)
        records.update({cid: make_piece(data, True) for cid, data in chunks})
        entries.append(Entry(path, 0o100644, len(content), WHEN, tuple(cid for cid, _ in chunks)))

    log = agent.start_log(job["JobId"], trigger="RunNow")
    missing = agent.missing(list(records))
    assert sorted(missing) == sorted(records)
    stored, duplicates = agent.put_pack(
        encode_records((cid, int(records[cid].codec), records[cid].data) for cid in missing)
    )
    assert (stored, duplicates) == (len(records), 0)
    assert agent.missing(list(records)) == []
    agent.commit_page_bytes = 2_000  # force several staged pages
    committed = agent.commit_files(log["LogId"], item["JobItemId"], iter(entries))
    agent.finish_log(
        log["LogId"],
        status="Completed",
        log_items=[{"JobItemId": item["JobItemId"]}],
        bytes_uploaded=123,
    )

    assert committed["LogItemId"] and committed["BackupFileSize"] > 0
    back = list(agent.manifest(committed["LogItemId"]))
    assert sorted(e.path for e in back) == sorted(files)
    wanted = [cid for e in back for cid in e.chunk_ids]
    read = list(agent.read_chunks(wanted))
    assert [cid for cid, _, _ in read] == wanted
    plain = {
        cid: open_piece(codec, piece, storage.id_key, cid, storage.chunk_max_bytes)
        for cid, codec, piece in read
    }
    for entry in back:
        assert b"".join(plain[cid] for cid in entry.chunk_ids) == files[entry.path]


def test_a_commit_naming_chunks_the_server_lacks_is_chunk_missing(
    agent: AgentClient, partner: Partner, device: dict[str, Any]
) -> None:
    job = create_job(partner, device["DeviceId"])
    item = create_item(partner, job["JobId"])
    log = agent.start_log(job["JobId"], trigger="RunNow")
    absent = bytes([9] * 32)

    with pytest.raises(errors.Conflict) as refused:
        agent.commit_files(
            log["LogId"], item["JobItemId"], iter([Entry("a", 0o100644, 1, WHEN, (absent,))])
        )

    assert refused.value.code == "chunk_missing"
    assert refused.value.body["ids"] == [absent.hex()]


def test_a_pack_with_a_piece_that_does_not_match_its_id_is_refused(agent: AgentClient) -> None:
    wrong = bytes([1] * 32)
    piece = make_piece(b"some bytes", True)

    with pytest.raises(errors.BadRequest) as refused:
        agent.put_pack(encode_records([(wrong, int(piece.codec), piece.data)]))

    assert refused.value.code == "chunk_invalid"
    assert refused.value.body["id"] == wrong.hex()


def test_progress_reaches_the_running_log(
    agent: AgentClient, partner: Partner, device: dict[str, Any]
) -> None:
    job = create_job(partner, device["DeviceId"])
    log = agent.start_log(job["JobId"], trigger="RunNow")

    agent.progress(log["LogId"], {"FilesDone": 3, "FilesTotal": 9, "BytesDone": 100})

    shown = partner.client.get(f"/api/logs/{log['LogId']}").json()["data"]
    assert shown["Progress"]["FilesDone"] == 3 and shown["Progress"]["FilesTotal"] == 9
