"""back_up_item end to end on real files, into a real local store (no server), and back."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

from cleverfox.agent.backup import back_up_item, restore
from cleverfox.agent.backup.files_cache import FileFacts, FilesCache
from cleverfox.agent.backup.local_store import LocalStore
from cleverfox.agent.backup.spool import to_entry
from cleverfox.storage.manifest import sort_entries
from tests.agent.backup.support import OLD, STORAGE, Counting, Progress, context, make_tree, tree_of


def random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def sample_tree(base: Path) -> dict[str, bytes]:
    files = {
        "empty.txt": b"",
        "docs/ünïcödé ☃.txt": "grüße\n".encode() * 300,
        "docs/big.bin": random_bytes(300_000, 1),
        "photos/a.JPG": random_bytes(20_000, 2),
        "text/log.txt": b"line of a log file\n" * 5000,
    }
    files.update({f"many/{i:03}.txt": f"small file {i}\n".encode() * (i + 1) for i in range(150)})
    make_tree(base, files)
    (base / "docs" / "link").symlink_to("ünïcödé ☃.txt")
    os.utime(base / "docs" / "link", (OLD, OLD), follow_symlinks=False)
    return files


def test_a_first_backup_then_a_restore_gives_the_tree_back(tmp_path: Path) -> None:
    base = tmp_path / "source"
    sample_tree(base)
    store = LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key)
    uploader = Counting(store)
    progress = Progress()
    ctx = context(
        tmp_path, base, uploader=uploader, progress=progress, item={"NoCompressExtensions": "jpg"}
    )
    result = back_up_item(ctx)
    assert result.errors == [] and result.warnings == []
    assert result.ok
    log_item = result.log_item
    assert log_item["JobItemId"] == 70
    assert log_item["BackupFileName"] == "Nightly-Documents-20261203-143001.zip"
    assert log_item["BackupListName"] == "Nightly-Documents-20261203-143001.txt"
    assert log_item["BackupListCount"] == 156
    assert log_item["BackupFolder"] is None
    assert progress.planned_files == progress.done_files == 156
    assert progress.done_bytes == progress.planned_bytes
    assert result.bytes_uploaded == progress.uploaded > 0
    entries = uploader.commits[0]
    assert [e.path for e in entries] == [e.path for e in sort_entries(map(to_entry, entries))]

    target = tmp_path / "restored"
    restored = restore(uploader, 1001, target, id_key=STORAGE.id_key)
    assert restored.warnings == []
    assert tree_of(target) == tree_of(base)


def test_an_unchanged_rerun_reads_nothing_and_sends_nothing(tmp_path: Path) -> None:
    base = tmp_path / "source"
    sample_tree(base)
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    first = back_up_item(context(tmp_path, base, uploader=uploader))
    assert first.ok
    bodies = uploader.bodies
    uploader.reported.clear()
    again = back_up_item(context(tmp_path, base, uploader=uploader, log_id=2))
    assert again.ok, again.errors
    assert uploader.reported == []
    assert uploader.bodies == bodies
    assert again.bytes_uploaded == 0
    assert again.log_item["BackupFileSize"] == first.log_item["BackupFileSize"]


def test_a_five_percent_change_reuses_the_other_chunks(tmp_path: Path) -> None:
    base = tmp_path / "source"
    files = sample_tree(base)
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    assert back_up_item(context(tmp_path, base, uploader=uploader)).ok
    first_chunks = len(uploader.reported)
    uploader.reported.clear()
    # 5 % of the bytes of the big file, in the middle; and a few small files.
    big = bytearray(files["docs/big.bin"])
    big[150_000:165_000] = random_bytes(15_000, 9)
    (base / "docs" / "big.bin").write_bytes(big)
    for i in range(0, 150, 20):
        (base / "many" / f"{i:03}.txt").write_bytes(b"changed %d\n" % i)
    result = back_up_item(context(tmp_path, base, uploader=uploader, log_id=2))
    assert result.ok, result.errors
    # New chunks: the edited region of big.bin (a few) and each changed small file (one).
    assert 0 < len(uploader.reported) <= 8 + 8
    assert len(uploader.reported) < first_chunks / 5
    restored = restore(uploader, 1002, tmp_path / "restored", id_key=STORAGE.id_key)
    assert restored.files == 156
    assert tree_of(tmp_path / "restored") == tree_of(base)


def test_local_copies_only_when_cloud_keeps_none(tmp_path: Path) -> None:
    base = tmp_path / "source"
    sample_tree(base)
    results = [
        back_up_item(context(tmp_path, base, uploader=None, local_keep=2, log_id=n))
        for n in (1, 2, 3)
    ]
    assert all(r.ok for r in results), [r.errors for r in results]
    folder = tmp_path / "state" / "archive" / "job-7"
    assert results[0].log_item["BackupFolder"] == str(folder)
    assert results[0].log_item["BackupFileSize"] > 0
    assert results[2].bytes_uploaded == 0
    with LocalStore(folder) as store:
        copies = store.copies()
        assert [c.log_id for c in copies] == [2, 3]  # the newest LocalKeepLast
        restored = restore(store, copies[-1].copy_id, tmp_path / "restored")
    assert restored.files == 156
    assert tree_of(tmp_path / "restored") == tree_of(base)


class Refusing(Counting):
    def commit_files(self, log_id: int, job_item_id: int, entries: Any) -> Any:
        raise RuntimeError("storage_limit_reached: the plan's storage limit is reached")


def test_a_refused_commit_fails_the_item_and_keeps_no_local_copy(tmp_path: Path) -> None:
    base = tmp_path / "source"
    sample_tree(base)
    refusing = Refusing(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    result = back_up_item(context(tmp_path, base, uploader=refusing, local_keep=2))
    assert not result.ok
    assert result.errors == [
        "Documents: storage_limit_reached: the plan's storage limit is reached"
    ]
    with LocalStore(tmp_path / "state" / "archive" / "job-7") as store:
        assert store.copies() == []
    # Nothing was cached either: the next run reads every file again.
    info = os.stat(base / "text" / "log.txt")
    facts = FileFacts(info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)
    with FilesCache(tmp_path / "state", 70, STORAGE) as cache:
        assert cache.lookup("text/log.txt", facts) is None


def test_a_missing_base_folder_fails_the_item_with_one_line(tmp_path: Path) -> None:
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    result = back_up_item(context(tmp_path, tmp_path / "nowhere", uploader=uploader))
    assert not result.ok
    assert result.errors == [f"Documents: BaseFolder {tmp_path / 'nowhere'} does not exist"]


def test_a_job_that_keeps_no_copies_fails_at_once(tmp_path: Path) -> None:
    result = back_up_item(context(tmp_path, tmp_path, uploader=None, local_keep=0))
    assert not result.ok
    assert result.errors == ["the job keeps no copies (CloudKeepLast and LocalKeepLast are 0)"]
