"""The storage engine's errors: every refusal is one of these, never a bare exception.

StorageError
├── InvalidChunkId (not 64 lower-case hex digits / not 32 bytes)
├── PieceInvalid (a piece is not what its codec and id claim: ``chunk_invalid``)
│   └── RecordInvalid (the same, for one upload record: names its chunk id)
├── PackMalformed (an upload body is not a sequence of records: ``pack_malformed``)
├── EntryInvalid (a manifest entry breaks a rule: ``validation_failed`` naming it)
├── ManifestInvalid (a manifest as a whole breaks a rule: duplicate paths, bad time zone)
├── ChunkMissing (resolution met ids the index does not hold: ``chunk_missing``)
├── KeysInvalid (company key material that does not decode)
└── Damaged (stored data failed to open: a broken seal, pack, manifest stream or piece)

``PieceInvalid``, ``PackMalformed``, ``EntryInvalid``, ``ManifestInvalid`` and
``ChunkMissing`` are the client's fault (4xx); ``Damaged`` means storage lost or altered
bytes, which ``cleverfox storage check`` reports.
"""

from __future__ import annotations

from collections.abc import Sequence


class StorageError(Exception):
    """Base of every error the storage engine raises on purpose."""


class InvalidChunkId(StorageError, ValueError):
    """A chunk id that is not 32 bytes, or whose hex is not 64 lower-case hex digits."""


class PieceInvalid(StorageError):
    """A piece that does not decode, under its codec, to a chunk whose keyed hash is its id."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RecordInvalid(PieceInvalid):
    """One upload record whose piece is invalid; ``chunk_id`` names it (hex in the message)."""

    def __init__(self, chunk_id: bytes, reason: str) -> None:
        self.chunk_id = chunk_id
        super().__init__(reason)

    def __str__(self) -> str:
        return f"chunk {self.chunk_id.hex()}: {self.reason}"


class PackMalformed(StorageError):
    """An upload body that is not a sequence of ``id | codec | length | piece`` records."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class EntryInvalid(StorageError):
    """A manifest entry that breaks a rule; ``path`` is its path as given (maybe unprintable)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path!r}: {reason}")


class ManifestInvalid(StorageError):
    """A manifest that breaks a rule of the whole: duplicate paths, an unknown time zone."""


class ChunkMissing(StorageError):
    """Chunk ids that the index does not hold for this company."""

    def __init__(self, chunk_ids: Sequence[bytes]) -> None:
        self.chunk_ids = tuple(chunk_ids)
        super().__init__(f"{len(self.chunk_ids)} chunk(s) missing")


class KeysInvalid(StorageError):
    """Company key material that is not a known version of ``CompanyKeys.to_bytes``."""


class Damaged(StorageError):
    """Stored bytes that fail to open: altered, truncated, or sealed for something else."""
