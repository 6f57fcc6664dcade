"""Pieces: every chunk makes a piece that opens back; every piece that could corrupt an
archive is refused; the two forms have exactly the sizes the archive counts on.

The adversarial pieces are built here bit by bit (``BitWriter``): a final block, a cut
mid-block, an end off the byte boundary, a back-reference before the piece's start, a
bomb, and a stream only a lax inflater accepts.
"""

from __future__ import annotations

import tracemalloc
import zlib

import pytest
from blake3 import blake3
from hypothesis import given
from hypothesis import strategies as st
from isal import isal_zlib

from cleverfox.storage.errors import PieceInvalid
from cleverfox.storage.ids import chunk_id
from cleverfox.storage.pieces import (
    Codec,
    Form,
    deflate_form,
    deflate_form_size,
    form_size,
    make_piece,
    open_piece,
    plain_form,
    to_form,
)

KEY = bytes(range(32))
MAX = 4 << 20
COMPRESSIBLE = st.lists(st.sampled_from([b"alpha ", b"beta\n", b"\x00" * 7, b"gamma"])).map(
    b"".join
)
CHUNKS = st.one_of(st.binary(min_size=1, max_size=3000), COMPRESSIBLE.filter(bool))


class BitWriter:
    """Deflate's bit order: header fields LSB first, Huffman codes MSB first."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def field(self, value: int, count: int) -> BitWriter:
        self.bits += [(value >> i) & 1 for i in range(count)]
        return self

    def code(self, value: int, length: int) -> BitWriter:
        self.bits += [(value >> i) & 1 for i in reversed(range(length))]
        return self

    def fixed_literal(self, byte: int) -> BitWriter:
        return self.code(0x30 + byte, 8) if byte < 144 else self.code(0x190 + byte - 144, 9)

    def end_of_block(self) -> BitWriter:
        return self.code(0, 7)

    def to_bytes(self, fill: int = 0) -> bytes:
        bits = self.bits + [fill] * (-len(self.bits) % 8)
        return bytes(
            sum(bit << i for i, bit in enumerate(bits[n : n + 8])) for n in range(0, len(bits), 8)
        )


def piece_of(data: bytes) -> bytes:
    piece = make_piece(data, compress=True)
    assert piece.codec == Codec.DEFLATE
    return piece.data


def refused(codec: int, piece: bytes, plaintext: bytes, reason: str | None = None) -> None:
    with pytest.raises(PieceInvalid, match=reason):
        open_piece(codec, piece, KEY, chunk_id(KEY, plaintext), MAX)


@given(CHUNKS, st.booleans())
def test_any_chunk_makes_a_piece_that_opens_to_it(data: bytes, compress: bool) -> None:
    piece = make_piece(data, compress)
    assert open_piece(piece.codec, piece.data, KEY, chunk_id(KEY, data), MAX) == data
    assert plain_form(piece.codec, piece.data) == data
    for form in Form:
        assert len(to_form(form, piece.codec, piece.data)) == form_size(
            form, piece.codec, len(piece.data), len(data)
        )


def test_deflate_is_kept_only_when_it_saves_at_least_a_64th() -> None:
    assert make_piece(b"a" * 10_000, compress=True).codec == Codec.DEFLATE
    incompressible = blake3(b"noise").digest(length=10_000)
    assert make_piece(incompressible, compress=True).codec == Codec.PLAIN
    assert make_piece(b"a" * 10_000, compress=False).codec == Codec.PLAIN


@given(st.lists(st.tuples(CHUNKS, st.booleans()), min_size=1, max_size=8))
def test_deflate_forms_concatenate_with_the_final_block(chunks: list[tuple[bytes, bool]]) -> None:
    forms = []
    for data, compress in chunks:
        piece = make_piece(data, compress)
        form = deflate_form(piece.codec, piece.data)
        assert len(form) == deflate_form_size(piece.codec, len(piece.data), len(data))
        forms.append(form)
    stream = b"".join(forms) + b"\x03\x00"
    assert zlib.decompress(stream, -15) == b"".join(data for data, _ in chunks)


def test_a_plain_chunk_wraps_in_stored_blocks_of_at_most_65535_bytes() -> None:
    data = bytes(range(256)) * 600  # 153,600 bytes: three blocks
    form = deflate_form(Codec.PLAIN, data)
    assert len(form) == len(data) + 3 * 5
    assert form[:5] == b"\x00\xff\xff\x00\x00"
    assert zlib.decompress(form + b"\x03\x00", -15) == data


@given(CHUNKS, st.data())
def test_a_mutated_piece_is_refused_or_opens_to_the_same_chunk(
    data: bytes, draw: st.DataObject
) -> None:
    """Deflate ignores a few bits (padding before a stored block): a piece mutated there
    still opens, to the same chunk, and still concatenates; any other change is refused."""
    original = piece_of(data * 3 + b"z" * 200)
    plaintext = data * 3 + b"z" * 200
    mutated = bytearray(original)
    position = draw.draw(st.integers(0, len(mutated) - 1))
    mutated[position] ^= draw.draw(st.integers(1, 255))
    try:
        opened = open_piece(1, bytes(mutated), KEY, chunk_id(KEY, plaintext), MAX)
    except PieceInvalid:
        return
    assert opened == plaintext
    assert zlib.decompress(bytes(mutated) * 2 + b"\x03\x00", -15) == plaintext * 2


@given(CHUNKS, st.data())
def test_a_truncated_piece_is_refused(data: bytes, draw: st.DataObject) -> None:
    plaintext = data + b"tail" * 100
    piece = piece_of(plaintext)
    cut = draw.draw(st.integers(0, len(piece) - 1))
    refused(1, piece[:cut], plaintext)


def test_a_piece_whose_plaintext_is_not_its_chunk_is_refused() -> None:
    with pytest.raises(PieceInvalid, match="does not hash to the chunk id"):
        open_piece(1, piece_of(b"a" * 1000), KEY, chunk_id(KEY, b"b" * 1000), MAX)
    with pytest.raises(PieceInvalid, match="does not hash"):
        open_piece(0, b"plain", bytes(32), chunk_id(KEY, b"plain"), MAX)


@pytest.mark.parametrize("codec", [2, 7, 255])
def test_an_unknown_codec_is_refused(codec: int) -> None:
    refused(codec, b"data", b"data", f"unknown codec {codec}")


def test_an_empty_chunk_is_refused_in_either_codec() -> None:
    refused(0, b"", b"", "empty")
    refused(1, b"\x00\x00\x00\xff\xff", b"", "empty")  # one empty stored block


def test_a_piece_with_a_final_block_is_refused() -> None:
    plaintext = b"final " * 100
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    finished = compressor.compress(plaintext) + compressor.flush(zlib.Z_FINISH)
    refused(1, finished, plaintext, "full flush")
    # The same, made to end in 00 00 FF FF by a final empty stored block.
    refused(1, piece_of(plaintext) + b"\x01\x00\x00\xff\xff", plaintext, "final block")
    # A final stored block whose own data ends in 00 00 FF FF.
    data = b"xyz\x00\x00\xff\xff"
    final_stored = bytes((1, len(data), 0, 0xFF - len(data), 0xFF)) + data
    refused(1, final_stored, data, "final block")


def test_a_piece_cut_mid_block_is_refused_even_with_a_full_flush_marker() -> None:
    plaintext = bytes(range(200)) * 50
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    whole = compressor.compress(plaintext) + compressor.flush(zlib.Z_FULL_FLUSH)
    refused(1, whole[: len(whole) // 2] + b"\x00\x00\xff\xff", plaintext)


def test_a_piece_not_ending_on_a_byte_boundary_is_refused() -> None:
    # A fixed-Huffman block of four 9-bit literals ends at bit 46 of 48: the next block
    # header straddles into the marker, which is then read off its byte boundary.
    bits = BitWriter().field(0, 1).field(1, 2)
    for byte in b"\x90\x91\x92\x93":
        bits.fixed_literal(byte)
    bits.end_of_block()
    assert len(bits.bits) % 8 == 6
    for fill in (0, 1):
        refused(1, bits.to_bytes(fill) + b"\x00\x00\xff\xff", b"\x90\x91\x92\x93")


def test_a_piece_aligned_by_its_own_empty_stored_block_is_accepted() -> None:
    """What zlib's sync flush makes: a block ending mid-byte, then an empty stored block
    (which aligns). It concatenates, so it is a valid piece."""
    bits = BitWriter().field(0, 1).field(1, 2)
    for byte in b"abcd":
        bits.fixed_literal(byte)
    bits.end_of_block().field(0, 1).field(0, 2)  # an empty stored block: aligned by padding
    piece = bits.to_bytes() + b"\x00\x00\xff\xff"
    assert open_piece(1, piece, KEY, chunk_id(KEY, b"abcd"), MAX) == b"abcd"


def test_a_piece_that_refers_back_before_its_start_is_refused() -> None:
    # Length 3 at distance 1 as the first symbol: there is nothing behind it to copy.
    bits = BitWriter().field(0, 1).field(1, 2).code(1, 7).code(0, 5).end_of_block()
    bits.field(0, 1).field(0, 2)
    refused(1, bits.to_bytes() + b"\x00\x00\xff\xff", b"\x00" * 3, "distance too far back")
    # A piece compressed against a preset dictionary refers back into it.
    dictionary = b"0123456789abcdef" * 16
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15, zdict=dictionary)
    piece = compressor.compress(dictionary) + compressor.flush(zlib.Z_FULL_FLUSH)
    refused(1, piece, dictionary, "distance too far back")


def test_a_bomb_is_refused_after_at_most_max_size_of_output() -> None:
    zeros = piece_of(bytes(MAX))
    refused(1, zeros * 2, bytes(2 * MAX), "larger than")
    bomb = zeros * 256  # 1 GiB of zeros in about a megabyte
    tracemalloc.start()
    try:
        refused(1, bomb, b"", "larger than")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * MAX
    refused(0, bytes(MAX + 1), bytes(MAX + 1), "larger than")


def test_a_stream_only_a_lax_inflater_accepts_is_refused() -> None:
    """Found by fuzzing mutated pieces: ISA-L inflates it, zlib finds an invalid distance
    code set. Tools built on zlib would fail on such an archive, so the server refuses it."""
    piece = bytes.fromhex(
        "04c1310100000cc2b01f1595009260fe3d6cc1f1f5bc7146b14706da2ca99128c9030000ffff"
    )
    lax = isal_zlib.decompressobj(-15).decompress(piece + b"\x03\x00")
    refused(1, piece, lax, "invalid distances set")
