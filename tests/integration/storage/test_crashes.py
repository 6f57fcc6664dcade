"""kill -9 during a commit and during a GC pass: afterwards the store checks clean with
``--read-data``, every committed backup file is byte for byte what was stored, and the next
passes reclaim whatever the dead process left (orphan blobs, unindexed packs).

The dying process is ``tests.support.crash_child``: the server's own write order (pack put,
index, manifest put, manifest row) and GC code, killed by SIGKILL just before or just after
its n-th backend write — every point between two durable steps.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.support.crash_child import seeded_files
from tests.support.stored import Store, StoredBackup, add_run, read_archive, store_backup

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.events import Actor
from cleverfox.server.models import StorageManifest, StoragePack
from cleverfox.server.storage.check import check_storage
from cleverfox.server.storage.gc import GarbageCollector
from cleverfox.server.storage.retention import release_files

ROOT = Path(__file__).resolve().parents[3]
GRACE = timedelta(hours=1)
IDS = (9_000_001, 9_000_002, 9_000_003, 9_000_004)  # the child's partner … job


def _child(store_dir: Path, url: str, *args: object) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.crash_child", str(store_dir), url, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, -9), done.stderr[-3000:]
    return done.returncode


def _backup(store: Store, seed: int) -> StoredBackup:
    with store.db.writing() as session:
        run = add_run(session, *IDS)
    return store_backup(store, run, seeded_files(seed))


def _files(store: Store, manifest_id: int) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(read_archive(store, manifest_id))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _assert_whole(store: Store, expected: dict[int, dict[str, bytes]]) -> None:
    """Clean with --read-data, and every live backup file has exactly its bytes."""
    report = check_storage(store.db, store.backend, store.secret, read_data=True)
    assert report.ok, report.as_dict()
    with store.db.reading() as session:
        live = set(
            session.scalars(select(StorageManifest.id).where(StorageManifest.deleted_on.is_(None)))
        )
    assert set(expected) <= live
    for manifest_id in live:
        assert _files(store, manifest_id) == expected.get(manifest_id, _files(store, manifest_id))
    for manifest_id, files in expected.items():
        assert _files(store, manifest_id) == files


def _collect(store: Store, now: datetime) -> None:
    GarbageCollector(store.db, store.backend, store.secret, grace=GRACE).collect(now)


def _blobs_all_named(store: Store) -> None:
    with store.db.reading() as session:
        named = set(session.scalars(select(StoragePack.name)))
        named |= set(
            session.scalars(
                select(StorageManifest.blob_name).where(StorageManifest.blob_deleted_on.is_(None))
            )
        )
    stored = {
        info.name for prefix in ("packs/", "manifests/") for info in store.backend.list(prefix)
    }
    assert stored == named


@pytest.mark.parametrize("kill_at", [1, -1, 2, -2])
def test_a_commit_killed_at_any_write_loses_nothing_committed(
    store: Store, store_url: str, tmp_path: Path, kill_at: int
) -> None:
    expected = {b.manifest_id: seeded_files(seed) for seed, b in ((1, _backup(store, 1)),)}
    assert _child(tmp_path, store_url, "commit", kill_at, 7) == -9
    _assert_whole(store, expected)
    with store.db.reading() as session:
        assert session.scalar(select(StorageManifest.id).where(StorageManifest.id > 1)) is None
    again = _backup(store, 7)  # the agent's retry of the run that died
    expected[again.manifest_id] = seeded_files(7)
    _assert_whole(store, expected)
    now = utcnow()
    _collect(store, now)  # orphans seen
    _collect(store, now + 2 * GRACE)  # and gone
    _assert_whole(store, expected)
    _blobs_all_named(store)


@pytest.mark.parametrize(("step", "kill_at"), [(2, 1), (2, -1), (3, 1), (3, -1), (3, 2)])
def test_a_gc_pass_killed_at_any_write_loses_nothing_live(
    store: Store, store_url: str, tmp_path: Path, step: int, kill_at: int
) -> None:
    backups = {seed: _backup(store, seed) for seed in range(1, 7)}
    now = utcnow()
    with store.db.writing() as session:
        gone = [backups[s].manifest_id for s in range(1, 5)]
        release_files(session, (StorageManifest.id.in_(gone),), Actor.API, now)
    expected = {backups[s].manifest_id: seeded_files(s) for s in (5, 6)}
    passes = [now, now + 2 * GRACE, now + 4 * GRACE, now + 6 * GRACE]
    for moment in passes[: step - 1]:
        _collect(store, moment)
    at = passes[step - 1]
    status = _child(tmp_path, store_url, "gc", kill_at, at.isoformat(), GRACE.total_seconds())
    assert status == -9, "the pass should have reached that write"
    _assert_whole(store, expected)
    for moment in passes[step - 1 :]:
        _collect(store, moment)
        _assert_whole(store, expected)
    _collect(store, passes[-1] + 2 * GRACE)  # the orphans a kill left, once past the grace
    _blobs_all_named(store)
