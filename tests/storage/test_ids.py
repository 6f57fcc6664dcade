"""Chunk ids: keyed BLAKE3, per company, with exactly one hex spelling."""

from __future__ import annotations

import pytest
from blake3 import blake3
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.errors import InvalidChunkId
from cleverfox.storage.ids import as_chunk_id, chunk_id, chunk_id_hex, parse_chunk_id

KEY = bytes(range(32))


def test_an_id_is_the_keyed_blake3_of_the_plaintext() -> None:
    assert chunk_id(KEY, b"abc") == blake3(b"abc", key=KEY).digest()
    # Pinned, so that a change of hash or of keying (which would orphan every stored chunk)
    # fails here first; the first is BLAKE3's official keyed-hash vector for empty input.
    official_key = b"whats the Elvish word for friend"
    assert chunk_id(official_key, b"").hex() == (
        "92b2b75604ed3c761f9d6f62392c8a9227ad0ea3f09573e783f1498a4ed60d26"
    )
    assert chunk_id(KEY, b"abc").hex() == (
        "6da54495d8152f2bcba87bd7282df70901cdb66b4448ed5f4c7bd2852b8b5532"
    )


def test_the_same_plaintext_has_unrelated_ids_under_two_companies_keys() -> None:
    assert chunk_id(KEY, b"same") != chunk_id(bytes(32), b"same")


def test_an_id_key_is_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        chunk_id(b"short", b"data")


@given(st.binary(min_size=32, max_size=32))
def test_hex_round_trips(raw: bytes) -> None:
    text = chunk_id_hex(as_chunk_id(raw))
    assert len(text) == 64
    assert parse_chunk_id(text) == raw


@pytest.mark.parametrize(
    "text",
    [
        "",
        "00" * 31,
        "00" * 33,
        "AB" * 32,
        "0g" * 32,
        " " + "0" * 63,
        "0" * 62 + " 0",
        "٠" * 64,  # Arabic-Indic zeros: digits to str.isdigit, not hex
        "0x" + "0" * 62,
    ],
)
def test_anything_but_64_lower_case_hex_digits_is_refused(text: str) -> None:
    with pytest.raises(InvalidChunkId):
        parse_chunk_id(text)


def test_a_raw_id_is_32_bytes() -> None:
    with pytest.raises(InvalidChunkId):
        as_chunk_id(bytes(31))
