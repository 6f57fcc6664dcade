"""Wire shapes of the download endpoints: the entries' filter and the restore request."""

from __future__ import annotations

from typing import Any

from cleverfox.server.kit.listing import Filter
from cleverfox.server.kit.wire import Kind

ENTRY_FILTERS = (Filter("PathContains", Kind.STRING),)
READ_IDS_MAX = 1000
READ_BYTES_MAX = 64 << 20
"""At most this many plaintext bytes per ``chunks/read`` request (the agent's batches)."""

_BYTES = {"schema": {"type": "string", "format": "binary"}}
_FILE_HEADERS = {
    name: {"description": text, "schema": {"type": "string"}}
    for name, text in (
        ("Content-Disposition", "``attachment; filename*=UTF-8''…``: a file, not an envelope."),
        ("ETag", "Strong; the same for every download of the same file."),
        ("Accept-Ranges", "``bytes``: single byte ranges are served (206, 416)."),
    )
}
FILE_RESPONSE: dict[str, Any] = {
    "description": "The whole file: the ZIP, the list or one entry's bytes.",
    "headers": _FILE_HEADERS,
    "content": {
        "application/zip": _BYTES,
        "text/plain; charset=utf-8": _BYTES,
        "application/octet-stream": _BYTES,
    },
}
PART_RESPONSE: dict[str, Any] = {**FILE_RESPONSE, "description": "The one range asked for."}
MANIFEST_RESPONSE: dict[str, Any] = {
    "description": 'One JSON object a line: {"Path", "Mode", "Size", "ModifiedUtc", "ChunkIds"}.',
    "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
}
CHUNKS_RESPONSE: dict[str, Any] = {
    "description": "Records ``id (32) | codec (1) | length (4, BE) | piece``, one per id.",
    "content": {"application/octet-stream": _BYTES},
}
