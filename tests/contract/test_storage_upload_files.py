"""Committing backup files over HTTPS (``POST /api/agent/logs/{LogId}/files``): the Log
Item's file attributes, StoredBytes, validation, missing chunks, paging, idempotency, the
Log's state, CloudKeepLast 0, the storage limit, and the finish that follows."""

from __future__ import annotations

import os
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    created,
    database,
    event_type_ids,
)
from tests.support.agent import (
    File,
    Terms,
    agent_client,
    manifest_of,
    ok,
    run_backup,
    terms_of,
    upload_chunks,
)
from tests.support.server import Partner, ServerProcess

from cleverfox.server.models import Mail, StorageChunk, StorageCompany, StorageManifest
from cleverfox.storage.listing import HEADER, list_line

FILES: dict[str, File | bytes] = {
    "docs/readme.txt": b"hello world\n" * 1000,
    "docs/empty.txt": b"",
    "photos/cat.jpg": File(os.urandom(70_000), modified_utc="2023-01-02T03:04:05.678Z"),
    "big.bin": os.urandom(600_000),
}


@dataclass
class Setup:
    device: dict[str, Any]
    job: dict[str, Any]
    item: dict[str, Any]

    @property
    def key(self) -> str:
        return str(self.device["ApiKey"])


def setup(partner: Partner, *, cloud_keep_last: int = 7, **item: Any) -> Setup:
    device = create_device(partner)
    job = create_job(
        partner, device["DeviceId"], Name="Nightly: C/D", CloudKeepLast=cloud_keep_last
    )
    return Setup(device, job, create_item(partner, job["JobId"], Name="Docs*", **item))


def start(agent: httpx.Client, made: Setup) -> int:
    body = {"JobId": made.job["JobId"], "Trigger": "RunNow", "JobStartedOn": "2024-06-07T08:09:10"}
    log_id: int = ok(agent.post("/api/agent/logs", json=body), 201)["LogId"]
    return log_id


def commit(agent: httpx.Client, log_id: int, body: dict[str, Any]) -> httpx.Response:
    return agent.post(f"/api/agent/logs/{log_id}/files", json=body)


def prepared(
    server: ServerProcess, made: Setup, files: dict[str, File | bytes] = FILES
) -> tuple[httpx.Client, Terms, list[dict[str, Any]]]:
    """An agent whose chunks of ``files`` are uploaded; the entries to commit."""
    agent = agent_client(server, made.key)
    terms = terms_of(agent)
    entries, records = manifest_of(terms, files)
    upload_chunks(agent, terms, records)
    return agent, terms, entries


def expected_list_size(files: dict[str, File | bytes]) -> int:
    size = len(HEADER)
    for path, given in files.items():
        file = given if isinstance(given, File) else File(given)
        stamp = datetime.fromisoformat(file.modified_utc.replace("Z", "+00:00"))
        ms = int(stamp.astimezone(UTC).timestamp() * 1000)
        size += len(list_line(path, len(file.content), ms))
    return size


