"""SQLite items: a consistent copy through SQLite's online backup API, then streamed.

The backup API copies a database that other programs keep using (a read transaction, one
step, so the copy is one consistent state); the copy in the work folder is the one temporary
copy a dump makes, and it is deleted when the dump's context exits. DatabaseName is the
database file's path on the device.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cleverfox.agent.db.item import DatabaseItem
from cleverfox.agent.db.process import OpenDump, scratch_folder
from cleverfox.agent.model import Dump, DumpFailed, StreamedFile

BUSY_TIMEOUT_SECONDS = 30.0


@contextmanager
def open_sqlite_dump(
    item: DatabaseItem, *, work_dir: Path, environ: Mapping[str, str]
) -> Iterator[Dump]:
    """One file named as the database file, holding a consistent copy of it."""
    source = Path(item.database_name).expanduser()
    if not source.is_file():
        raise DumpFailed(f"SQLite database {source} does not exist or is not a file")
    with scratch_folder(work_dir) as scratch:
        copy = scratch / "copy.sqlite"
        started = datetime.now(UTC)
        backup(source, copy)
        with copy.open("rb") as stream:
            streamed = StreamedFile(source.name, stream, started)
            yield OpenDump(sqlite3.sqlite_version, "SQLite", [streamed])


def backup(source: Path, target: Path) -> None:
    """Copy ``source`` into the new database ``target``; ``DumpFailed`` when it cannot be read.

    Opened read-only through a URI so a mistyped path never creates an empty database.
    """
    uri = source.resolve().as_uri() + "?mode=ro"
    try:
        reader = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)  # pages=-1: one step, one consistent snapshot
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error as error:
        raise DumpFailed(f"SQLite backup of {source} failed: {error}") from None
