"""The backup list (``.txt``): UTF-8, a header line, then one line per file in archive order.

```
Path<TAB>Size<TAB>ModifiedUtc
docs/a.txt<TAB>1234<TAB>2024-05-01T12:00:00Z
```

Lines end in LF. A path is written with ``\\`` as ``\\\\``, TAB as ``\\t``, LF as ``\\n``
and CR as ``\\r``: POSIX names may hold all four, and the list stays one unambiguous line per
file (the archive has the names as they are). Every line's size is known when the manifest
is resolved, so the list's ``Content-Length`` and byte ranges are exact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

HEADER = b"Path\tSize\tModifiedUtc\n"
WRITE_BYTES = 1 << 20
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def list_line(path: str, size: int, modified_ms: int) -> bytes:
    """One file's line, LF included."""
    when = datetime.fromtimestamp(modified_ms // 1000, UTC)
    text = f"{path.translate(_ESCAPES)}\t{size}\t{when:%Y-%m-%dT%H:%M:%S}Z\n"
    return text.encode()


def list_bytes(lines: Iterable[bytes], start: int = 0, stop: int | None = None) -> Iterator[bytes]:
    """The list whose file lines are ``lines`` (header added), bytes ``[start, stop)`` of it,
    in writes of about 1 MiB."""
    buffer = bytearray()
    position = 0
    for line in _with_header(lines):
        end = position + len(line)
        if end > start:
            buffer += line[max(start - position, 0) : None if stop is None else stop - position]
            if len(buffer) >= WRITE_BYTES:
                yield bytes(buffer)
                buffer.clear()
        position = end
        if stop is not None and position >= stop:
            break
    if buffer:
        yield bytes(buffer)


def _with_header(lines: Iterable[bytes]) -> Iterator[bytes]:
    yield HEADER
    yield from lines
