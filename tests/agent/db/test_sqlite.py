"""SQLite items: a consistent copy of a database in use, through the online backup API."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from tests.agent.db.databases import read_all

from cleverfox.agent.db import DumpFailed, open_dump


def make_database(path: Path, rows: int, *, wal: bool = False) -> None:
    with sqlite3.connect(path) as connection:
        if wal:
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT)")
        connection.executemany(
            "INSERT INTO items VALUES (?, ?)", ((i, f"item {i}" * 10) for i in range(rows))
        )
    connection.close()


def item(path: Path) -> dict[str, object]:
    return {"EngineId": "SQLITE", "DatabaseName": str(path), "ServerName": None}


def count_rows(data: bytes, tmp_path: Path) -> int:
    copy = tmp_path / "restored.sqlite"
    copy.write_bytes(data)
    with sqlite3.connect(copy) as connection:
        (check,) = connection.execute("PRAGMA integrity_check").fetchone()
        assert check == "ok"
        (rows,) = connection.execute("SELECT count(*) FROM items").fetchone()
    connection.close()
    return int(rows)


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_a_database_being_written_is_copied_as_its_last_committed_state(
    tmp_path: Path, wal: bool
) -> None:
    source = tmp_path / "shop.db"
    make_database(source, 1000, wal=wal)
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another program mid-transaction
    writer.execute("INSERT INTO items VALUES (5000, 'not committed')")
    try:
        files, dump = read_all(item(source), tmp_path / "work")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert list(files) == ["shop.db"]
    assert count_rows(files["shop.db"], tmp_path) == 1000
    assert dump.server_version == sqlite3.sqlite_version
    assert dump.server_edition == "SQLite"


def test_the_temporary_copy_lives_in_the_work_folder_only_while_the_dump_is_open(
    tmp_path: Path,
) -> None:
    source = tmp_path / "shop.db"
    make_database(source, 10)
    work_dir = tmp_path / "work"
    with open_dump(item(source), work_dir=work_dir) as dump:
        copies = [p for p in work_dir.rglob("*") if p.is_file()]
        (streamed,) = dump.files()
        streamed.stream.read()
    assert len(copies) == 1
    assert list(work_dir.iterdir()) == []


def test_a_missing_database_file_fails_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    with pytest.raises(DumpFailed, match="does not exist or is not a file"):
        read_all(item(missing), tmp_path / "work")
    assert not missing.exists()


def test_a_file_that_is_not_a_database_fails_cleanly(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("these are not the pages you are looking for\n" * 100)
    with pytest.raises(
        DumpFailed, match=r"SQLite backup of .*notes\.db failed: file is not a database"
    ):
        read_all(item(text), tmp_path / "work")
    assert list((tmp_path / "work").iterdir()) == []


def test_a_path_with_uri_characters_is_read_as_a_path(tmp_path: Path) -> None:
    source = tmp_path / "odd ?name#1%20.db"
    make_database(source, 3)
    files, _ = read_all(item(source), tmp_path / "work")
    assert count_rows(files[source.name], tmp_path) == 3


def test_a_folder_left_by_a_killed_agent_is_removed_by_the_next_dump(tmp_path: Path) -> None:
    source = tmp_path / "shop.db"
    make_database(source, 3)
    work_dir = tmp_path / "work"
    abandoned = work_dir / "dump-999999999-kill9"  # above any pid_max: never a live process
    abandoned.mkdir(parents=True)
    (abandoned / "client.cnf").write_text("[client]\npassword=secret\n")
    running = work_dir / f"dump-{os.getpid()}-other"  # a dump this process still has open
    running.mkdir()
    read_all(item(source), work_dir)
    assert sorted(work_dir.iterdir()) == [running]
