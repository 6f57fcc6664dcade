"""The walk on real trees: archive order, patterns, links kept as links, warnings."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cleverfox.agent.backup.patterns import rules_of
from cleverfox.agent.backup.walk import FoundFile, walk

AS_ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def found(
    base: Path,
    item: dict[str, str] | None = None,
    *,
    subfolders: bool = True,
    case_sensitive: bool = True,
) -> tuple[list[FoundFile], list[str]]:
    warnings: list[str] = []
    rules = rules_of(item or {}, str(base), case_sensitive=case_sensitive)
    files = list(walk(str(base), rules, include_subfolders=subfolders, warn=warnings.append))
    return files, warnings


def make(base: Path, *paths: str) -> None:
    for path in paths:
        target = base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.encode())


def test_paths_are_relative_with_slashes_in_archive_order(tmp_path: Path) -> None:
    make(tmp_path, "a/x", "a-b", "a0", "B", "é/ü.txt", "z", "a/b/c")
    (tmp_path / "empty").write_bytes(b"")
    files, warnings = found(tmp_path)
    paths = [f.path for f in files]
    assert paths == sorted(paths, key=lambda p: p.encode().replace(b"/", b"\0"))
    assert paths == ["B", "a/b/c", "a/x", "a-b", "a0", "empty", "z", "é/ü.txt"]
    assert warnings == []
    empty = next(f for f in files if f.path == "empty")
    assert empty.size == 0 and stat.S_ISREG(empty.mode)


def test_without_subfolders_only_the_base_folders_files(tmp_path: Path) -> None:
    make(tmp_path, "top.txt", "sub/inner.txt")
    files, _ = found(tmp_path, subfolders=False)
    assert [f.path for f in files] == ["top.txt"]


def test_patterns_and_excluded_folders(tmp_path: Path) -> None:
    make(
        tmp_path,
        "a.txt",
        "b.TXT",
        "c.doc",
        "node_modules/x.txt",
        "src/node_modules/y.txt",
        "src/keep.txt",
        "src/skip.tmp.txt",
    )
    item = {
        "SearchPatterns": "*.txt",
        "ExcludeFolders": "node_modules",
        "ExcludePatterns": "*.tmp.*",
    }
    files, _ = found(tmp_path, item, case_sensitive=True)
    assert [f.path for f in files] == ["a.txt", "src/keep.txt"]
    files, _ = found(tmp_path, item, case_sensitive=False)
    assert [f.path for f in files] == ["a.txt", "b.TXT", "src/keep.txt"]


def test_symlinks_are_kept_as_links_not_followed(tmp_path: Path) -> None:
    make(tmp_path, "real/file.txt")
    (tmp_path / "link-to-dir").symlink_to("real")
    (tmp_path / "link-to-file").symlink_to("real/file.txt")
    (tmp_path / "dangling").symlink_to("nowhere/ß")
    files, warnings = found(tmp_path)
    by_path = {f.path: f for f in files}
    assert sorted(by_path) == ["dangling", "link-to-dir", "link-to-file", "real/file.txt"]
    assert by_path["link-to-dir"].link_target == b"real"
    assert stat.S_ISLNK(by_path["link-to-dir"].mode)
    assert by_path["dangling"].link_target == "nowhere/ß".encode()
    assert by_path["dangling"].size == len("nowhere/ß".encode())
    assert warnings == []


def test_other_file_types_are_skipped(tmp_path: Path) -> None:
    make(tmp_path, "a")
    os.mkfifo(tmp_path / "fifo")
    files, warnings = found(tmp_path)
    assert [f.path for f in files] == ["a"]
    assert warnings == []


@pytest.mark.skipif(AS_ROOT, reason="root reads every folder")
def test_an_unreadable_folder_is_a_warning(tmp_path: Path) -> None:
    make(tmp_path, "locked/secret", "open/file")
    (tmp_path / "locked").chmod(0)
    try:
        files, warnings = found(tmp_path)
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [f.path for f in files] == ["open/file"]
    assert warnings == ["locked: folder skipped: permission denied"]


def test_a_name_that_is_not_unicode_is_a_warning(tmp_path: Path) -> None:
    make(tmp_path, "ok")
    try:
        (tmp_path / os.fsdecode(b"bad\xff")).write_bytes(b"x")
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    files, warnings = found(tmp_path)
    assert [f.path for f in files] == ["ok"]
    assert len(warnings) == 1 and "not Unicode" in warnings[0]


def test_a_missing_base_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        found(tmp_path / "missing")


def test_a_skipped_folder_is_not_entered(tmp_path: Path) -> None:
    make(tmp_path, "data/a", "store/pack")
    rules = rules_of({}, str(tmp_path), case_sensitive=True)
    files = walk(
        str(tmp_path),
        rules,
        include_subfolders=True,
        warn=print,
        skip_folders=[str(tmp_path / "store")],
    )
    assert [f.path for f in files] == ["data/a"]