def test_a_run_commits_its_backup_file_and_the_log_item_shows_it(
    server: ServerProcess, partner: Partner
) -> None:
    made = setup(partner)
    result = run_backup(
        server,
        made.key,
        made.job["JobId"],
        made.item["JobItemId"],
        FILES,
        job_started_on="2024-06-07T08:09:10",
        finish=False,
    )
    item = result.log_item
    assert item is not None
    assert item["BackupFileName"] == "Nightly_ C_D-Docs_-20240607-080910.zip"
    assert item["BackupListName"] == "Nightly_ C_D-Docs_-20240607-080910.txt"
    assert item["BackupListCount"] == 4
    assert item["BackupListSize"] == expected_list_size(FILES)
    assert item["BackupFileSize"] > 670_000
    assert item["StoredBytes"] > 670_000 and result.stored > 0
    assert item["JobItemId"] == made.item["JobItemId"] and item["Name"] == "Docs*"
    assert partner.client.get(f"/api/logitems/{item['LogItemId']}").json()["data"] == item
    # The finish keeps the server's file attributes; the agent's copy is ignored.
    with agent_client(server, made.key) as agent:
        report = {
            "JobItemId": made.item["JobItemId"],
            "BackupFileName": "agent.zip",
            "BackupFileSize": 1,
            "ServerVersion": "15.0",
        }
        body = {"JobStatus": "Completed", "LogItems": [report], "BytesUploaded": 123}
        done = ok(agent.put(f"/api/agent/logs/{result.log_id}", json=body))
    [logged] = done["LogItems"]
    assert logged["LogItemId"] == item["LogItemId"] and logged["ServerVersion"] == "15.0"
    assert (logged["BackupFileName"], logged["BackupFileSize"]) == (
        item["BackupFileName"],
        item["BackupFileSize"],
    )
    assert done["BytesUploaded"] == 123
    with database(server) as session:
        row = session.scalars(
            select(StorageManifest).where(StorageManifest.log_item_id == item["LogItemId"])
        ).one()
        assert (row.entry_count, row.archive_size) == (4, item["BackupFileSize"])
        assert row.stored_bytes == item["StoredBytes"] and row.log_id == result.log_id
        refs = session.scalars(
            select(StorageChunk.refs).where(StorageChunk.company_id == partner.company_id)
        ).all()
        assert set(refs) == {1} and len(refs) == row.chunk_count
    # An unchanged re-run uploads and stores nothing new.
    again = run_backup(server, made.key, made.job["JobId"], made.item["JobItemId"], FILES)
    assert again.stored == 0 and again.log_item is not None
    assert again.log_item["StoredBytes"] == 0
    assert again.log_item["BackupFileSize"] == item["BackupFileSize"]
    with database(server) as session:
        refs = session.scalars(
            select(StorageChunk.refs).where(StorageChunk.company_id == partner.company_id)
        ).all()
        assert set(refs) == {2}


