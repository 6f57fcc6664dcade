"""Reading the key from an ``Authorization`` header (``kit.auth.api_key_from_header``).

The server reads header bytes as Latin-1, so the parser sees any text of U+0000–U+00FF:
whatever it is, the answer is a key or ``None`` (401), never an exception (500).
"""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.kit.auth import api_key_from_header

LATIN_1 = st.text(st.characters(max_codepoint=0xFF), max_size=60)


@given(LATIN_1)
def test_any_header_text_is_a_key_or_none(header: str) -> None:
    key = api_key_from_header(header)
    assert key is None or (0 < len(key) <= 200 and "\x00" not in key)


@given(LATIN_1.map(lambda text: "Basic " + text))
def test_any_basic_credentials_are_a_key_or_none(header: str) -> None:
    api_key_from_header(header)


def test_utf8_and_latin_1_bytes_where_base64_belongs_are_malformed() -> None:
    for raw in ("Basic ключ".encode(), "Basic clé".encode("latin-1"), "Básic eDo=".encode()):
        assert api_key_from_header(raw.decode("latin-1")) is None


def test_a_utf8_username_is_read() -> None:
    header = "Basic " + base64.b64encode("ключ:".encode()).decode()
    assert api_key_from_header(header) == "ключ"
