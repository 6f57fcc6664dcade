"""Index records: facts from a chunk, and a pack entry's facts; the test index fits the
protocol the server's and the agent's implement."""

from __future__ import annotations

import zlib

from cleverfox.storage.ids import ChunkId
from cleverfox.storage.index import ChunkIndex, PackEntry, facts_of
from cleverfox.storage.pieces import Codec
from tests.storage.support import MemoryIndex


def test_facts_hold_size_crc_codec_and_lengths() -> None:
    facts = facts_of(Codec.DEFLATE, 40, b"plaintext" * 10)
    assert (facts.size, facts.crc32, facts.piece_length, facts.stored_length) == (
        90,
        zlib.crc32(b"plaintext" * 10),
        40,
        68,
    )


def test_an_index_keeps_the_first_pack_of_an_id() -> None:
    index: ChunkIndex = MemoryIndex()
    first = PackEntry(ChunkId(bytes(32)), 8, 60, Codec.PLAIN, 32, 7)
    other = ChunkId(b"\x01" * 32)
    assert index.add_pack("packs/1/aa/aa", [first]) == 1
    assert index.add_pack("packs/1/bb/bb", [first, PackEntry(other, 8, 30, Codec.PLAIN, 2, 1)]) == 1
    assert index.locations([first.chunk_id])[first.chunk_id].pack_name == "packs/1/aa/aa"
    assert index.missing([other, ChunkId(b"\x02" * 32), ChunkId(b"\x02" * 32)]) == [
        ChunkId(b"\x02" * 32)
    ]
    assert index.facts([first.chunk_id])[first.chunk_id] == first.facts
