"""Sealing: what is sealed opens only as what, and whose, it was sealed as."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.errors import Damaged, KeysInvalid
from cleverfox.storage.sealing import SEAL_OVERHEAD, CompanyKeys, CompanySealer

KEYS = CompanyKeys(bytes(range(32)), bytes(range(32, 64)))
CHUNK = bytes(32)
OTHER_CHUNK = b"\x01" * 32


def test_company_keys_round_trip_through_their_versioned_bytes() -> None:
    raw = KEYS.to_bytes()
    assert raw[0] == 1 and len(raw) == 65
    assert CompanyKeys.from_bytes(raw) == KEYS


@pytest.mark.parametrize("raw", [b"", bytes(65), b"\x02" + bytes(64), b"\x01" + bytes(63)])
def test_key_bytes_of_another_version_or_length_are_refused(raw: bytes) -> None:
    with pytest.raises(KeysInvalid):
        CompanyKeys.from_bytes(raw)


def test_keys_are_random_and_never_printed() -> None:
    first, second = CompanyKeys.generate(), CompanyKeys.generate()
    assert first.id_key != second.id_key and first.data_key != second.data_key
    assert first.id_key.hex() not in repr(first) and repr(first) == "CompanyKeys()"


@given(st.binary(max_size=5000))
def test_a_piece_opens_as_sealed_and_grows_by_the_overhead(piece: bytes) -> None:
    sealer = CompanySealer(KEYS.data_key, 7)
    sealed = sealer.seal_piece(CHUNK, piece)
    assert len(sealed) == len(piece) + SEAL_OVERHEAD == len(piece) + 28
    assert sealer.open_piece(CHUNK, sealed) == piece
    assert sealer.seal_piece(CHUNK, piece) != sealed  # a fresh nonce each time


def test_a_piece_does_not_open_for_another_chunk_company_or_key() -> None:
    sealed = CompanySealer(KEYS.data_key, 7).seal_piece(CHUNK, b"piece")
    for sealer, chunk in (
        (CompanySealer(KEYS.data_key, 7), OTHER_CHUNK),
        (CompanySealer(KEYS.data_key, 8), CHUNK),
        (CompanySealer(bytes(32), 7), CHUNK),
    ):
        with pytest.raises(Damaged):
            sealer.open_piece(chunk, sealed)


@given(st.data())
def test_any_altered_byte_or_truncation_fails_to_open(data: st.DataObject) -> None:
    sealer = CompanySealer(KEYS.data_key, 7)
    sealed = bytearray(sealer.seal_piece(CHUNK, b"some piece bytes"))
    position = data.draw(st.integers(0, len(sealed) - 1))
    sealed[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(Damaged):
        sealer.open_piece(CHUNK, bytes(sealed))
    cut = data.draw(st.integers(0, len(sealed) - 1))
    with pytest.raises(Damaged):
        sealer.open_piece(CHUNK, sealer.seal_piece(CHUNK, b"x" * 40)[:cut])


def test_a_trailer_opens_only_under_its_pack_name() -> None:
    sealer = CompanySealer(KEYS.data_key, 7)
    trailer = sealer.seal_trailer("packs/7/ab/ab" + "0" * 30, b"trailer")
    assert sealer.open_trailer("packs/7/ab/ab" + "0" * 30, trailer) == b"trailer"
    with pytest.raises(Damaged):
        sealer.open_trailer("packs/7/cd/cd" + "0" * 30, trailer)


@pytest.mark.parametrize(
    ("digest", "number", "last"),
    [(b"\x02" * 32, 0, False), (bytes(32), 1, False), (bytes(32), 0, True)],
)
def test_a_segment_opens_only_at_its_digest_number_and_last_flag(
    digest: bytes, number: int, last: bool
) -> None:
    sealer = CompanySealer(KEYS.data_key, 7)
    segment = sealer.seal_segment(bytes(32), 0, False, b"records")
    assert sealer.open_segment(bytes(32), 0, False, segment) == b"records"
    with pytest.raises(Damaged):
        sealer.open_segment(digest, number, last, segment)
    with pytest.raises(Damaged):
        sealer.open_piece(CHUNK, segment)


def test_a_data_key_is_32_bytes() -> None:
    with pytest.raises(KeysInvalid):
        CompanySealer(b"short", 1)
