"""What the local backend adds to the contract: its files, crashes, leftovers, the sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tests.support.clock import ManualClock

from cleverfox.storage.backends import BackendUnavailable, LocalBackend, ObjectExists
from cleverfox.storage.backends.local import TEMPORARY_PREFIX


def temporary_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob(f"{TEMPORARY_PREFIX}*"))


def test_an_object_is_a_file_at_its_name_and_no_temporary_file_stays(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "storage")

    backend.put("packs/7/ab/one", [b"hello ", b"world"])
    with pytest.raises(ObjectExists):
        backend.put("packs/7/ab/one", b"other")

    assert (tmp_path / "storage" / "packs" / "7" / "ab" / "one").read_bytes() == b"hello world"
    assert temporary_files(tmp_path) == []


def test_the_directory_is_made_with_its_parents(tmp_path: Path) -> None:
    LocalBackend(tmp_path / "data" / "storage")

    assert (tmp_path / "data" / "storage").is_dir()


def test_a_directory_that_cannot_be_made_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("in the way")

    with pytest.raises(BackendUnavailable, match="cannot be made"):
        LocalBackend(tmp_path / "file" / "storage")


def test_list_skips_temporary_and_foreign_files(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    backend.put("packs/1/aa/x", b"1")
    for stray in ("packs/1/aa/.tmp-abc", "packs/1/aa/README.TXT", "Thumbs.db", "packs/.DS_Store"):
        (tmp_path / stray).write_bytes(b"stray")

    assert [info.name for info in backend.list()] == ["packs/1/aa/x"]


def test_sweep_removes_only_temporary_files_older_than_an_hour(tmp_path: Path) -> None:
    clock = ManualClock(time.time())
    backend = LocalBackend(tmp_path, clock=clock)
    backend.put("packs/1/aa/x", b"1")
    old = tmp_path / "packs" / "1" / "aa" / f"{TEMPORARY_PREFIX}old"
    young = tmp_path / "packs" / f"{TEMPORARY_PREFIX}young"
    for path, age in ((old, 3601), (young, 3500)):
        path.write_bytes(b"partial")
        os.utime(path, (clock.now - age, clock.now - age))

    assert backend.sweep_temporary() == 1
    assert temporary_files(tmp_path) == [young]
    clock.now += 200
    assert backend.sweep_temporary() == 1
    assert temporary_files(tmp_path) == []
    assert backend.get("packs/1/aa/x") == b"1"


def test_a_put_killed_mid_write_leaves_no_object_only_a_temporary_file(tmp_path: Path) -> None:
    """kill -9 during a 1 GiB put: the name never appears; the leftover is swept later."""
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from cleverfox.storage.backends import LocalBackend
        block = b"x" * (1 << 20)
        LocalBackend(Path({str(tmp_path)!r})).put("packs/1/aa/big", [block] * 1024)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size > 1 << 20 for p in temporary_files(tmp_path)):
            assert process.poll() is None, "the put finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    backend = LocalBackend(tmp_path, clock=lambda: time.time() + 3601)
    assert list(backend.list()) == []
    assert not (tmp_path / "packs" / "1" / "aa" / "big").exists()
    assert backend.sweep_temporary() == 1
    backend.put("packs/1/aa/big", b"written again after the crash")
    assert backend.get("packs/1/aa/big") == b"written again after the crash"


def test_describe_names_the_directory(tmp_path: Path) -> None:
    assert LocalBackend(tmp_path).describe() == f"local directory {tmp_path}"
