"""The files cache: which chunks an unchanged file has, so it is neither read nor hashed.

One SQLite file in the agent's data folder (``files-cache.sqlite3``), one row per (job item,
path): size, mtime (ns), inode, ctime (ns) → chunk ids and their sizes. A file whose four
facts all equal the row's is taken as unchanged (the ctime catches a content change that
restored the mtime, the inode a file replaced by another).

A run reads the cache as it was (a second connection, a snapshot of WAL mode) in archive
order (paths are stored as ``Entry.order_key``) alongside the walk, which yields that order
(a merge join: no look-up per file), and writes its own rows in one transaction on the first
connection, committed when the item's backup is committed: a crash, a failed commit or a
cancelled run leaves the previous cache as it was. The rows are tied to the storage scheme
(id key and chunking parameters): another scheme's ids would be wrong, so its rows are
ignored and replaced.

A file modified less than ``RACY_SECONDS`` before it was read is not cached: a file system
with coarse timestamps could otherwise hide a second change made within the same tick.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blake3 import blake3

from cleverfox.agent.model import StorageParameters

CACHE_FILE = "files-cache.sqlite3"
RACY_SECONDS = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    item INTEGER PRIMARY KEY, scheme BLOB NOT NULL, generation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    item INTEGER NOT NULL, path BLOB NOT NULL, size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
    chunk_ids BLOB NOT NULL, chunk_sizes BLOB NOT NULL, generation INTEGER NOT NULL,
    PRIMARY KEY (item, path)
) WITHOUT ROWID;
"""


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What says a file is unchanged."""

    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int


@dataclass(frozen=True, slots=True)
class CachedChunks:
    """An unchanged file's chunks, in order."""

    chunk_ids: tuple[bytes, ...]
    sizes: tuple[int, ...]


def scheme_of(storage: StorageParameters) -> bytes:
    """A digest of what chunk ids depend on (never the id key itself)."""
    params = struct.pack(
        ">III", storage.chunk_min_bytes, storage.chunk_avg_bytes, storage.chunk_max_bytes
    )
    return blake3(b"cfx-files-cache-v1" + params, key=storage.id_key).digest()[:16]


class FilesCache:
    """One job item's cache for one run; ``lookup`` must be called in archive order."""

    def __init__(self, state_dir: Path, job_item_id: int, storage: StorageParameters) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / CACHE_FILE
        self._item = job_item_id
        self._writer = _connect(path)
        self._writer.executescript(_SCHEMA)
        self._writer.execute("BEGIN IMMEDIATE")
        scheme = scheme_of(storage)
        row = self._writer.execute(
            "SELECT scheme, generation FROM items WHERE item = ?", (job_item_id,)
        ).fetchone()
        valid = row is not None and row[0] == scheme
        self._generation = (row[1] if row else 0) + 1
        self._writer.execute(
            "INSERT OR REPLACE INTO items (item, scheme, generation) VALUES (?, ?, ?)",
            (job_item_id, scheme, self._generation),
        )
        self._reader = _connect(path)
        self._rows = self._old_rows(row[1]) if valid and row else iter(())
        self._next: tuple[Any, ...] | None = next(self._rows, None)
        self._open = True

    def _old_rows(self, generation: int) -> Iterator[tuple[Any, ...]]:
        cursor = self._reader.execute(
            "SELECT path, size, mtime_ns, inode, ctime_ns, chunk_ids, chunk_sizes FROM files"
            " WHERE item = ? AND generation = ? ORDER BY path",
            (self._item, generation),
        )
        yield from cursor

    def lookup(self, path: str, facts: FileFacts) -> CachedChunks | None:
        """The cached chunks of ``path`` if its facts are unchanged; paths in archive order."""
        key = _order_key(path)
        while self._next is not None and self._next[0] < key:
            self._next = next(self._rows, None)
        row = self._next
        if row is None or row[0] != key or FileFacts(*row[1:5]) != facts:
            return None
        ids, sizes = row[5], row[6]
        count = len(sizes) // 4
        return CachedChunks(
            tuple(ids[i * 32 : (i + 1) * 32] for i in range(count)),
            struct.unpack(f">{count}I", sizes),
        )

    def record(
        self, path: str, facts: FileFacts, chunk_ids: Sequence[bytes], sizes: Sequence[int]
    ) -> None:
        """Remember ``path``'s chunks for the next run (kept only if this run commits)."""
        self._writer.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self._item,
                _order_key(path),
                facts.size,
                facts.mtime_ns,
                facts.inode,
                facts.ctime_ns,
                b"".join(chunk_ids),
                struct.pack(f">{len(sizes)}I", *sizes),
                self._generation,
            ),
        )

    def commit(self) -> None:
        """Keep this run's rows (and only them) for the item, in one transaction."""
        self._close_reader()
        self._writer.execute(
            "DELETE FROM files WHERE item = ? AND generation <> ?", (self._item, self._generation)
        )
        self._writer.commit()
        self.close()

    def close(self) -> None:
        """Forget this run's rows unless committed; the previous cache stays."""
        if not self._open:
            return
        self._open = False
        self._close_reader()
        if self._writer.in_transaction:
            self._writer.rollback()
        self._writer.close()

    def _close_reader(self) -> None:
        self._rows = iter(())
        self._next = None
        self._reader.close()

    def __enter__(self) -> FilesCache:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _order_key(path: str) -> bytes:
    # Stored as archive order's key, so ORDER BY (memcmp) is the walk's order.
    return path.encode().replace(b"/", b"\x00")


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection
