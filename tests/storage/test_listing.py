"""The backup list: its escapes, its header, and byte ranges of it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.listing import HEADER, list_bytes, list_line


def test_a_line_is_path_size_and_utc_second() -> None:
    assert (
        list_line("docs/ü.txt", 12, 1_700_000_000_999)
        == "docs/ü.txt\t12\t2023-11-14T22:13:20Z\n".encode()
    )


def test_tabs_newlines_and_backslashes_are_escaped_so_each_file_is_one_line() -> None:
    assert list_line("a\tb\nc\rd\\e", 0, 0) == b"a\\tb\\nc\\rd\\\\e\t0\t1970-01-01T00:00:00Z\n"


LINES = st.lists(
    st.builds(
        list_line,
        st.text(min_size=1, max_size=20),
        st.integers(0, 10**12),
        st.integers(0, 253_402_300_799_999),
    ),
    max_size=30,
)


@given(LINES, st.data())
def test_any_range_of_the_list_is_the_slice_of_the_whole(
    lines: list[bytes], data: st.DataObject
) -> None:
    whole = HEADER + b"".join(lines)
    assert b"".join(list_bytes(lines)) == whole
    assert all(line.count(b"\n") == 1 for line in lines)
    start = data.draw(st.integers(0, len(whole)))
    stop = data.draw(st.integers(start, len(whole) + 5))
    assert b"".join(list_bytes(lines, start, stop)) == whole[start:stop]