@pytest.mark.parametrize(
    ("entry", "attribute"),
    [
        ({"Path": "/etc/passwd"}, "Entries[0].Path"),
        ({"Path": ""}, "Entries[0].Path"),
        ({"Path": "a/./b"}, "Entries[0].Path"),
        ({"Path": "a/../../b"}, "Entries[0].Path"),
        ({"Path": "a\\..\\..\\b"}, "Entries[0].Path"),
        ({"Path": "a//b"}, "Entries[0].Path"),
        ({"Path": 5}, "Entries[0].Path"),
        ({"Mode": -1}, "Entries[0].Mode"),
        ({"Mode": 0o040755}, "Entries[0].Mode"),
        ({"Size": "12"}, "Entries[0].Size"),
        ({"ModifiedUtc": "yesterday"}, "Entries[0].ModifiedUtc"),
        ({"ChunkIds": ["AB" * 32]}, "Entries[0].ChunkIds"),
        ({"ChunkIds": "ab"}, "Entries[0].ChunkIds"),
    ],
)
def test_a_bad_entry_is_validation_failed_naming_it(
    server: ServerProcess, partner: Partner, entry: dict[str, Any], attribute: str
) -> None:
    made = setup(partner)
    with agent_client(server, made.key) as agent:
        log_id = start(agent, made)
        good = {"Path": "a.txt", "Mode": 0o100644, "Size": 0, "ModifiedUtc": "2024-01-01T00:00:00Z"}
        body = {"JobItemId": made.item["JobItemId"], "Entries": [{**good, "ChunkIds": [], **entry}]}
        response = commit(agent, log_id, body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert [e["attribute"] for e in error["errors"]] == [attribute], error


def test_sizes_duplicates_and_job_items_are_checked(
    server: ServerProcess, partner: Partner
) -> None:
    made = setup(partner)
    other = setup(partner)
    agent, _terms, entries = prepared(server, made, {"a.txt": b"x" * 5000, "b.txt": b"y" * 10})
    with closing(agent):
        log_id = start(agent, made)
        wrong_size = [{**entries[0], "Size": 4999}, entries[1]]
        response = commit(
            agent, log_id, {"JobItemId": made.item["JobItemId"], "Entries": wrong_size}
        )
        assert response.status_code == 400 and "'a.txt'" in response.text, response.text
        twice = [entries[0], entries[0]]
        response = commit(agent, log_id, {"JobItemId": made.item["JobItemId"], "Entries": twice})
        assert response.status_code == 400 and "a.txt" in response.text, response.text
        foreign = {"JobItemId": other.item["JobItemId"], "Entries": entries}
        response = commit(agent, log_id, foreign)
        assert response.status_code == 400
        assert response.json()["error"]["errors"][0]["attribute"] == "JobItemId"
        assert commit(agent, 10**12, foreign).status_code == 404
        assert commit(agent, log_id, {"Entries": entries}).status_code == 400  # no JobItemId
    refused = partner.client.post(f"/api/agent/logs/{log_id}/files", json=foreign)
    assert refused.status_code == 403
    with agent_client(server, other.key) as stranger:  # another device's Log
        assert commit(stranger, log_id, foreign).status_code == 404


def test_missing_chunks_are_listed(server: ServerProcess, partner: Partner) -> None:
    made = setup(partner)
    with agent_client(server, made.key) as agent:
        terms = terms_of(agent)
        files: dict[str, File | bytes] = {f"f{n}.bin": os.urandom(1000) for n in range(1200)}
        entries, records = manifest_of(terms, files)
        upload_chunks(agent, terms, records[:100])
        log_id = start(agent, made)
        response = commit(agent, log_id, {"JobItemId": made.item["JobItemId"], "Entries": entries})
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "chunk_missing" and error["missing_count"] == 1100
        assert len(error["ids"]) == 1000
        assert set(error["ids"]) <= {chunk.hex() for chunk, _ in records[100:]}
        upload_chunks(agent, terms, records)
        done = commit(agent, log_id, {"JobItemId": made.item["JobItemId"], "Entries": entries})
        assert done.status_code == 201 and done.json()["data"]["BackupListCount"] == 1200


def test_commits_are_idempotent_per_log_and_job_item(
    server: ServerProcess, partner: Partner
) -> None:
    made = setup(partner)
    agent, _terms, entries = prepared(server, made, {"a.txt": b"a" * 3000, "b.txt": b"b" * 3000})
    with closing(agent):
        log_id = start(agent, made)
        body = {"JobItemId": made.item["JobItemId"], "Entries": entries}
        first = commit(agent, log_id, body)
        assert first.status_code == 201, first.text
        assert first.headers.get("location") is None or "logitems" in first.headers["location"]
        reordered = {**body, "Entries": list(reversed(entries))}  # the server sorts
        again = commit(agent, log_id, reordered)
        assert again.status_code == 200 and again.json()["data"] == first.json()["data"]
        different = commit(agent, log_id, {**body, "Entries": entries[:1]})
        assert different.status_code == 409
        assert different.json()["error"]["code"] == "files_already_committed"
        finish = {"JobStatus": "Completed"}
        ok(agent.put(f"/api/agent/logs/{log_id}", json=finish))
        after = commit(agent, log_id, body)  # a retry after the finish still answers
        assert after.status_code == 200 and after.json()["data"] == first.json()["data"]
    with database(server) as session:
        rows = session.scalars(select(StorageManifest).where(StorageManifest.log_id == log_id))
        assert len(rows.all()) == 1
        refs = session.scalars(
            select(StorageChunk.refs).where(StorageChunk.company_id == partner.company_id)
        ).all()
        assert set(refs) == {1}


def test_only_a_running_log_with_cloud_copies_takes_files(
    server: ServerProcess, partner: Partner
) -> None:
    made = setup(partner)
    agent, _terms, entries = prepared(server, made, {"a.txt": b"a" * 100})
    with closing(agent):
        log_id = start(agent, made)
        ok(agent.put(f"/api/agent/logs/{log_id}", json={"JobStatus": "Failed"}))
        response = commit(agent, log_id, {"JobItemId": made.item["JobItemId"], "Entries": entries})
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "log_not_running"
    local_only = setup(partner, cloud_keep_last=0)
    with agent_client(server, local_only.key) as agent:
        log_id = start(agent, local_only)
        body = {"JobItemId": local_only.item["JobItemId"], "Entries": entries}
        response = commit(agent, log_id, body)
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "cloud_copies_disabled"


def test_a_large_tree_is_sent_in_pages(server: ServerProcess, partner: Partner) -> None:
    made = setup(partner)
    files: dict[str, File | bytes] = {f"dir/{n:04}.txt": f"file {n}".encode() for n in range(30)}
    agent, _terms, entries = prepared(server, made, files)
    with closing(agent):
        log_id = start(agent, made)
        job_item_id = made.item["JobItemId"]
        page = {"JobItemId": job_item_id, "More": True}
        staged = commit(agent, log_id, {**page, "Entries": entries[:10], "PageNo": 1})
        assert staged.status_code == 202 and staged.json()["data"] == {"Staged": 10}
        staged = commit(agent, log_id, {**page, "Entries": entries[10:20], "PageNo": 2})
        assert staged.json()["data"] == {"Staged": 20}
        resent = commit(agent, log_id, {**page, "Entries": entries[10:20], "PageNo": 2})
        assert resent.json()["data"] == {"Staged": 20}  # a resent page replaces itself
        last = {"JobItemId": job_item_id, "Entries": entries[20:], "PageNo": 3}
        done = commit(agent, log_id, last)
        assert done.status_code == 201, done.text
        assert done.json()["data"]["BackupListCount"] == 30
        whole = commit(agent, log_id, {"JobItemId": job_item_id, "Entries": entries})
        assert whole.status_code == 200  # the same manifest, sent in one piece
        assert whole.json()["data"]["LogItemId"] == done.json()["data"]["LogItemId"]
        # Paged duplicates are found across pages.
        item = create_item(partner, made.job["JobId"], Name="Second")
        page = {"JobItemId": item["JobItemId"], "More": True}
        assert commit(agent, log_id, {**page, "Entries": entries[:2]}).status_code == 202
        clash = commit(agent, log_id, {"JobItemId": item["JobItemId"], "Entries": entries[1:3]})
        assert clash.status_code == 400 and entries[1]["Path"] in clash.text


def test_the_storage_limit_refuses_new_data_once_and_mails_once_a_day(
    server: ServerProcess, partner: Partner
) -> None:
    device = create_device(
        partner, SendNotificationTo="ops@example.com", SendNotificationOnJobFailed=True
    )
    job = create_job(partner, device["DeviceId"])
    item = create_item(partner, job["JobId"])
    made = Setup(device, job, item)
    first = run_backup(server, made.key, job["JobId"], item["JobItemId"], {"a.txt": b"a" * 999})
    assert first.log_item is not None
    with database(server) as session:  # as if the company had filled its 2,500 GB
        session.execute(
            update(StorageCompany)
            .where(StorageCompany.company_id == partner.company_id)
            .values(stored_bytes=2500 * 10**9 + 1)
        )
    agent, _terms, entries = prepared(server, made, {"new.bin": os.urandom(5000)})
    with closing(agent):
        for _ in range(2):
            log_id = start(agent, made)
            body = {"JobItemId": item["JobItemId"], "Entries": entries}
            refused = commit(agent, log_id, body)
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["code"] == "storage_limit_reached"
            ok(agent.put(f"/api/agent/logs/{log_id}", json={"JobStatus": "Failed"}))
    # Committing only what is stored already adds nothing, and passes.
    unchanged = run_backup(server, made.key, job["JobId"], item["JobItemId"], {"a.txt": b"a" * 999})
    assert unchanged.log_item is not None and unchanged.log_item["StoredBytes"] == 0
    assert event_type_ids(partner, JobId=job["JobId"]).count(80) == 2
    with database(server) as session:
        mails = session.scalars(
            select(Mail).where(Mail.partner_id == partner.partner_id, Mail.kind == "storage_limit")
        ).all()
        assert len(mails) == 1 and mails[0].to_addresses == "ops@example.com"
        assert "storage limit" in mails[0].subject.lower()
        company = session.get(StorageCompany, partner.company_id)
        assert company is not None and company.limit_mailed_on is not None
    assert created(partner.client.get(f"/api/logitems/{first.log_item_id}"))


def test_a_manifest_cannot_point_at_another_companys_chunks(
    server: ServerProcess, partner: Partner, partner_second: Partner
) -> None:
    theirs = setup(partner_second)
    their_agent, _terms, their_entries = prepared(server, theirs, {"secret.txt": b"s" * 4000})
    their_agent.close()
    mine = setup(partner)
    with agent_client(server, mine.key) as agent:
        log_id = start(agent, mine)
        body = {"JobItemId": mine.item["JobItemId"], "Entries": their_entries}
        response = commit(agent, log_id, body)
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "chunk_missing"
        assert error["ids"] == their_entries[0]["ChunkIds"]
