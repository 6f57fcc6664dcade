"""What the agent's calls put on the wire and read back (sans-IO, like ``_wire``).

Chunk ids are lower-case hex on the wire and bytes in Python; manifest entries are JSON
objects (``Path``, ``Mode``, ``Size``, ``ModifiedUtc``, ``ChunkIds``); the check-in's
``Storage`` and clock are decoded into typed values.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from cleverfox.client._agent_http import data_of, unexpected

RECORD_HEADER = struct.Struct(">32sBI")
CHUNK_ID_BYTES = 32


class FileEntry(Protocol):
    """What ``commit_files`` reads of a manifest entry (``agent.model.ManifestEntry`` is one)."""

    @property
    def path(self) -> str: ...
    @property
    def mode(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def modified_utc(self) -> datetime: ...
    @property
    def chunk_ids(self) -> Sequence[bytes]: ...


@dataclass(frozen=True, slots=True)
class ManifestLine:
    """One file of a committed manifest as ``GET …/manifest`` streams it."""

    path: str
    mode: int
    size: int
    modified_utc: datetime
    chunk_ids: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class StorageInfo:
    """The check-in's ``Storage``: the company's chunk-id key and chunking sizes."""

    id_key: bytes
    chunk_min_bytes: int
    chunk_avg_bytes: int
    chunk_max_bytes: int
    max_pack_bytes: int


@dataclass(frozen=True)
class CheckIn:
    """A check-in's answer. ``jobs`` are the wire Jobs (with ``JobItems``, credentials
    included); ``storage`` is None while the server does not send it."""

    device: dict[str, Any]
    jobs: list[dict[str, Any]]
    run_now_job_ids: list[int]
    server_time_utc: datetime
    next_check_in_seconds: int
    storage: StorageInfo | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def hex_ids(chunk_ids: Iterable[bytes]) -> list[str]:
    """Chunk ids as the wire writes them; ValueError for an id that is not 32 bytes."""
    out = []
    for chunk_id in chunk_ids:
        if len(chunk_id) != CHUNK_ID_BYTES:
            raise ValueError("a chunk id is 32 bytes")
        out.append(chunk_id.hex())
    return out


def ids_of(response: httpx.Response, values: object) -> list[bytes]:
    """Hex chunk ids from an answer; UnexpectedResponse if they are not."""
    if not isinstance(values, list):
        raise unexpected(response, "chunk ids are not a list")
    try:
        out = [bytes.fromhex(v) for v in values if isinstance(v, str)]
    except ValueError as exc:
        raise unexpected(response, "a chunk id is not hex") from exc
    if len(out) != len(values) or any(len(v) != CHUNK_ID_BYTES for v in out):
        raise unexpected(response, "a chunk id is not 32 bytes of hex")
    return out


def utc_text(moment: datetime) -> str:
    """A UTC instant as ``YYYY-MM-DDTHH:MM:SS.fffZ`` (naive values are taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def local_text(moment: datetime) -> str:
    """A device-local wall time as the wire's ``YYYY-MM-DDTHH:MM:SS.fff`` (no zone)."""
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")


def parse_utc(text: object) -> datetime:
    """An aware UTC datetime from ``…Z`` (or a naive text, taken as UTC); ValueError else."""
    if not isinstance(text, str):
        raise ValueError("not a date-time text")
    moment = datetime.fromisoformat(text.removesuffix("Z"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def entry_json(entry: FileEntry) -> dict[str, object]:
    """One manifest entry as ``logs/{LogId}/files`` takes it."""
    return {
        "Path": entry.path,
        "Mode": entry.mode,
        "Size": entry.size,
        "ModifiedUtc": utc_text(entry.modified_utc),
        "ChunkIds": hex_ids(entry.chunk_ids),
    }


def entry_bytes(entry: Mapping[str, object]) -> int:
    """About how many bytes an entry adds to a page's JSON body."""
    return len(json.dumps(entry, separators=(",", ":"))) + 1


def manifest_line(response: httpx.Response, line: bytes) -> ManifestLine:
    """One NDJSON line of a manifest; UnexpectedResponse when it is not one."""
    try:
        value = json.loads(line)
        chunk_ids = ids_of(response, value["ChunkIds"])
        return ManifestLine(
            path=_text(value["Path"]),
            mode=_integer(value["Mode"]),
            size=_integer(value["Size"]),
            modified_utc=parse_utc(value["ModifiedUtc"]),
            chunk_ids=tuple(chunk_ids),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise unexpected(response, f"a manifest line is not an entry: {exc}") from exc


def records_of(
    response: httpx.Response, pieces: Iterator[bytes]
) -> Iterator[tuple[bytes, int, bytes]]:
    """``(chunk id, codec, piece)`` records read from a stream of bytes as they arrive."""
    buffer = bytearray()
    for part in pieces:
        buffer += part
        offset = 0
        while len(buffer) - offset >= RECORD_HEADER.size:
            chunk_id, codec, length = RECORD_HEADER.unpack_from(buffer, offset)
            end = offset + RECORD_HEADER.size + length
            if end > len(buffer):
                break
            yield bytes(chunk_id), codec, bytes(buffer[offset + RECORD_HEADER.size : end])
            offset = end
        del buffer[:offset]
    if buffer:
        raise unexpected(response, "the chunk records end in the middle of a record")


def check_in_of(response: httpx.Response) -> CheckIn:
    """The typed check-in answer; UnexpectedResponse when it lacks what the agent needs."""
    data = data_of(response)
    try:
        assert isinstance(data, dict)
        device, jobs = data["Device"], data.get("Jobs") or []
        assert isinstance(device, dict) and isinstance(jobs, list)
        run_now = [int(v) for v in data.get("RunNowJobIds") or []]
        return CheckIn(
            device=device,
            jobs=[job for job in jobs if isinstance(job, dict)],
            run_now_job_ids=run_now,
            server_time_utc=parse_utc(data["ServerTimeUtc"]),
            next_check_in_seconds=_integer(data.get("NextCheckInSeconds", 300)),
            storage=_storage_of(data.get("Storage")),
            raw=data,
        )
    except (AssertionError, KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise unexpected(
            response, f"the check-in answer is not what the agent needs: {exc!r}"
        ) from exc


def _storage_of(value: object) -> StorageInfo | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("Storage is not an object")
    return StorageInfo(
        id_key=base64.b64decode(_text(value["IdKey"]), validate=True),
        chunk_min_bytes=_integer(value["ChunkMinBytes"]),
        chunk_avg_bytes=_integer(value["ChunkAvgBytes"]),
        chunk_max_bytes=_integer(value["ChunkMaxBytes"]),
        max_pack_bytes=_integer(value["MaxPackBytes"]),
    )


def _integer(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{value!r} is not an integer")
    return value


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a text")
    return value
