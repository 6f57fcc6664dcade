"""Manifest entries held on disk, not in memory, until they are committed (and conversions).

An item's entries are known file by file but committed at the end; a run of a million files
would otherwise hold them all. The spool is an anonymous temporary file (gone with the
process) read back as many times as the committer needs.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from cleverfox.agent.model import ManifestEntry
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.manifest import MAX_MODIFIED_MS, Entry

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def clamped_ms(mtime_ns: int) -> int:
    """A modification time as the manifest takes it: ms, clamped to 1970–9999."""
    return min(max(mtime_ns // 1_000_000, 0), MAX_MODIFIED_MS)


def utc_of_ms(milliseconds: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=milliseconds)


def ms_of(moment: datetime) -> int:
    """Milliseconds since the epoch of an aware (or UTC-naive) datetime, clamped."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    milliseconds = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return min(max(milliseconds, 0), MAX_MODIFIED_MS)


def to_entry(entry: ManifestEntry) -> Entry:
    """The engine's entry (which checks every rule) of a wire-shaped one."""
    return Entry(
        entry.path,
        entry.mode,
        entry.size,
        ms_of(entry.modified_utc),
        tuple(ChunkId(bytes(i)) for i in entry.chunk_ids),
    )


def to_manifest_entry(entry: Entry) -> ManifestEntry:
    return ManifestEntry(
        entry.path, entry.mode, entry.size, utc_of_ms(entry.modified_ms), entry.chunk_ids
    )


class EntrySpool:
    """Entries appended in order, then read back (``entries``) any number of times."""

    def __init__(self, directory: Path | None = None) -> None:
        # Closed by close() / the context manager: the spool outlives this call.
        self._file: IO[bytes] = tempfile.TemporaryFile(dir=directory, prefix="cfx-spool-")  # noqa: SIM115
        self.count = 0

    def add(self, entry: Entry) -> None:
        pickle.dump(
            (entry.path, entry.mode, entry.size, entry.modified_ms, b"".join(entry.chunk_ids)),
            self._file,
            protocol=pickle.HIGHEST_PROTOCOL,
        )
        self.count += 1

    def extend(self, entries: Iterable[Entry]) -> None:
        for entry in entries:
            self.add(entry)

    def entries(self) -> Iterator[Entry]:
        """Every entry added so far, in the order added."""
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            path, mode, size, modified, ids = pickle.load(self._file)  # noqa: S301 - our own file
            chunk_ids = tuple(ChunkId(ids[i : i + 32]) for i in range(0, len(ids), 32))
            yield Entry(path, mode, size, modified, chunk_ids)
        self._file.seek(0, 2)

    def manifest_entries(self) -> Iterator[ManifestEntry]:
        return (to_manifest_entry(entry) for entry in self.entries())

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EntrySpool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
