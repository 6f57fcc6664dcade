"""The types the agent's parts share: what the runner hands an item's backup, and what it gets.

``core`` (the runner) builds an :class:`ItemContext` per job item from the check-in and calls
``backup.back_up_item``; ``backup`` calls ``db.open_dump`` for database items. The server is
reached only through an :class:`Uploader` (``cleverfox.client``'s agent transport satisfies
it), so the backup pipeline can be driven by a real server or by a local-only store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class StorageParameters:
    """The check-in's ``Storage``: how this company's chunks are named and cut."""

    id_key: bytes
    chunk_min_bytes: int
    chunk_avg_bytes: int
    chunk_max_bytes: int
    max_pack_bytes: int


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    """One file of a backup as the server's ``logs/{LogId}/files`` takes it."""

    path: str
    mode: int
    size: int
    modified_utc: datetime
    chunk_ids: Sequence[bytes]


@dataclass(frozen=True, slots=True)
class Committed:
    """The server's answer to a manifest commit: the Log Item's file attributes (wire names,
    e.g. ``BackupFileName``, ``BackupFileSize``, ``BackupListName``…)."""

    log_item: Mapping[str, Any]


class Uploader(Protocol):
    """The storage half of the agent endpoints (``storage.md`` §3), for one device."""

    def missing(self, chunk_ids: Sequence[bytes]) -> list[bytes]:
        """Which of ``chunk_ids`` (≤ 10,000) the company's storage lacks."""
        ...

    def put_pack(self, body: bytes) -> tuple[int, int]:
        """Upload one pack of records; ``(stored, duplicates)``."""
        ...

    def commit_files(
        self, log_id: int, job_item_id: int, entries: Iterator[ManifestEntry]
    ) -> Committed:
        """Commit an item's manifest (paged as the server documents); raises
        ``cleverfox.client.errors`` types (e.g. a 409 ``chunk_missing``) on refusal."""
        ...

    def manifest(self, log_item_id: int) -> Iterator[ManifestEntry]:
        """A committed item's entries, streamed (for restore)."""
        ...

    def read_chunks(self, chunk_ids: Sequence[bytes]) -> Iterator[tuple[bytes, int, bytes]]:
        """``(chunk id, codec, piece)`` for each of ``chunk_ids`` (for restore)."""
        ...


class ProgressSink(Protocol):
    """Where an item's progress goes (a terminal line and the server's Running Log)."""

    def planned(self, files: int, size: int) -> None:
        """Add ``files`` files of ``size`` bytes to the total (as the walk finds them)."""
        ...

    def done(self, files: int, size: int, uploaded: int = 0) -> None:
        """``files`` files of ``size`` bytes are done, ``uploaded`` bytes were sent."""
        ...


@dataclass(frozen=True, slots=True)
class ItemContext:
    """Everything one job item's backup needs. ``item`` is the check-in's JobItem (wire
    names: ``JobItemId``, ``EngineId``, ``BaseFolder``, ``SearchPatterns``, ``Username``…);
    ``uploader`` is None when the job keeps no cloud copies (``CloudKeepLast`` 0)."""

    log_id: int
    job: Mapping[str, Any]
    item: Mapping[str, Any]
    started_on: datetime  # device-local, naive: names the backup file
    time_zone: str  # IANA name of the device's zone
    storage: StorageParameters
    uploader: Uploader | None
    state_dir: Path  # the agent's data folder: files cache, local stores' indexes
    progress: ProgressSink
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(slots=True)
class ItemResult:
    """What an item's backup produced, for the Log's finish. ``log_item`` holds the wire
    attributes of the finish's ``LogItems`` entry (JobItemId, BackupFileName, BackupFileSize,
    BackupListName, BackupListSize, BackupListCount, BackupFolder, ServerVersion,
    ServerEdition); ``ok`` is False when the item produced no backup file."""

    ok: bool
    log_item: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0


@dataclass(frozen=True, slots=True)
class StreamedFile:
    """One file of a database dump: its archive path and a stream of its bytes."""

    path: str
    stream: BinaryIO
    modified_utc: datetime
    mode: int = 0o100600


class Dump(Protocol):
    """An open database dump (``db.open_dump``): its files, streamed one after another, and
    what it found of the server. Leaving the context waits for the tool and raises
    ``DumpFailed`` if it failed, so a truncated dump is never committed."""

    server_version: str | None
    server_edition: str | None

    def files(self) -> Iterator[StreamedFile]: ...


class DumpFailed(Exception):
    """A dump tool that is missing, exited non-zero, or could not connect; the message is
    safe to show (no credentials)."""
