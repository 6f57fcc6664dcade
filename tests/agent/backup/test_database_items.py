"""Database items through back_up_item: a real SQLite database dumped by agent.db (the
online backup API), deduplicated from run to run, restored byte for byte; a dump that fails
fails the item."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cleverfox.agent.backup import back_up_item, restore
from cleverfox.agent.backup.local_store import LocalStore
from tests.agent.backup.support import STORAGE, Counting, context


def make_database(path: Path, rows: int) -> None:
    with sqlite3.connect(path) as database:
        database.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)")
        database.executemany(
            "INSERT INTO notes (body) VALUES (?)", [(f"note {i} " * 40,) for i in range(rows)]
        )


def sqlite_item(path: Path) -> dict[str, object]:
    return {"EngineId": "SQLITE", "Name": "Notes", "DatabaseName": str(path), "BaseFolder": None}


def test_a_sqlite_item_is_dumped_deduplicated_and_restorable(tmp_path: Path) -> None:
    database = tmp_path / "notes.db"
    make_database(database, 4000)
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    ctx = context(tmp_path, tmp_path, uploader=uploader, item=sqlite_item(database))
    first = back_up_item(ctx)
    assert first.ok, first.errors
    assert first.log_item["ServerEdition"] == "SQLite"
    assert first.log_item["ServerVersion"] == sqlite3.sqlite_version
    assert first.log_item["BackupListCount"] == 1
    new_first = len(uploader.reported)

    make_database(database, 40)  # about 1 % more rows
    uploader.reported.clear()
    again = back_up_item(
        context(tmp_path, tmp_path, uploader=uploader, log_id=2, item=sqlite_item(database))
    )
    assert again.ok, again.errors
    assert 0 < len(uploader.reported) < new_first / 3

    restored = tmp_path / "restored"
    restore(uploader, 1002, restored, id_key=STORAGE.id_key)
    with sqlite3.connect(restored / "notes.db") as copy:
        assert copy.execute("SELECT count(*) FROM notes").fetchone() == (4040,)


def test_a_dump_that_fails_fails_the_item(tmp_path: Path) -> None:
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    item = sqlite_item(tmp_path / "missing.db")
    result = back_up_item(context(tmp_path, tmp_path, uploader=uploader, item=item))
    assert not result.ok
    assert len(result.errors) == 1 and "does not exist" in result.errors[0]
    assert uploader.commits == []
