"""Fetching a backup file or list from the ``Url`` a download call returned.

The URL needs no API key (none is sent: it may point at another host) and is valid until the
Log Item's ``expires``. It serves ``Content-Length`` and byte ranges, so a transfer resumes
with ``Range: bytes=N-``. A server that ignores the range (200) is handled by skipping the
first N bytes; 416 with ``Content-Range: bytes */N`` means the first N bytes are all there is.
"""

from __future__ import annotations

import re

import httpx

from cleverfox.client._wire import request_id
from cleverfox.client.errors import UnexpectedResponse
from cleverfox.client.models import LogItem

CHUNK_SIZE = 1 << 16
_RANGE = re.compile(r"bytes\s+(\d+)-\d+/(\d+|\*)|bytes\s+\*/(\d+)")


def download_url(source: LogItem | str) -> str:
    """The URL to fetch: a LogItem's ``url`` (from a download call) or a URL itself."""
    if isinstance(source, str):
        return source
    if not source.url:
        raise ValueError("this Log Item has no Url: get it with download_backup_file/_list")
    return source.url


def range_headers(offset: int) -> dict[str, str]:
    """Headers asking for the bytes from ``offset`` on."""
    if offset < 0:
        raise ValueError("offset cannot be negative")
    return {"Range": f"bytes={offset}-"} if offset else {}


def is_past_end(response: httpx.Response, offset: int) -> bool:
    """Whether the answer is 416 because ``offset`` is exactly the file's size."""
    if response.status_code != 416:
        return False
    match = _RANGE.fullmatch(response.headers.get("content-range", "").strip())
    return bool(match and match.group(3) and int(match.group(3)) == offset)


def bytes_to_skip(response: httpx.Response, offset: int) -> int:
    """How many leading bytes of a 200 or 206 answer to drop so the stream starts at
    ``offset``: a 206 must start there, a 200 (range ignored) starts at 0."""
    if response.status_code == 200:
        return offset
    match = _RANGE.fullmatch(response.headers.get("content-range", "").strip())
    if not (match and match.group(1) and int(match.group(1)) == offset):
        raise UnexpectedResponse(
            f"asked for bytes from {offset}, got Content-Range "
            f"{response.headers.get('content-range')!r}",
            status=response.status_code,
            request_id=request_id(response),
        )
    return 0


def skip_prefix(chunk: bytes, skip: int) -> tuple[bytes, int]:
    """The part of ``chunk`` past ``skip`` bytes, and how many are still to skip."""
    if skip <= 0:
        return chunk, 0
    return chunk[skip:], max(0, skip - len(chunk))
