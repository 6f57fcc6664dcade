"""Restore: the target rule, globs, every chunk checked, links, and local copies kept."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from cleverfox.agent.backup import back_up_item, list_copies
from cleverfox.agent.backup.local_store import LocalStore
from cleverfox.agent.backup.restore import (
    RestoreError,
    default_archive_folders,
    find_local_copy,
    restore,
)
from cleverfox.agent.model import ManifestEntry
from tests.agent.backup.support import STORAGE, Counting, context, make_tree, tree_of

FILES = {
    "docs/a.txt": b"alpha" * 1000,
    "docs/sub/b.md": b"beta" * 2000,
    "photos/c.jpg": bytes(range(256)) * 40,
    "top.txt": b"top",
}


@pytest.fixture
def backed_up(tmp_path: Path) -> Counting:
    base = tmp_path / "source"
    make_tree(base, FILES)
    (base / "docs" / "link").symlink_to("a.txt")
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    assert back_up_item(context(tmp_path, base, uploader=uploader)).ok
    return uploader


def test_a_non_empty_target_is_refused_unless_overwrite(
    tmp_path: Path, backed_up: Counting
) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "top.txt").write_bytes(b"mine")
    with pytest.raises(RestoreError, match="not empty"):
        restore(backed_up, 1001, target, id_key=STORAGE.id_key)
    assert (target / "top.txt").read_bytes() == b"mine"
    result = restore(backed_up, 1001, target, id_key=STORAGE.id_key, overwrite=True)
    assert result.files == 5
    assert (target / "top.txt").read_bytes() == b"top"
    assert not list(target.rglob(".cfx-restore-*"))


def test_globs_restore_matching_files_and_folders(tmp_path: Path, backed_up: Counting) -> None:
    def restored(*globs: str) -> list[str]:
        target = tmp_path / f"t{len(list(tmp_path.iterdir()))}"
        restore(backed_up, 1001, target, id_key=STORAGE.id_key, paths=globs)
        return sorted(tree_of(target))

    assert restored("*.txt") == ["docs/a.txt", "top.txt"]
    assert restored("docs") == ["docs/a.txt", "docs/link", "docs/sub/b.md"]
    assert restored("docs/sub/*") == ["docs/sub/b.md"]
    assert restored("photos/c.jpg", "top.txt") == ["photos/c.jpg", "top.txt"]
    assert restored("nothing*") == []


def test_the_link_is_restored_as_a_link(tmp_path: Path, backed_up: Counting) -> None:
    target = tmp_path / "target"
    restore(backed_up, 1001, target, id_key=STORAGE.id_key)
    assert (target / "docs" / "link").is_symlink()
    assert (target / "docs" / "link").readlink() == Path("a.txt")


class Tampered:
    """A source whose server answers another chunk's bytes under one id."""

    def __init__(self, inner: Counting) -> None:
        self.inner = inner

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        return self.inner.manifest(log_item_id)

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        for chunk_id, _codec, _piece in self.inner.read_chunks(chunk_ids):
            yield chunk_id, 0, b"not the chunk you asked for"


def test_a_chunk_that_does_not_hash_to_its_id_fails_the_restore(
    tmp_path: Path, backed_up: Counting
) -> None:
    with pytest.raises(RestoreError, match="failed its check"):
        restore(Tampered(backed_up), 1001, tmp_path / "t", id_key=STORAGE.id_key)  # type: ignore[arg-type]


def test_a_damaged_pack_fails_the_restore(tmp_path: Path, backed_up: Counting) -> None:
    for pack in (tmp_path / "cloud" / "cleverfox-store" / "packs").rglob("*"):
        if pack.is_file():
            data = bytearray(pack.read_bytes())
            data[20] ^= 1
            pack.write_bytes(bytes(data))
    with pytest.raises(RestoreError, match="cannot be read"):
        restore(backed_up, 1001, tmp_path / "t", id_key=STORAGE.id_key)


def test_a_path_through_an_existing_link_is_skipped(tmp_path: Path, backed_up: Counting) -> None:
    target = tmp_path / "target"
    outside = tmp_path / "outside"
    outside.mkdir()
    target.mkdir()
    (target / "docs").symlink_to(outside)
    result = restore(backed_up, 1001, target, id_key=STORAGE.id_key, overwrite=True)
    assert list(outside.iterdir()) == []
    assert sorted(w.split(":")[0] for w in result.warnings) == [
        "docs/a.txt",
        "docs/link",
        "docs/sub/b.md",
    ]


def test_local_copies_are_kept_pruned_and_listed(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {"f.txt": b"version 1" * 500})
    cloud = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    for run in (1, 2, 3):
        (base / "f.txt").write_bytes(b"version %d" % run * 500)
        result = back_up_item(context(tmp_path, base, uploader=cloud, local_keep=2, log_id=run))
        assert result.ok, result.errors
        assert result.bytes_uploaded > 0
        assert result.log_item["BackupFileName"].endswith(".zip")  # the server's answer
    folder = tmp_path / "state" / "archive" / "job-7"
    assert default_archive_folders(tmp_path / "state") == [folder]
    copies = list_copies([folder, tmp_path / "no-store-here"])
    assert [(c.log_id, c.log_item_id) for c in copies] == [(2, 1002), (3, 1003)]
    packs = [p for p in (folder / "cleverfox-store" / "packs").rglob("*") if p.is_file()]
    assert len(packs) == 2  # run 1's pack went with its copy
    found = find_local_copy([folder], 1002)
    assert found is not None
    with LocalStore(found[0]) as store:
        restore(store, found[1], tmp_path / "restored")
    assert (tmp_path / "restored" / "f.txt").read_bytes() == b"version 2" * 500
