"""Packs: sealed pieces with a sealed trailer; names; a damaged pack is reported, not read."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.errors import Damaged
from cleverfox.storage.ids import chunk_id
from cleverfox.storage.index import facts_of
from cleverfox.storage.packs import (
    PACK_END,
    PACK_MAGIC,
    PACK_TAIL_BYTES,
    PackWriter,
    new_pack_name,
    open_trailer,
    pack_company,
    read_trailer,
    trailer_span,
)
from cleverfox.storage.pieces import make_piece
from cleverfox.storage.sealing import CompanySealer

KEY = bytes(range(32))
SEALER = CompanySealer(bytes(32), 5)


def written_pack(chunks: list[bytes]) -> tuple[str, bytes, list[bytes]]:
    name = new_pack_name(5)
    writer = PackWriter(SEALER, name)
    for data in chunks:
        piece = make_piece(data, compress=True)
        writer.add(chunk_id(KEY, data), facts_of(piece.codec, len(piece.data), data), piece.data)
    finished = writer.finish()
    return name, finished.data, [e.chunk_id for e in finished.entries]


@given(st.lists(st.binary(min_size=1, max_size=3000), max_size=20))
def test_a_pack_lists_and_returns_every_piece(chunks: list[bytes]) -> None:
    name, data, ids = written_pack(chunks)
    assert data.startswith(PACK_MAGIC) and data.endswith(PACK_END)
    entries = read_trailer(SEALER, name, data)
    assert [e.chunk_id for e in entries] == ids
    for entry, plaintext in zip(entries, chunks, strict=True):
        piece = SEALER.open_piece(
            entry.chunk_id, data[entry.offset : entry.offset + entry.stored_length]
        )
        assert len(piece) == entry.facts.piece_length
        assert entry.size == len(plaintext)


def test_the_trailer_is_found_from_the_last_twelve_bytes() -> None:
    name, data, _ = written_pack([b"a" * 500, b"b" * 700])
    offset, length = trailer_span(len(data), data[-PACK_TAIL_BYTES:])
    assert len(open_trailer(SEALER, name, data[offset : offset + length], offset)) == 2


def test_sealed_pieces_copy_verbatim_into_another_pack() -> None:
    """What garbage collection does: the seal names the chunk and company, not the pack."""
    name, data, _ = written_pack([b"keep" * 100, b"drop" * 100])
    keep = read_trailer(SEALER, name, data)[0]
    target = PackWriter(SEALER, new_pack_name(5))
    copied = target.add_sealed(
        keep.chunk_id, keep.facts, data[keep.offset : keep.offset + keep.stored_length]
    )
    moved = target.finish()
    assert read_trailer(SEALER, moved.name, moved.data) == [copied]
    assert SEALER.open_piece(
        keep.chunk_id, moved.data[copied.offset : copied.offset + copied.stored_length]
    )


def test_a_pack_renamed_altered_or_cut_is_damaged() -> None:
    name, data, _ = written_pack([b"x" * 1000])
    with pytest.raises(Damaged):
        read_trailer(SEALER, new_pack_name(5), data)
    with pytest.raises(Damaged):
        read_trailer(CompanySealer(bytes(32), 6), name, data)
    for broken in (
        data[:-1],
        data[:20],
        b"NOTAPACK" + data[8:],
        data[:-20] + bytes(8) + data[-12:],
    ):
        with pytest.raises(Damaged):
            read_trailer(SEALER, name, broken)


def test_pack_names_are_random_under_the_company() -> None:
    name = new_pack_name(42)
    assert re.fullmatch(r"packs/42/([0-9a-f]{2})/\1[0-9a-f]{30}", name)
    assert name != new_pack_name(42)
    assert pack_company(name) == 42
    assert pack_company("packs/42/00/ff" + "0" * 30) is None
    assert pack_company("manifests/42/" + "0" * 64) is None


def test_a_piece_must_match_its_facts() -> None:
    writer = PackWriter(SEALER, new_pack_name(5))
    with pytest.raises(ValueError, match="length"):
        writer.add(chunk_id(KEY, b"a"), facts_of(make_piece(b"a", False).codec, 2, b"a"), b"a")
