"""Byte ranges of a download: the one range asked for, the whole file when the header is
ignored (several ranges, not a byte range, a stale If-Range), 416 outside the file."""

from __future__ import annotations

import pytest

from cleverfox.server.downloads.ranges import RangeNotSatisfiable, attachment, requested_range

TAG = '"cfx1-zip-abc"'


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-0", 10, (0, 1)),
        ("bytes=9-9", 10, (9, 10)),
        ("bytes=2-5", 10, (2, 6)),
        ("bytes=3-", 10, (3, 10)),
        ("bytes=-4", 10, (6, 10)),
        ("bytes=-40", 10, (0, 10)),
        ("bytes=5-400", 10, (5, 10)),
        (" bytes = 1 - 2 ", 10, (1, 3)),
        (None, 10, None),
        ("bytes=0-1,4-5", 10, None),
        ("lines=0-1", 10, None),
        ("bytes=5-2", 10, None),
        ("bytes=-", 10, None),
        ("bytes=a-b", 10, None),
    ],
)
def test_a_range_is_read_or_ignored(
    header: str | None, size: int, expected: tuple[int, int] | None
) -> None:
    assert requested_range(header, None, TAG, size) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0), ("bytes=-5", 0)]
)
def test_a_range_outside_the_file_is_not_satisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        requested_range(header, None, TAG, size)
    assert caught.value.headers == {"Content-Range": f"bytes */{size}"}


def test_if_range_serves_the_range_only_for_the_current_etag() -> None:
    assert requested_range("bytes=1-2", TAG, TAG, 10) == (1, 3)
    assert requested_range("bytes=1-2", '"other"', TAG, 10) is None
    assert requested_range("bytes=1-2", "Wed, 21 Oct 2015 07:28:00 GMT", TAG, 10) is None


def test_the_attachment_names_the_file_exactly_and_in_ascii() -> None:
    assert attachment("Nightly-Docs-20260501.zip") == (
        'attachment; filename="Nightly-Docs-20260501.zip"; '
        "filename*=UTF-8''Nightly-Docs-20260501.zip"
    )
    header = attachment('grüße "x";%.txt')
    assert header == (
        'attachment; filename="gr__e _x___.txt"; '
        "filename*=UTF-8''gr%C3%BC%C3%9Fe%20%22x%22%3B%25.txt"
    )
