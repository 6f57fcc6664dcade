"""The storage check finds each kind of damage and names the files it hurts; stats add up."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import delete, select
from tests.support.stored import Store, StoredBackup, add_run, new_ids, store_backup

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.events import Actor
from cleverfox.server.models import StorageChunk, StorageManifest, StoragePack
from cleverfox.server.storage.check import CheckReport, check_storage
from cleverfox.server.storage.retention import release_files
from cleverfox.server.storage.stats import storage_stats
from cleverfox.storage.ids import chunk_id_hex


def _backups(store: Store) -> tuple[StoredBackup, StoredBackup]:
    ids = new_ids()
    shared = os.urandom(4000)
    made = []
    for own in (b"first", b"second"):
        with store.db.writing() as session:
            run = add_run(session, *ids)
        made.append(store_backup(store, run, {"shared.bin": shared, "own.txt": own * 100}))
    return made[0], made[1]


def _check(store: Store, read_data: bool = False) -> CheckReport:
    return check_storage(store.db, store.backend, store.secret, read_data=read_data)


def _pack_file(store: Store, tmp_path: Path) -> tuple[str, Path]:
    with store.db.reading() as session:
        name = session.scalars(select(StoragePack.name).order_by(StoragePack.id)).first()
    assert name is not None  # the first pack: it holds the chunks both files share
    return name, tmp_path / "storage" / name


def _files(report: CheckReport) -> set[int]:
    return {f["LogItemId"] for d in report.damaged_chunks for f in d.files}


def test_a_whole_store_checks_clean_with_and_without_reading_data(store: Store) -> None:
    first, second = _backups(store)
    report = _check(store, read_data=True)
    assert report.ok, report.as_dict()
    assert (report.companies, report.manifests) == (1, 2)
    assert report.chunks == len(first.chunk_ids | second.chunk_ids)
    assert report.bytes_read > 0
    assert _check(store).ok


def test_a_flipped_byte_in_a_piece_is_found_by_reading_data(store: Store, tmp_path: Path) -> None:
    _backups(store)
    _, path = _pack_file(store, tmp_path)
    data = bytearray(path.read_bytes())
    data[20] ^= 0x01  # inside the first sealed piece
    path.write_bytes(bytes(data))
    assert _check(store).ok  # the index and trailer still agree: only reading finds it
    report = _check(store, read_data=True)
    assert not report.ok
    [damaged] = report.damaged_chunks
    assert "piece is damaged" in damaged.problem
    assert damaged.files  # at least one backup file needs it


def test_a_missing_pack_damages_every_chunk_in_it_and_names_both_files(
    store: Store, tmp_path: Path
) -> None:
    first, second = _backups(store)
    name, path = _pack_file(store, tmp_path)
    path.unlink()
    report = _check(store)
    assert {d.problem for d in report.damaged_chunks} == {"its pack is missing"}
    assert len(report.damaged_chunks) == len(first.chunk_ids)
    assert {d.pack for d in report.damaged_chunks} == {name}
    assert _files(report) == {first.run.log_item_id, second.run.log_item_id}


def test_a_chunk_lost_from_the_index_and_a_lost_manifest_are_reported(store: Store) -> None:
    first, second = _backups(store)
    only_first = sorted(first.chunk_ids - second.chunk_ids)[0]
    with store.db.writing() as session:
        session.execute(delete(StorageChunk).where(StorageChunk.chunk_id == bytes(only_first)))
        blob = session.scalar(
            select(StorageManifest.blob_name).where(StorageManifest.id == second.manifest_id)
        )
    assert blob is not None
    store.backend.delete(blob)
    report = _check(store)
    [chunk] = report.damaged_chunks
    assert (chunk.chunk_id, chunk.problem) == (chunk_id_hex(only_first), "not in the index")
    assert chunk.files == [{"LogId": first.run.log_id, "LogItemId": first.run.log_item_id}]
    [lost] = report.damaged_files
    assert lost.log_item_id == second.run.log_item_id
    as_json = report.as_dict()
    assert as_json["Ok"] is False and len(as_json["DamagedBackupFiles"]) == 1


def test_stats_count_stored_bytes_dedup_and_garbage(store: Store) -> None:
    first, second = _backups(store)
    [before] = storage_stats(store.db)
    assert before["Chunks"] == len(first.chunk_ids | second.chunk_ids)
    assert before["BackupFiles"] == 2 and before["Packs"] >= 1
    assert before["LogicalBytes"] == 2 * (4000 + 500) + 100
    assert before["DedupRatio"] == round(before["LogicalBytes"] / before["StoredBytes"], 3)
    with store.db.writing() as session:
        release_files(session, (StorageManifest.id == first.manifest_id,), Actor.API, utcnow())
    [after] = storage_stats(store.db)
    assert (after["BackupFiles"], after["FilesToRelease"]) == (1, 1)
