"""Chunking: deterministic cut points, sizes within bounds, files read in bounded memory."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from blake3 import blake3
from hypothesis import given
from hypothesis import strategies as st
from pyfastcdc.py import FastCDC as PureFastCDC

from cleverfox.storage.chunking import DEFAULT_CHUNKING, Chunker, ChunkingParams

KIB = 1024
MIB = 1024 * KIB
TINY_CHUNKS = ChunkingParams(min_bytes=64, avg_bytes=256, max_bytes=1024)


def golden_input() -> bytes:
    """20 MiB that every platform makes alike: BLAKE3 output, with runs of zeros (which
    force maximum-size cuts) in the middle."""
    noise = blake3(b"cleverfox chunking golden vector").digest(length=14 * MIB)
    return noise[: 8 * MIB] + bytes(9 * MIB) + noise[8 * MIB :][: 3 * MIB]


# The cut points of golden_input() with the check-in's parameters, measured once. A change
# here means every agent's next backup re-uploads everything: it must never happen by accident.
GOLDEN_LENGTHS = [
    1202781, 2054421, 2291072, 893677, 689170, 4194304,
    4194304, 2526405, 614049, 964093, 1342056, 5188,
]  # fmt: skip


def test_the_check_ins_parameters_cut_the_golden_vector_where_they_always_did() -> None:
    lengths = [len(c) for c in Chunker(DEFAULT_CHUNKING).chunks_of_bytes(golden_input())]
    assert lengths == GOLDEN_LENGTHS


def test_the_compiled_chunker_and_the_pure_python_reference_cut_alike() -> None:
    """The library's pure-Python fallback is the platform-independent reference."""
    data = golden_input()[7 * MIB + 900 * KIB : 8 * MIB + 200 * KIB]
    params = TINY_CHUNKS
    reference = PureFastCDC(params.avg_bytes, min_size=params.min_bytes, max_size=params.max_bytes)
    expected = [chunk.length for chunk in reference.cut_buf(data)]
    assert [len(c) for c in Chunker(params).chunks_of_bytes(data)] == expected


@given(st.binary(max_size=20_000))
def test_chunks_cover_the_input_in_order_within_bounds(data: bytes) -> None:
    chunks = [bytes(c) for c in Chunker(TINY_CHUNKS).chunks_of_bytes(data)]
    assert b"".join(chunks) == data
    assert all(len(c) <= TINY_CHUNKS.max_bytes for c in chunks)
    # Only the last chunk may be shorter than the minimum; an empty input has no chunk.
    assert all(len(c) >= TINY_CHUNKS.min_bytes for c in chunks[:-1])
    assert all(chunks)


def test_an_input_smaller_than_the_minimum_is_one_chunk() -> None:
    assert [len(c) for c in Chunker().chunks_of_bytes(bytes(100))] == [100]


@given(st.binary(max_size=5000), st.binary(max_size=5000), st.binary(min_size=1, max_size=50))
def test_an_edit_changes_only_the_chunks_around_it(head: bytes, tail: bytes, edit: bytes) -> None:
    chunker = Chunker(TINY_CHUNKS)
    noise = blake3(head + tail).digest(length=24_000)
    before = [bytes(c) for c in chunker.chunks_of_bytes(noise + tail)]
    after = [bytes(c) for c in chunker.chunks_of_bytes(noise[:4000] + edit + noise[4000:] + tail)]
    # Content-defined: the chunks well before and well after the edit (20 KB of the same
    # bytes, some 60 chunks, for the cut points to fall in step again) are shared.
    assert before[0] == after[0]
    assert before[-1] == after[-1]


def test_a_file_and_a_stream_chunk_like_its_bytes(tmp_path: Path) -> None:
    data = golden_input()[: 6 * MIB]
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    chunker = Chunker()
    expected = [bytes(c) for c in chunker.chunks_of_bytes(data)]
    assert list(chunker.chunks_of_file(path)) == expected
    assert list(chunker.chunks_of_stream(io.BytesIO(data))) == expected


def test_an_empty_file_has_no_chunks(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    assert list(Chunker().chunks_of_file(tmp_path / "empty")) == []


def test_a_chunker_pickles_as_its_parameters() -> None:
    chunker = pickle.loads(pickle.dumps(Chunker(TINY_CHUNKS)))
    assert chunker.params == TINY_CHUNKS
    assert [len(c) for c in chunker.chunks_of_bytes(bytes(3000))] == [1024, 1024, 952]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_bytes": 32}, "min_bytes"),
        ({"max_bytes": 32 * MIB}, "max_bytes"),
        ({"min_bytes": 512 * KIB, "avg_bytes": 256 * KIB}, "min_bytes <= avg_bytes"),
    ],
)
def test_parameters_outside_the_bounds_are_refused(params: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkingParams(**params)
