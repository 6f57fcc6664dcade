"""What the engine needs of a chunk index, which the server keeps in SQL and the agent in SQLite.

The engine never sees a database: it asks a ``ChunkIndex`` (one company's) for chunk facts
and locations in batches, and tells it the entries of a pack once the pack is stored. An
implementation keeps the first pack that indexed an id; a later copy is a duplicate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from isal import isal_zlib

from cleverfox.storage.ids import ChunkId
from cleverfox.storage.pieces import Codec
from cleverfox.storage.sealing import SEAL_OVERHEAD


@dataclass(frozen=True, slots=True)
class ChunkFacts:
    """What an archive needs of a chunk: plaintext size and CRC-32, codec, piece length."""

    size: int
    codec: Codec
    piece_length: int
    crc32: int

    @property
    def stored_length(self) -> int:
        """Bytes of the sealed piece in its pack."""
        return self.piece_length + SEAL_OVERHEAD


@dataclass(frozen=True, slots=True)
class ChunkLocation:
    """Where a chunk's sealed piece is: ``stored_length`` bytes at ``offset`` of a pack."""

    pack_name: str
    offset: int
    stored_length: int


@dataclass(frozen=True, slots=True)
class PackEntry:
    """One sealed piece of a pack, as its trailer lists it and the index records it."""

    chunk_id: ChunkId
    offset: int
    stored_length: int
    codec: Codec
    size: int
    crc32: int

    @property
    def facts(self) -> ChunkFacts:
        return ChunkFacts(self.size, self.codec, self.stored_length - SEAL_OVERHEAD, self.crc32)


def facts_of(codec: Codec, piece_length: int, plaintext: bytes | memoryview) -> ChunkFacts:
    """The facts of a chunk whose piece (``codec``, ``piece_length``) opened to ``plaintext``."""
    return ChunkFacts(len(plaintext), codec, piece_length, isal_zlib.crc32(plaintext))


class ChunkIndex(Protocol):
    """One company's chunk index."""

    def facts(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkFacts]:
        """The facts of those of ``chunk_ids`` the index holds (absent ones are left out)."""
        ...

    def locations(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkLocation]:
        """Where those of ``chunk_ids`` the index holds are stored."""
        ...

    def missing(self, chunk_ids: Sequence[ChunkId]) -> list[ChunkId]:
        """The ids of ``chunk_ids`` the index lacks, each once, in their first order."""
        ...

    def add_pack(self, pack_name: str, entries: Sequence[PackEntry]) -> int:
        """Index a stored pack's entries; ids already indexed stay as they were. Returns how
        many ids were new."""
        ...
