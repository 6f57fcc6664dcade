"""The resolved manifest as stored: a sealed segment stream, written and read in bounded memory.

```
"CFXMAN01" | segment … segment          segment: sealed length (u32 BE) | nonce | ct | tag
```

The segments' plaintexts, zlib-inflated and joined, are one stream of records: a header
(format, digest, time zone, NoCompressExtensions), one record per resolved entry, and the
totals. Every segment but the last carries exactly ``SEGMENT_BYTES`` of that stream (a
record may span segments), so a reader holds one segment however large the manifest. Each
is sealed with the company, the digest, its number and whether it is the last as associated
data: a reordered, truncated or extended stream, or one stored under another digest, does
not open (``Damaged``).

The *archive digest* is the BLAKE3 of the record stream: it changes whenever a byte of the
archive could, so the download's strong ETag derives from it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from blake3 import blake3
from isal import isal_zlib

from cleverfox.storage.errors import Damaged
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.manifest import FORMAT_VERSION
from cleverfox.storage.pieces import Codec, Form
from cleverfox.storage.resolution import ArchiveTotals, ChunkRef, ResolvedEntry
from cleverfox.storage.sealing import SEAL_OVERHEAD, CompanySealer

MANIFEST_MAGIC = b"CFXMAN01"
SEGMENT_BYTES = 4 << 20
_LENGTH = struct.Struct(">I")
_U16 = struct.Struct(">H")
_HEADER, _ENTRY, _TOTALS = 1, 2, 3
_HEADER_FIXED = struct.Struct(">BB32s")
_ENTRY_FIXED = struct.Struct(">IQQBIQQHHI")
_CHUNK = struct.Struct(">32sBII")
_TOTALS_FIXED = struct.Struct(">B6Q")


@dataclass(frozen=True, slots=True)
class ManifestHeader:
    """What the archive depends on besides its entries."""

    digest: bytes
    time_zone: str
    extensions: tuple[str, ...]
    format_version: int = FORMAT_VERSION


class ManifestWriter:
    """Writes one manifest's stream through ``write`` (say, a file's or a buffer's)."""

    def __init__(
        self,
        sealer: CompanySealer,
        header: ManifestHeader,
        write: Callable[[bytes], object],
        *,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self._sealer = sealer
        self._segment_bytes = segment_bytes
        self._digest = header.digest
        self._write = write
        self._buffer = bytearray()
        self._number = 0
        self._hash = blake3()
        write(MANIFEST_MAGIC)
        self._append(_encode_header(header))

    def add(self, entry: ResolvedEntry) -> None:
        self._append(_encode_entry(entry))

    def finish(self, totals: ArchiveTotals) -> bytes:
        """Write the totals and the last segment; returns the archive digest."""
        self._append(_TOTALS_FIXED.pack(_TOTALS, *_totals_fields(totals)))
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        return self._hash.digest()

    def _append(self, record: bytes) -> None:
        self._hash.update(record)
        self._buffer += record
        while len(self._buffer) > self._segment_bytes:
            self._seal(bytes(self._buffer[: self._segment_bytes]), last=False)
            del self._buffer[: self._segment_bytes]

    def _seal(self, plaintext: bytes, last: bool) -> None:
        payload = isal_zlib.compress(plaintext, 1)
        sealed = self._sealer.seal_segment(self._digest, self._number, last, payload)
        self._write(_LENGTH.pack(len(sealed)) + sealed)
        self._number += 1


class ManifestReader:
    """Reads one manifest's stream through ``read`` (``file.read``-like): the header at once,
    then ``entries()`` once, then ``totals`` and ``archive_digest``. ``segment_bytes`` must be
    the writer's (the format's 4 MiB; tests use less)."""

    def __init__(
        self,
        sealer: CompanySealer,
        digest: bytes,
        read: Callable[[int], bytes],
        *,
        segment_bytes: int = SEGMENT_BYTES,
    ) -> None:
        self._segments = _SegmentSource(sealer, digest, read, segment_bytes)
        self._hash = blake3()
        self._buffer = bytearray()
        self._position = 0
        self.totals: ArchiveTotals | None = None
        self.header = self._read_header(digest)

    def entries(self) -> Iterator[ResolvedEntry]:
        """Every entry in archive order; ``Damaged`` if the stream is cut, altered or padded."""
        while (tag := self._take(1)[0]) == _ENTRY:
            yield self._read_entry()
        if tag != _TOTALS:
            raise Damaged(f"a manifest record of unknown kind {tag}")
        fields = _TOTALS_FIXED.unpack(bytes((tag,)) + self._take(_TOTALS_FIXED.size - 1))
        self.totals = ArchiveTotals(*fields[1:])
        if self._position != len(self._buffer) or not self._segments.done:
            raise Damaged("a manifest holds bytes past its totals")

    @property
    def archive_digest(self) -> bytes:
        if self.totals is None:
            raise RuntimeError("the archive digest is known once every entry has been read")
        return self._hash.digest()

    def _read_header(self, digest: bytes) -> ManifestHeader:
        tag, version, recorded = _HEADER_FIXED.unpack(self._take(_HEADER_FIXED.size))
        if tag != _HEADER or version != FORMAT_VERSION or recorded != digest:
            raise Damaged("a manifest of an unknown format, or of another digest")
        zone = self._take_string()
        (count,) = _U16.unpack(self._take(2))
        return ManifestHeader(digest, zone, tuple(self._take_string() for _ in range(count)))

    def _read_entry(self) -> ResolvedEntry:
        (length,) = _U16.unpack(self._take(2))
        path = self._take(length).decode()
        mode, size, modified, method, crc, compressed, offset, dos_time, dos_date, count = (
            _ENTRY_FIXED.unpack(self._take(_ENTRY_FIXED.size))
        )
        raw = self._take(count * _CHUNK.size)
        chunks = tuple(
            ChunkRef(ChunkId(chunk_id), Codec(codec), piece_length, chunk_size)
            for chunk_id, codec, piece_length, chunk_size in _CHUNK.iter_unpack(raw)
        )
        return ResolvedEntry(
            path,
            mode,
            size,
            modified,
            Form(method),
            crc,
            compressed,
            dos_time,
            dos_date,
            offset,
            chunks,
        )

    def _take_string(self) -> str:
        (length,) = _U16.unpack(self._take(2))
        return self._take(length).decode()

    def _take(self, count: int) -> bytes:
        while len(self._buffer) - self._position < count:
            if self._position:
                del self._buffer[: self._position]
                self._position = 0
            segment = self._segments.next()
            if segment is None:
                raise Damaged("a manifest stream ends inside a record")
            self._hash.update(segment)
            self._buffer += segment
        taken = bytes(self._buffer[self._position : self._position + count])
        self._position += count
        return taken


class _SegmentSource:
    """The plaintexts of a stream's segments, each checked for its number and last flag."""

    def __init__(
        self,
        sealer: CompanySealer,
        digest: bytes,
        read: Callable[[int], bytes],
        segment_bytes: int,
    ) -> None:
        self._sealer = sealer
        self._digest = digest
        self._read = read
        self._segment_bytes = segment_bytes
        # zlib's worst case for incompressible input, with room to spare, and the seal.
        self._max_sealed = segment_bytes + (segment_bytes >> 6) + 1024 + SEAL_OVERHEAD
        self._number = 0
        self.done = False
        if _read_exact(read, len(MANIFEST_MAGIC)) != MANIFEST_MAGIC:
            raise Damaged("not a manifest stream")
        self._length = self._next_length()

    def next(self) -> bytes | None:
        if self._length is None:
            self.done = True
            return None
        sealed = _read_exact(self._read, self._length)
        if len(sealed) != self._length:
            raise Damaged("a manifest segment is cut short")
        self._length = self._next_length()
        last = self._length is None
        payload = self._sealer.open_segment(self._digest, self._number, last, sealed)
        self._number += 1
        try:
            inflater = zlib.decompressobj()
            plaintext = inflater.decompress(payload, self._segment_bytes + 1)
        except zlib.error:
            raise Damaged("a manifest segment does not inflate") from None
        whole = inflater.eof and not inflater.unused_data
        if (
            not whole
            or len(plaintext) > self._segment_bytes
            or (not last and len(plaintext) != self._segment_bytes)
        ):
            raise Damaged("a manifest segment of the wrong size")
        self.done = last
        return plaintext

    def _next_length(self) -> int | None:
        raw = _read_exact(self._read, _LENGTH.size)
        if not raw:
            return None
        if len(raw) != _LENGTH.size:
            raise Damaged("a manifest segment's length is cut short")
        length: int = _LENGTH.unpack(raw)[0]
        if not SEAL_OVERHEAD <= length <= self._max_sealed:
            raise Damaged("a manifest segment of an impossible length")
        return length


def _read_exact(read: Callable[[int], bytes], count: int) -> bytes:
    parts = []
    remaining = count
    while remaining:
        part = read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def _encode_header(header: ManifestHeader) -> bytes:
    parts = [_HEADER_FIXED.pack(_HEADER, header.format_version, header.digest)]
    parts.append(_string(header.time_zone))
    parts.append(_U16.pack(len(header.extensions)))
    parts += (_string(extension) for extension in header.extensions)
    return b"".join(parts)


def _encode_entry(entry: ResolvedEntry) -> bytes:
    name = entry.name
    fixed = _ENTRY_FIXED.pack(
        entry.mode,
        entry.size,
        entry.modified_ms,
        entry.method,
        entry.crc32,
        entry.compressed_size,
        entry.offset,
        entry.dos_time,
        entry.dos_date,
        len(entry.chunks),
    )
    chunks = b"".join(
        _CHUNK.pack(c.chunk_id, c.codec, c.piece_length, c.size) for c in entry.chunks
    )
    return bytes((_ENTRY,)) + _U16.pack(len(name)) + name + fixed + chunks


def _totals_fields(totals: ArchiveTotals) -> tuple[int, ...]:
    return (
        totals.entry_count,
        totals.archive_size,
        totals.central_offset,
        totals.central_size,
        totals.list_size,
        totals.logical_bytes,
    )


def _string(text: str) -> bytes:
    encoded = text.encode()
    return _U16.pack(len(encoded)) + encoded
