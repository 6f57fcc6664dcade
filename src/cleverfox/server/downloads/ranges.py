"""Serving a file of known size: single byte ranges, If-Range, HEAD, the download headers.

``Range: bytes=a-b``, ``bytes=a-`` and ``bytes=-n`` answer 206 with ``Content-Range``; a
range that starts past the end (or ``-0``) answers 416 with ``Content-Range: bytes */size``.
Several ranges in one header, or a header that is not a byte range at all, are ignored and
the whole file is served (200): RFC 9110 lets a server ignore Range, and no download tool
needs multipart answers. ``If-Range`` with anything but the current strong ETag serves the
whole file too, so a resumed download never splices two different files.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from starlette.responses import Response, StreamingResponse

from cleverfox.server.kit.errors import AppError

_RANGE = re.compile(r"bytes=(?P<start>[0-9]*)-(?P<end>[0-9]*)")
_UNSAFE_ASCII = re.compile(r'[^\x20-\x7e]|["\\;%/]')


class RangeNotSatisfiable(AppError):
    status = 416
    default_code = "range_not_satisfiable"
    default_message = "The requested byte range lies outside the file."

    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}"})


@dataclass(frozen=True, slots=True)
class Served:
    """A file to serve: its size, strong ETag, Content-Type, download name, and its bytes
    ``[start, stop)`` on demand."""

    size: int
    etag: str
    media_type: str
    file_name: str
    body: Callable[[int, int], Iterator[bytes]]


def requested_range(
    range_header: str | None, if_range: str | None, etag: str, size: int
) -> tuple[int, int] | None:
    """``(start, stop)`` of the one range asked for, or ``None`` for the whole file;
    ``RangeNotSatisfiable`` when it lies outside it."""
    if range_header is None or (if_range is not None and if_range.strip() != etag):
        return None
    match = _RANGE.fullmatch(range_header.strip().replace(" ", ""))
    if match is None or (not match["start"] and not match["end"]):
        return None
    if not match["start"]:
        suffix = int(match["end"])
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(size - suffix, 0), size
    start = int(match["start"])
    if match["end"] and int(match["end"]) < start:
        return None  # not a valid range: ignored, as RFC 9110 says
    if start >= size:
        raise RangeNotSatisfiable(size)
    stop = size if not match["end"] else min(int(match["end"]) + 1, size)
    return start, stop


def attachment(file_name: str) -> str:
    """``Content-Disposition`` for a download named ``file_name``: an ASCII fallback for
    old clients and the exact name as ``filename*=UTF-8''…``."""
    fallback = _UNSAFE_ASCII.sub("_", file_name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def file_response(
    served: Served, method: str, range_header: str | None, if_range: str | None
) -> Response:
    """200, 206 or (raised) 416 for ``served``; HEAD answers the headers only."""
    wanted = requested_range(range_header, if_range, served.etag, served.size)
    start, stop = wanted or (0, served.size)
    headers = {
        "Content-Type": served.media_type,
        "Content-Disposition": attachment(served.file_name),
        "Content-Length": str(stop - start),
        "ETag": served.etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
    }
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{served.size}"
    if method == "HEAD" or start == stop:
        return Response(b"", status_code=status, headers=headers)
    return StreamingResponse(served.body(start, stop), status_code=status, headers=headers)
