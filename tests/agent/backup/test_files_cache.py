"""The files cache on disk: unchanged facts give the chunks back; only a commit keeps a run."""

from __future__ import annotations

from pathlib import Path

from cleverfox.agent.backup.files_cache import CachedChunks, FileFacts, FilesCache
from cleverfox.agent.model import StorageParameters

STORAGE = StorageParameters(b"k" * 32, 64, 256, 1024, 1 << 20)
IDS = (b"a" * 32, b"b" * 32)


def facts(size: int = 10, mtime: int = 5) -> FileFacts:
    return FileFacts(size, mtime, 7, 9)


def test_a_committed_run_is_found_by_the_next(tmp_path: Path) -> None:
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        cache.record("a", facts(), IDS, (4, 6))
        cache.record("é/b", facts(0), (), ())
        cache.commit()
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        assert cache.lookup("a", facts()) == CachedChunks(IDS, (4, 6))
        assert cache.lookup("b", facts()) is None
        assert cache.lookup("é/b", facts(0)) == CachedChunks((), ())


def test_changed_facts_are_a_miss(tmp_path: Path) -> None:
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        cache.record("a", facts(), IDS, (4, 6))
        cache.commit()
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        assert cache.lookup("a", facts(mtime=6)) is None
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        assert cache.lookup("a", FileFacts(10, 5, 8, 9)) is None  # another inode


def test_an_uncommitted_run_leaves_the_old_cache(tmp_path: Path) -> None:
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        cache.record("a", facts(), IDS, (4, 6))
        cache.commit()
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        cache.record("a", facts(mtime=99), IDS[:1], (10,))
        cache.record("new", facts(), IDS[:1], (10,))
        # closed without commit: a crash or a failed commit
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        assert cache.lookup("a", facts()) == CachedChunks(IDS, (4, 6))
        assert cache.lookup("new", facts()) is None


def test_a_run_keeps_only_the_files_it_saw(tmp_path: Path) -> None:
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        cache.record("a", facts(), IDS, (4, 6))
        cache.record("b", facts(), IDS, (4, 6))
        cache.commit()
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        assert cache.lookup("b", facts()) is not None
        cache.record("b", facts(), IDS, (4, 6))
        cache.commit()
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        assert cache.lookup("a", facts()) is None
        assert cache.lookup("b", facts()) is not None


def test_items_and_schemes_are_apart(tmp_path: Path) -> None:
    with FilesCache(tmp_path, 1, STORAGE) as cache:
        cache.record("a", facts(), IDS, (4, 6))
        cache.commit()
    with FilesCache(tmp_path, 2, STORAGE) as cache:
        assert cache.lookup("a", facts()) is None
    other = StorageParameters(b"j" * 32, 64, 256, 1024, 1 << 20)
    with FilesCache(tmp_path, 1, other) as cache:
        assert cache.lookup("a", facts()) is None
