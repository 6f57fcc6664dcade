"""Inputs the request pipeline (``kit.inputs``) reads before any resource code runs.

A path id is ASCII digits of a positive int64 or 404; names a client chose (ignored
attributes and parameters) reach a response header only percent-encoded, so no name can
break the header or the connection.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.inputs import names_header, path_id
from cleverfox.server.kit.wire import INT64_MAX

NAMES = st.lists(st.text(st.characters(codec="utf-8")), min_size=1, max_size=5)


@given(st.integers(1, INT64_MAX))
def test_positive_int64_ids_are_read(number: int) -> None:
    assert path_id(str(number)) == number


@given(st.text(max_size=25))
def test_anything_else_is_404(text: str) -> None:
    if text.isascii() and text.isdigit() and 0 < int(text) <= INT64_MAX:
        assert path_id(text) == int(text)
    else:
        with pytest.raises(NotFound):
            path_id(text)


@pytest.mark.parametrize("text", ["0", "-1", "+1", " 1", "1.0", "³", "١", "²⁵", str(INT64_MAX + 1)])
def test_ids_that_cannot_exist(text: str) -> None:
    with pytest.raises(NotFound):
        path_id(text)


@given(NAMES)
def test_names_header_is_printable_ascii_and_reads_back(names: list[str]) -> None:
    value = names_header(names)
    assert all(0x20 <= ord(c) < 0x7F for c in value) and " " not in value
    assert [unquote(part) for part in value.split(",")] == names


@given(st.lists(st.text("ABCxyz019_-.:;/[]{}!?*", min_size=1), min_size=1, max_size=4))
def test_plain_names_are_sent_as_they_are(names: list[str]) -> None:
    assert names_header(names) == ",".join(names)
