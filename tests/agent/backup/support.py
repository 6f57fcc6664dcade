"""Test helpers: an ItemContext on real folders, a progress sink, a counting uploader."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from cleverfox.agent.backup.local_store import ItemBinding, LocalStore
from cleverfox.agent.model import Committed, ItemContext, ManifestEntry, StorageParameters

# Small chunks so small trees have many; the worker pool still runs for real.
STORAGE = StorageParameters(bytes(range(32)), 1024, 4096, 16384, 1 << 20)
OLD = 1_600_000_000  # a modification time long before any run (not "racy")


class Progress:
    def __init__(self) -> None:
        self.planned_files = self.planned_bytes = 0
        self.done_files = self.done_bytes = self.uploaded = 0

    def planned(self, files: int, size: int) -> None:
        self.planned_files += files
        self.planned_bytes += size

    def done(self, files: int, size: int, uploaded: int = 0) -> None:
        self.done_files += files
        self.done_bytes += size
        self.uploaded += uploaded


class Counting:
    """An uploader over a local store that counts what ``missing`` reports."""

    def __init__(self, store: LocalStore) -> None:
        self.store = store
        self.asked = 0
        self.reported: list[bytes] = []
        self.bodies = 0
        self.commits: list[list[ManifestEntry]] = []

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        self.asked += len(chunk_ids)
        found = self.store.missing(chunk_ids)
        self.reported += found
        return found

    def put_pack(self, body: bytes) -> tuple[int, int]:
        self.bodies += 1
        return self.store.put_pack(body)

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterator[ManifestEntry]
    ) -> Committed:
        listed = list(entries)
        self.commits.append(listed)
        started = datetime(2026, 12, 3, 14, 30, log_id % 60)
        self.store.bind(ItemBinding(7, "Nightly", "Documents", started, "Europe/Berlin", ()))
        answer = self.store.commit_files(log_id, job_item_id, iter(listed))
        return Committed({**answer.log_item, "LogItemId": 1000 + log_id})

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        copy = self.store.find_copy(log_id=log_item_id - 1000, job_item_id=70)
        assert copy is not None
        return self.store.manifest(copy.copy_id)

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        return self.store.read_chunks(chunk_ids)


def make_tree(base: Path, files: dict[str, bytes]) -> None:
    for path, content in files.items():
        target = base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        os.utime(target, (OLD, OLD))


def context(
    tmp_path: Path,
    base: Path,
    *,
    uploader: Any = None,
    log_id: int = 1,
    local_keep: int = 0,
    item: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> ItemContext:
    job = {"JobId": 7, "Name": "Nightly", "LocalKeepLast": local_keep, "CloudKeepLast": 1}
    job_item = {
        "JobItemId": 70,
        "Name": "Documents",
        "EngineId": "FILE",
        "BaseFolder": str(base),
        "IncludeSubFolders": True,
        "SearchPatterns": "*.*",
        **(item or {}),
    }
    return ItemContext(
        log_id=log_id,
        job=job,
        item=job_item,
        started_on=datetime(2026, 12, 3, 14, 30, log_id % 60),
        time_zone="Europe/Berlin",
        storage=STORAGE,
        uploader=uploader,
        state_dir=tmp_path / "state",
        progress=progress or Progress(),
    )


def tree_of(base: Path) -> dict[str, tuple[int, bytes, int]]:
    """path → (mode, content or link target, mtime s) of every file and link under base."""
    found = {}
    for folder, dirs, files in os.walk(base):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            full = os.path.join(folder, name)
            info = os.lstat(full)
            relative = os.path.relpath(full, base).replace(os.sep, "/")
            if os.path.islink(full):
                found[relative] = (info.st_mode, os.fsencode(os.readlink(full)), 0)
            else:
                content = Path(full).read_bytes()
                found[relative] = (info.st_mode, content, int(info.st_mtime))
    return found
