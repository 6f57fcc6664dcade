"""Upload records: malformed bodies versus invalid records (storage.md §3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.errors import PackMalformed, RecordInvalid
from cleverfox.storage.ids import chunk_id
from cleverfox.storage.pieces import Codec, make_piece
from cleverfox.storage.records import (
    RECORD_HEADER_BYTES,
    encode_records,
    parse_records,
    record_header,
    verify_records,
)

KEY = bytes(range(32))
MAX = 1 << 20


def record_of(data: bytes, compress: bool = True) -> tuple[bytes, int, bytes]:
    piece = make_piece(data, compress)
    return chunk_id(KEY, data), piece.codec, piece.data


@given(st.lists(st.tuples(st.binary(min_size=1, max_size=2000), st.booleans()), min_size=1))
def test_records_round_trip_and_verify(chunks: list[tuple[bytes, bool]]) -> None:
    records = [record_of(data, compress) for data, compress in chunks]
    parsed = parse_records(encode_records(records))
    assert [(r.chunk_id, r.codec, bytes(r.piece)) for r in parsed] == records
    verified = list(verify_records(parsed, KEY, MAX))
    assert [(v.facts.size, v.facts.piece_length) for v in verified] == [
        (len(data), len(piece)) for (data, _), (_, _, piece) in zip(chunks, records, strict=True)
    ]


def test_pieces_are_views_into_the_body_not_copies() -> None:
    body = bytearray(encode_records([record_of(b"abc" * 100)]))
    (record,) = parse_records(body)
    body[-1] ^= 0xFF
    assert record.piece[-1] == body[-1]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "no records"),
        (bytes(36), "record 1: its header is cut short"),
        (record_header(bytes(32), 0, 10) + bytes(9), "record 1: its length runs past the end"),
        (record_header(bytes(32), 0, 1) + b"x" + bytes(5), "record 2: its header is cut short"),
        (record_header(bytes(32), 0, 2**32 - 1), "record 1: its length runs past the end"),
    ],
)
def test_a_body_that_is_not_a_sequence_of_records_is_malformed(body: bytes, reason: str) -> None:
    with pytest.raises(PackMalformed, match=reason):
        parse_records(body)


@given(st.binary(max_size=200))
def test_any_body_parses_or_is_malformed(body: bytes) -> None:
    try:
        records = parse_records(body)
    except PackMalformed:
        return
    assert sum(RECORD_HEADER_BYTES + len(r.piece) for r in records) == len(body)


def test_an_unknown_codec_is_an_invalid_record_naming_its_id() -> None:
    good = record_of(b"good" * 50)
    bad_id = chunk_id(KEY, b"bad")
    records = parse_records(encode_records([good, (bad_id, 9, b"bad")]))
    with pytest.raises(RecordInvalid) as refused:
        list(verify_records(records, KEY, MAX))
    assert refused.value.chunk_id == bad_id
    assert str(refused.value) == f"chunk {bad_id.hex()}: unknown codec 9"


def test_a_piece_under_the_wrong_id_is_an_invalid_record() -> None:
    _, codec, piece = record_of(b"one" * 100)
    wrong = chunk_id(KEY, b"two")
    with pytest.raises(RecordInvalid, match="does not hash") as refused:
        list(verify_records(parse_records(encode_records([(wrong, codec, piece)])), KEY, MAX))
    assert refused.value.chunk_id == wrong


def test_a_repeated_id_is_not_malformed() -> None:
    record = record_of(b"twice" * 100)
    verified = list(verify_records(parse_records(encode_records([record, record])), KEY, MAX))
    assert [v.chunk_id for v in verified] == [record[0], record[0]]
    assert verified[0].facts.codec == Codec.DEFLATE
