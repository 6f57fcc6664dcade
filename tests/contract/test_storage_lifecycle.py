"""Deleting a job, device or company deletes its backup files: Event 62 per file, Log Items stay.

The files are stored straight into the server's own database and storage folder
(``tests.support.stored``) on Logs the server made through the agent's endpoints; the
deletes go through the public API over HTTPS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.contract._fixtures_devices import (
    create_device,
    create_item,
    create_job,
    created,
    events_of,
    finish_run,
    start_run,
)
from tests.support.agent import run_backup
from tests.support.server import Partner, ServerProcess
from tests.support.stored import Store, run_of_log, server_store, store_backup

from cleverfox.server.models import Log, StorageManifest

BACKUP_FILE_DELETED = 62


@pytest.fixture
def store(server: ServerProcess) -> Iterator[Store]:
    made = server_store(server.data_dir, server.sqlalchemy_url)
    yield made
    made.db.dispose()


def _stored_run(server: ServerProcess, store: Store, device: dict[str, Any], job_id: int) -> int:
    """A completed run of the job with one stored backup file; its manifest id."""
    log = created(start_run(server, device, job_id))
    with store.db.writing() as session:
        row = session.get(Log, log["LogId"])
        assert row is not None
        run = run_of_log(session, row)
    stored = store_backup(store, run, {"report.txt": b"quarterly numbers " * 50})
    done = finish_run(server, device, log["LogId"], JobStatus="Failed")
    assert done.status_code == 200, done.text
    return stored.manifest_id


def _deleted(store: Store, manifest_id: int) -> bool:
    with store.db.reading() as session:
        found = session.scalar(
            select(StorageManifest.deleted_on).where(StorageManifest.id == manifest_id)
        )
    return found is not None


def test_deleting_a_job_deletes_its_files_with_an_event_each(
    server: ServerProcess, partner: Partner, store: Store
) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"])
    create_item(partner, job["JobId"])
    manifests = [_stored_run(server, store, device, job["JobId"]) for _ in range(2)]
    assert partner.client.delete(f"/api/jobs/{job['JobId']}").status_code == 200
    assert all(_deleted(store, m) for m in manifests)
    deleted = events_of(partner, EventTypeId=BACKUP_FILE_DELETED, JobId=job["JobId"])
    assert len(deleted) == 2
    assert {e["LogItemId"] is not None and e["LogId"] is not None for e in deleted} == {True}
    assert {e["DeviceId"] for e in deleted} == {device["DeviceId"]}
    items = partner.client.get("/api/logitems", params={"JobId": job["JobId"]})
    assert items.status_code == 200 and len(items.json()["data"]) >= 2  # Log Items stay


def test_a_device_and_a_company_deleted_take_their_remaining_files(
    server: ServerProcess, partner: Partner, store: Store
) -> None:
    company = created(
        partner.client.post(
            "/api/companies",
            json={"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": "Gone"},
        )
    )
    device = create_device(partner, company_id=company["CompanyId"])
    job = create_job(partner, device["DeviceId"])
    create_item(partner, job["JobId"])
    manifest = _stored_run(server, store, device, job["JobId"])
    with store.db.writing() as session:  # a file left behind by a job row gone without a release
        session.execute(
            update(StorageManifest)
            .where(StorageManifest.id == manifest)
            .values(job_id=job["JobId"] + 10**9)
        )
    assert partner.client.delete(f"/api/jobs/{job['JobId']}").status_code == 200
    assert not _deleted(store, manifest)
    assert partner.client.delete(f"/api/devices/{device['DeviceId']}").status_code == 200
    assert _deleted(store, manifest)
    assert (
        len(events_of(partner, EventTypeId=BACKUP_FILE_DELETED, DeviceId=device["DeviceId"])) == 1
    )


def test_a_completed_finish_keeps_cloud_keep_last_runs_and_a_failed_one_deletes_nothing(
    server: ServerProcess, partner: Partner, store: Store
) -> None:
    device = create_device(partner)
    job = create_job(partner, device["DeviceId"], CloudKeepLast=2)
    item = create_item(partner, job["JobId"])
    runs = [
        run_backup(
            server,
            device["ApiKey"],
            job["JobId"],
            item["JobItemId"],
            {"doc.txt": b"version %d " % n * 100, "same.bin": b"unchanged" * 500},
            status=status,
        )
        for n, status in enumerate(["Completed", "Completed", "Failed", "Completed"])
    ]
    with store.db.reading() as session:
        deleted = dict(
            session.execute(
                select(StorageManifest.log_id, StorageManifest.deleted_on).where(
                    StorageManifest.job_id == job["JobId"]
                )
            ).all()
        )
    # Kept: the two newest completed runs and the failed run between them.
    assert [deleted[r.log_id] is None for r in runs] == [False, True, True, True]
    events = events_of(partner, EventTypeId=BACKUP_FILE_DELETED, JobId=job["JobId"])
    assert [(e["LogId"], e["LogItemId"]) for e in events] == [(runs[0].log_id, runs[0].log_item_id)]
    gone = partner.client.get(f"/api/logitems/{runs[0].log_item_id}/downloadbackupfile")
    assert gone.status_code == 404, gone.text
    assert gone.json()["error"]["code"] == "backup_file_not_available"
    kept = partner.client.get(f"/api/logitems/{runs[3].log_item_id}/downloadbackupfile")
    assert kept.status_code == 200, kept.text
    item = partner.client.get(f"/api/logitems/{runs[0].log_item_id}").json()["data"]
    assert item["BackupFileName"] and item["BackupFileSize"]  # the Log Item keeps them
