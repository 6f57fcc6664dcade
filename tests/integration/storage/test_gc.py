"""Garbage collection on real stores: what goes, when, and that every live file stays whole."""

from __future__ import annotations

import io
import os
import threading
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from tests.support.stored import (
    Run,
    Store,
    StoredBackup,
    add_run,
    new_ids,
    read_archive,
    store_backup,
)

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.events import Actor
from cleverfox.server.models import StorageChunk, StorageCompany, StorageManifest, StoragePack
from cleverfox.server.storage.gc import GarbageCollector, GcReport, gc_lock, run_gc
from cleverfox.server.storage.retention import release_files
from cleverfox.storage.backends.errors import ObjectNotFound
from cleverfox.storage.packs import new_pack_name

HOUR = timedelta(hours=1)


def _collector(store: Store, **options: object) -> GarbageCollector:
    return GarbageCollector(store.db, store.backend, store.secret, grace=HOUR, **options)  # type: ignore[arg-type]


def _backup(store: Store, ids: tuple[int, int, int, int], files: dict[str, bytes]) -> StoredBackup:
    with store.db.writing() as session:
        run = add_run(session, *ids)
    return store_backup(store, run, files)


def _delete(store: Store, run: Run, when: datetime) -> None:
    with store.db.writing() as session:
        assert release_files(session, (StorageManifest.log_id == run.log_id,), Actor.API, when) == 1


def _files_of(store: Store, backup: StoredBackup) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(read_archive(store, backup.manifest_id))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _chunks(store: Store, company_id: int) -> set[bytes]:
    with store.db.reading() as session:
        where = StorageChunk.company_id == company_id
        return set(session.scalars(select(StorageChunk.chunk_id).where(where)))


def _totals(store: Store, company_id: int) -> tuple[int, int]:
    with store.db.reading() as session:
        row = session.get(StorageCompany, company_id)
        assert row is not None
        counted = session.execute(
            select(func.count(), func.coalesce(func.sum(StorageChunk.stored_length), 0)).where(
                StorageChunk.company_id == company_id
            )
        ).one()
        assert (row.chunk_count, row.stored_bytes) == tuple(counted)  # totals follow the rows
        return row.chunk_count, row.stored_bytes


def test_a_deleted_file_frees_only_its_own_chunks_after_the_grace(store: Store) -> None:
    ids = new_ids()
    shared = os.urandom(5000)
    kept = _backup(store, ids, {"shared.bin": shared, "kept.bin": os.urandom(3000)})
    gone = _backup(store, ids, {"shared.bin": shared, "gone.bin": os.urandom(3000)})
    before = _files_of(store, kept)
    now = utcnow()
    _delete(store, gone.run, now)
    first = _collector(store).collect(now + timedelta(minutes=5))
    assert (first.manifests_released, first.chunks_deleted) == (1, 0)  # inside the grace
    assert _chunks(store, ids[1]) == {bytes(c) for c in kept.chunk_ids | gone.chunk_ids}
    later = _collector(store).collect(now + 2 * HOUR)
    only_gone = gone.chunk_ids - kept.chunk_ids
    assert later.manifests_released == 0 and later.chunks_deleted == len(only_gone) > 0
    assert _chunks(store, ids[1]) == {bytes(c) for c in kept.chunk_ids}
    assert _totals(store, ids[1])[0] == len(kept.chunk_ids)
    assert _files_of(store, kept) == before


def test_a_chunk_revived_by_a_commit_within_the_grace_stays(store: Store) -> None:
    ids = new_ids()
    content = {"a.bin": os.urandom(4000)}
    first = _backup(store, ids, content)
    now = utcnow()
    _delete(store, first.run, now)
    _collector(store).collect(now)  # released: every chunk at refs 0, in its grace
    again = _backup(store, ids, content)  # a later run commits the same chunks
    report = _collector(store).collect(now + 2 * HOUR)
    assert report.chunks_deleted == 0
    assert _files_of(store, again) == content


def test_a_mostly_dead_pack_is_rewritten_and_its_blob_deleted_after_the_grace(
    store: Store,
) -> None:
    ids = new_ids()
    files = {f"f{n}.bin": os.urandom(4000) for n in range(6)}
    both = _backup(store, ids, files)
    small = _backup(store, ids, {"f0.bin": files["f0.bin"]})  # in the same pack as the rest
    now = utcnow()
    _delete(store, both.run, now)
    _collector(store).collect(now)
    with store.db.reading() as session:
        [old] = session.scalars(
            select(StoragePack.name).where(StoragePack.company_id == ids[1])
        ).all()
    report = _collector(store).collect(now + 2 * HOUR)
    assert (report.packs_rewritten, report.packs_written) == (1, 1)
    assert report.pack_blobs_deleted == 0  # the old pack is readable for the grace
    assert store.backend.size(old) > 0
    assert _files_of(store, small) == {"f0.bin": files["f0.bin"]}
    last = _collector(store).collect(now + 4 * HOUR)
    assert last.pack_blobs_deleted == 1
    with pytest.raises(ObjectNotFound):
        store.backend.size(old)
    assert _files_of(store, small) == {"f0.bin": files["f0.bin"]}
    with store.db.reading() as session:
        assert session.scalar(select(func.count()).where(StoragePack.name == old)) == 0


