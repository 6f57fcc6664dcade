"""Pieces: how a chunk travels and is stored, and the server's check of every uploaded one.

A piece is codec 0, the plaintext itself, or codec 1, raw deflate made by a fresh compressor
that ends in a full flush (``00 00 FF FF``) and holds no final block (docs/storage-format.md
§3). Codec-1 pieces concatenate: a ZIP entry's deflate data is its chunks' deflate forms in
order plus ``03 00``. Either codec converts to the other *form* with an exactly known size,
so an archive's length and byte ranges are known without reading a piece.

The agent compresses with ISA-L (PyPI ``isal``, level 2: ~250 MiB/s, 4x zlib level 1 at the
same ratio). The server verifies with the standard library's zlib, not ISA-L: fuzzing
mutated pieces, ISA-L's inflater accepted streams (incomplete Huffman code sets) that zlib
refuses, and a piece only one inflater accepts would corrupt the archive for the other
tools. Conversion of an already verified piece uses ISA-L, which is faster.
"""

from __future__ import annotations

import zlib
from enum import IntEnum
from typing import NamedTuple

from isal import isal_zlib

from cleverfox.storage.errors import PieceInvalid
from cleverfox.storage.ids import chunk_id as keyed_chunk_id

Buffer = bytes | bytearray | memoryview


class Codec(IntEnum):
    """How a piece holds its chunk: the upload record's codec byte."""

    PLAIN = 0
    DEFLATE = 1


class Form(IntEnum):
    """The form a ZIP entry needs of each chunk: its method's (0 stored, 8 deflate)."""

    PLAIN = 0
    DEFLATE = 8


DEFLATE_LEVEL = 2
FULL_FLUSH_MARKER = b"\x00\x00\xff\xff"
FINAL_EMPTY_BLOCK = b"\x03\x00"
STORED_BLOCK_MAX = 65_535
STORED_BLOCK_HEADER = 5
# Deflate is kept only when it saves at least 1/64 of the chunk (~1.6 %): less is not worth
# the agent's compression nor an inflate on every download of the chunk in stored form.
_MIN_SAVING_SHIFT = 6


class Piece(NamedTuple):
    """A chunk as it travels: its codec and the piece's bytes."""

    codec: Codec
    data: bytes


def make_piece(plaintext: Buffer, compress: bool) -> Piece:
    """The piece of a chunk: deflated when ``compress`` and deflate saves enough, else plain."""
    if not compress or not plaintext:
        return Piece(Codec.PLAIN, bytes(plaintext))
    compressor = isal_zlib.compressobj(DEFLATE_LEVEL, isal_zlib.DEFLATED, -15)
    deflated = compressor.compress(plaintext) + compressor.flush(isal_zlib.Z_FULL_FLUSH)
    size = len(plaintext)
    if len(deflated) <= size - (size >> _MIN_SAVING_SHIFT):
        return Piece(Codec.DEFLATE, deflated)
    return Piece(Codec.PLAIN, bytes(plaintext))


def open_piece(codec: int, piece: Buffer, id_key: bytes, chunk_id: bytes, max_size: int) -> bytes:
    """The plaintext of a verified piece, or ``PieceInvalid(reason)``.

    Verified: the codec is known; the plaintext is 1 to ``max_size`` bytes (inflating stops
    past that, so a deflate bomb costs at most ``max_size`` of output); a deflate piece ends
    in a full flush, holds no final block and refers back to nothing before it (inflating
    ``piece + 03 00`` with a fresh inflater ends exactly at the end); and the plaintext's
    keyed BLAKE3 is ``chunk_id``.
    """
    if codec == Codec.PLAIN:
        plaintext = _checked_size(bytes(piece), max_size)
    elif codec == Codec.DEFLATE:
        plaintext = _checked_size(_inflate_piece(piece, max_size), max_size)
    else:
        raise PieceInvalid(f"unknown codec {codec}")
    if keyed_chunk_id(id_key, plaintext) != chunk_id:
        raise PieceInvalid("the plaintext does not hash to the chunk id")
    return plaintext


def _checked_size(plaintext: bytes, max_size: int) -> bytes:
    if not plaintext:
        raise PieceInvalid("an empty chunk")
    if len(plaintext) > max_size:
        raise PieceInvalid(f"the chunk is larger than {max_size} bytes")
    return plaintext


def _inflate_piece(piece: Buffer, max_size: int) -> bytes:
    if len(piece) < len(FULL_FLUSH_MARKER) or piece[-4:] != FULL_FLUSH_MARKER:
        raise PieceInvalid("a deflate piece must end in a full flush (00 00 FF FF)")
    inflater = zlib.decompressobj(-15)
    try:
        plaintext = inflater.decompress(piece, max_size + 1)
        if len(plaintext) > max_size or inflater.unconsumed_tail:
            raise PieceInvalid(f"the chunk is larger than {max_size} bytes")
        if inflater.eof:
            raise PieceInvalid("a deflate piece must not hold a final block")
        rest = inflater.decompress(FINAL_EMPTY_BLOCK, 1)
    except zlib.error as error:
        raise PieceInvalid(f"not valid raw deflate ({error})") from None
    if rest or not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise PieceInvalid("a deflate piece must end on a byte-aligned block boundary")
    return plaintext


def deflate_form(codec: int, piece: Buffer) -> bytes:
    """The chunk as deflate data that concatenates: the piece, or stored blocks around it."""
    if codec == Codec.DEFLATE:
        return bytes(piece)
    view = memoryview(piece)
    parts: list[bytes | memoryview] = []
    for start in range(0, len(view), STORED_BLOCK_MAX):
        block = view[start : start + STORED_BLOCK_MAX]
        length = len(block)
        parts.append(bytes((0, length & 0xFF, length >> 8, ~length & 0xFF, (~length >> 8) & 0xFF)))
        parts.append(block)
    return b"".join(parts)


def plain_form(codec: int, piece: Buffer) -> bytes:
    """The chunk's plaintext from a piece already verified (``open_piece``) when stored."""
    if codec == Codec.PLAIN:
        return bytes(piece)
    return isal_zlib.decompressobj(-15).decompress(piece)


def deflate_form_size(codec: int, piece_length: int, size: int) -> int:
    """Exact length of ``deflate_form`` for a chunk of ``size`` bytes in a piece of that length."""
    if codec == Codec.DEFLATE:
        return piece_length
    return size + STORED_BLOCK_HEADER * -(-size // STORED_BLOCK_MAX)


def form_size(form: Form, codec: int, piece_length: int, size: int) -> int:
    """Exact length of the chunk in ``form``: its plaintext size, or its deflate form's."""
    if form == Form.PLAIN:
        return size
    return deflate_form_size(codec, piece_length, size)


def to_form(form: Form, codec: int, piece: Buffer) -> bytes:
    """The chunk in ``form`` (``plain_form`` or ``deflate_form``)."""
    if form == Form.PLAIN:
        return plain_form(codec, piece)
    return deflate_form(codec, piece)
