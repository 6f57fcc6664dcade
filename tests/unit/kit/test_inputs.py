"""Inputs the request pipeline (``kit.inputs``) reads before any resource code runs.

A path id is ASCII digits of a positive int64 or 404; names a client chose (ignored
attributes and parameters) reach a response header only percent-encoded, so no name can
break the header or the connection, and only the first few, so no body can make the
header too large for a client or proxy to read.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.server.kit.errors import NotFound
from cleverfox.server.kit.inputs import MAX_NAMED, MAX_NAMES_HEADER, names_header, path_id
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


def _read_back(value: str) -> tuple[list[str], int]:
    """The names a header value names, and how many more it counts (``and N more``)."""
    parts = value.split(",")
    more = re.fullmatch(r"and (\d+) more", parts[-1])
    if more is not None:
        parts.pop()
    return [unquote(part) for part in parts], int(more.group(1)) if more else 0


@given(NAMES)
def test_names_header_is_printable_ascii_and_reads_back(names: list[str]) -> None:
    value = names_header(names)
    assert all(0x20 <= ord(c) < 0x7F for c in value)
    named, more = _read_back(value)
    assert named == names[: len(named)] and len(named) + more == len(names)


@given(st.lists(st.text(st.characters(codec="utf-8"), max_size=300), min_size=1, max_size=60))
def test_names_header_is_bounded_and_counts_the_rest(names: list[str]) -> None:
    value = names_header(names)
    assert len(value) <= MAX_NAMES_HEADER
    named, more = _read_back(value)
    assert len(named) <= MAX_NAMED and named == names[: len(named)]
    assert len(named) + more == len(names)


def test_the_first_twenty_names_are_named_then_counted() -> None:
    names = [f"Unknown{i}" for i in range(20_000)]
    assert names_header(names) == ",".join(names[:20]) + ",and 19980 more"


def test_names_that_fill_the_bound_are_counted_not_cut() -> None:
    names = ["x" * 600, "y" * 600, "z"]
    assert names_header(names) == "x" * 600 + ",and 2 more"
    assert names_header(["x" * 2000]) == "and 1 more"
    assert names_header(["x" * MAX_NAMES_HEADER]) == "x" * MAX_NAMES_HEADER


@given(st.lists(st.text("ABCxyz019_-.:;/[]{}!?*", min_size=1), min_size=1, max_size=4))
def test_plain_names_are_sent_as_they_are(names: list[str]) -> None:
    assert names_header(names) == ",".join(names)