def test_a_pack_with_no_live_chunk_is_retired_without_a_copy(store: Store) -> None:
    ids = new_ids()
    gone = _backup(store, ids, {"a.bin": os.urandom(3000)})
    now = utcnow()
    _delete(store, gone.run, now)
    _collector(store).collect(now)
    report = _collector(store).collect(now + 2 * HOUR)
    assert (report.packs_retired, report.packs_written) == (1, 0)
    assert report.manifest_blobs_deleted == 1  # deleted an hour (the grace) before
    final = _collector(store).collect(now + 4 * HOUR)
    assert final.pack_blobs_deleted == 1
    assert list(store.backend.list("packs/")) == list(store.backend.list("manifests/")) == []


def test_orphan_blobs_go_after_the_grace_and_named_blobs_never(store: Store) -> None:
    ids = new_ids()
    content = {"a.bin": os.urandom(3000)}
    live = _backup(store, ids, content)
    orphan = new_pack_name(ids[1])
    store.backend.put(orphan, b"an upload that crashed before its commit")
    now = utcnow()
    first = _collector(store).collect(now)
    assert (first.orphans_seen, first.orphans_deleted) == (1, 0)
    second = _collector(store).collect(now + 30 * timedelta(minutes=1))
    assert (second.orphans_seen, second.orphans_deleted) == (0, 0)
    third = _collector(store).collect(now + 2 * HOUR)
    assert third.orphans_deleted == 1
    with pytest.raises(ObjectNotFound):
        store.backend.size(orphan)
    assert _files_of(store, live) == content
    assert len(list(store.backend.list("packs/"))) == 1


def test_one_pass_at_a_time_across_processes(store: Store, tmp_path: Path) -> None:
    lock = tmp_path / "gc.lock"
    with gc_lock(store.db, lock) as first:
        assert first
        outcome: list[GcReport] = []
        other = threading.Thread(
            target=lambda: outcome.append(run_gc(_collector(store), lock, utcnow()))
        )
        other.start()
        other.join()
        assert outcome == [GcReport(ran=False)]
    assert run_gc(_collector(store), lock, utcnow()).ran


def test_an_unreadable_manifest_keeps_its_chunks(store: Store) -> None:
    ids = new_ids()
    gone = _backup(store, ids, {"a.bin": os.urandom(3000)})
    with store.db.writing() as session:
        name = session.scalar(
            select(StorageManifest.blob_name).where(StorageManifest.id == gone.manifest_id)
        )
        session.execute(
            update(StorageManifest)
            .where(StorageManifest.id == gone.manifest_id)
            .values(blob_name=f"{name}x")  # points at a blob that is not there
        )
    now = utcnow()
    _delete(store, gone.run, now)
    report = _collector(store).collect(now + 2 * HOUR)
    assert report.manifests_unreadable == 1 and report.chunks_deleted == 0
    assert _chunks(store, ids[1]) == {bytes(c) for c in gone.chunk_ids}


def test_a_commit_reviving_a_chunk_while_gc_expires_it_wins(store: Store) -> None:
    ids = new_ids()
    content = {"a.bin": os.urandom(4000)}
    first = _backup(store, ids, content)
    now = utcnow()
    _delete(store, first.run, now)
    _collect(store, now)  # released: every chunk at refs 0 since now
    reviving = threading.Event()
    done = threading.Event()

    def commit() -> None:  # a commit's transaction: chunk rows locked and revived, then held
        with store.db.writing() as session:
            session.execute(
                update(StorageChunk)
                .where(StorageChunk.company_id == ids[1])
                .values(refs=StorageChunk.refs + 1, unreferenced_since=None)
            )
            reviving.set()
            done.wait(1.0)

    committer = threading.Thread(target=commit)
    committer.start()
    assert reviving.wait(10)
    report = GcReport()
    _collector(store).expire_chunks(now + 2 * HOUR, report)
    done.set()
    committer.join()
    assert report.chunks_deleted == 0
    assert _chunks(store, ids[1]) == {bytes(c) for c in first.chunk_ids}


def _collect(store: Store, now: datetime) -> None:
    _collector(store).collect(now)


def test_a_pack_that_cannot_be_read_is_left_and_the_pass_goes_on(store: Store) -> None:
    ids = new_ids()
    files = {f"f{n}.bin": os.urandom(4000) for n in range(6)}
    both = _backup(store, ids, files)
    _backup(store, ids, {"f0.bin": files["f0.bin"]})
    orphan = new_pack_name(ids[1])
    store.backend.put(orphan, b"left by a crashed upload")
    now = utcnow()
    _delete(store, both.run, now)
    _collect(store, now)
    with store.db.reading() as session:
        [name] = session.scalars(select(StoragePack.name)).all()
    store.backend.delete(name)  # lost behind the server's back
    report = _collector(store).collect(now + 2 * HOUR)
    assert (report.packs_unreadable, report.packs_rewritten) == (1, 0)
    assert report.chunks_deleted > 0 and report.orphans_deleted == 1  # the rest still ran
