"""The ``Entries`` of ``POST /api/agent/logs/{LogId}/files`` read into manifest entries.

An entry on the wire is ``{"Path", "Mode", "Size", "ModifiedUtc", "ChunkIds"}`` (names
case-insensitive, as everywhere in the API): Path a string, Mode and Size non-negative
integers, ModifiedUtc a date-time (UTC when unzoned; milliseconds kept), ChunkIds an array
of chunk ids (64 lower-case hex digits). Each failure is 400 ``validation_failed`` naming
the entry (``Entries[i].Path``…) and, in its message, the entry's path. Staged pages keep
the entries as read, in a compact JSON of their own (``encode_page`` / ``decode_page``).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from cleverfox.server.kit.datetimes import parse_utc
from cleverfox.server.kit.errors import FieldError, ValidationFailed
from cleverfox.storage.errors import EntryInvalid, InvalidChunkId
from cleverfox.storage.ids import ChunkId, parse_chunk_id
from cleverfox.storage.manifest import Entry

_EPOCH = datetime(1970, 1, 1)
_NAMES = {name.casefold(): name for name in ("Path", "Mode", "Size", "ModifiedUtc", "ChunkIds")}
MAX_CHUNKS_PER_ENTRY = 10_000_000


class _Bad(Exception):
    def __init__(self, attribute: str, message: str) -> None:
        self.attribute = attribute
        self.message = message


def parse_entries(raw: Any, *, first_index: int = 0) -> list[Entry]:
    """Every entry of ``raw`` (a JSON array), or 400 ``validation_failed`` listing the bad
    ones (at most 20). ``first_index`` numbers them after the pages already staged."""
    if not isinstance(raw, list):
        message = "Entries must be an array of entries."
        raise ValidationFailed([FieldError("Entries", "invalid_type", message)])
    entries, errors = [], []
    for index, item in enumerate(raw):
        try:
            entries.append(parse_entry(item))
        except _Bad as bad:
            where = f"Entries[{first_index + index}]"
            attribute = f"{where}.{bad.attribute}" if bad.attribute else where
            errors.append(FieldError(attribute, "invalid", bad.message))
            if len(errors) == 20:
                break
    if errors:
        raise ValidationFailed(errors)
    return entries


def parse_entry(raw: Any) -> Entry:
    """One wire entry as an ``Entry`` (which checks the path, mode, size and time rules)."""
    if not isinstance(raw, dict):
        raise _Bad("", "An entry must be an object.")
    values = {_NAMES.get(str(key).casefold()): value for key, value in raw.items()}
    path = values.get("Path")
    if not isinstance(path, str):
        raise _Bad("Path", "Path is required and must be a string.")
    label = repr(path)[:200]
    mode = _integer(values.get("Mode"), "Mode", label)
    size = _integer(values.get("Size"), "Size", label)
    modified_ms = _modified(values.get("ModifiedUtc"), label)
    chunk_ids = _chunk_ids(values.get("ChunkIds"), label)
    try:
        return Entry(path, mode, size, modified_ms, chunk_ids)
    except EntryInvalid as error:
        raise _Bad(_attribute_of(error.reason), f"Entry {label}: {error.reason}.") from None


def _integer(value: Any, name: str, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Bad(name, f"Entry {label}: {name} is required, a non-negative integer.")
    return value


def _modified(value: Any, label: str) -> int:
    if not isinstance(value, str):
        raise _Bad("ModifiedUtc", f"Entry {label}: ModifiedUtc is required, a date-time.")
    try:
        moment = parse_utc(value)
    except ValueError:
        raise _Bad("ModifiedUtc", f"Entry {label}: ModifiedUtc is not a date-time.") from None
    return (moment - _EPOCH) // _MILLISECOND


def _chunk_ids(value: Any, label: str) -> tuple[ChunkId, ...]:
    if not isinstance(value, list) or len(value) > MAX_CHUNKS_PER_ENTRY:
        raise _Bad("ChunkIds", f"Entry {label}: ChunkIds is required, an array of chunk ids.")
    try:
        return tuple(parse_chunk_id(text) if isinstance(text, str) else _no_id() for text in value)
    except InvalidChunkId:
        message = f"Entry {label}: every chunk id is 64 lower-case hex digits."
        raise _Bad("ChunkIds", message) from None


def _no_id() -> ChunkId:
    raise InvalidChunkId("not a string")


def _attribute_of(reason: str) -> str:
    for name in ("Mode", "Size", "ModifiedUtc", "Path"):
        if reason.startswith(name) or name in reason.split()[:3]:
            return name
    return "ChunkIds" if "chunk" in reason else "Path"


def encode_page(entries: Sequence[Entry]) -> bytes:
    """A staged page: the entries as compact JSON, zlib-compressed."""
    rows = [[e.path, e.mode, e.size, e.modified_ms, b"".join(e.chunk_ids).hex()] for e in entries]
    return zlib.compress(orjson.dumps(rows), 1)


def decode_page(body: bytes) -> list[Entry]:
    """The entries of ``encode_page`` (checked again: cheap, and the page is ours)."""
    entries = []
    for path, mode, size, modified_ms, ids_hex in orjson.loads(zlib.decompress(body)):
        raw = bytes.fromhex(ids_hex)
        ids = tuple(ChunkId(raw[i : i + 32]) for i in range(0, len(raw), 32))
        entries.append(Entry(path, mode, size, modified_ms, ids))
    return entries


_MILLISECOND = datetime(1970, 1, 1, 0, 0, 0, 1000) - _EPOCH
