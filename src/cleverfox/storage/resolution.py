"""Resolution: a manifest's entries, checked against the index, become an archive layout.

For each entry, in archive order, resolution fixes what the ZIP needs and the download will
replay: the method (stored for empty files and NoCompressExtensions, deflate otherwise), the
CRC-32 combined from its chunks' CRC-32s, the compressed size from the chunks' exact form
sizes, the DOS time in the device's zone and the local header's offset. Totals (entries,
archive size, central directory offset and size, list size, logical bytes) are known after
the last entry. It streams: an entry is resolved from the facts of its own chunks, which
the caller fetches from its index in batches (``resolve_entries``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from isal import isal_zlib

from cleverfox.storage import zipformat
from cleverfox.storage.errors import ChunkMissing, EntryInvalid, ManifestInvalid
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.index import ChunkFacts
from cleverfox.storage.listing import HEADER, list_line
from cleverfox.storage.manifest import Entry, is_stored
from cleverfox.storage.pieces import Codec, Form, form_size

RESOLVE_BATCH_IDS = 10_000


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """A chunk as an archive uses it: id, piece codec and length, plaintext size."""

    chunk_id: ChunkId
    codec: Codec
    piece_length: int
    size: int

    def form_size(self, form: Form) -> int:
        return form_size(form, self.codec, self.piece_length, self.size)


@dataclass(frozen=True, slots=True)
class ResolvedEntry:
    """An entry with everything its ZIP records and data need (sizes are exact)."""

    path: str
    mode: int
    size: int
    modified_ms: int
    method: Form
    crc32: int
    compressed_size: int
    dos_time: int
    dos_date: int
    offset: int
    chunks: tuple[ChunkRef, ...]

    @property
    def name(self) -> bytes:
        return self.path.encode()

    @property
    def mtime(self) -> int:
        return zipformat.unix_seconds(self.modified_ms)

    @property
    def header_size(self) -> int:
        return zipformat.local_header_size(self)

    @property
    def end(self) -> int:
        """Offset just past the entry's data in the archive."""
        return self.offset + self.header_size + self.compressed_size

    @property
    def central_size(self) -> int:
        return zipformat.central_header_size(self)

    def local_header(self) -> bytes:
        return zipformat.local_header(self)

    def central_header(self) -> bytes:
        return zipformat.central_header(self)


@dataclass(frozen=True, slots=True)
class ArchiveTotals:
    """The archive's and the list's sizes, known once every entry is resolved."""

    entry_count: int
    archive_size: int
    central_offset: int
    central_size: int
    list_size: int
    logical_bytes: int


def time_zone(name: str) -> ZoneInfo:
    """The device's IANA zone, or ``ManifestInvalid``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ManifestInvalid(f"unknown time zone {name!r}") from None


class Resolver:
    """Resolves entries one by one in archive order, keeping the running offsets."""

    def __init__(self, zone_name: str, extensions: Sequence[str]) -> None:
        self._zone = time_zone(zone_name)
        self._extensions = extensions
        self._offset = 0
        self._central_size = 0
        self._list_size = len(HEADER)
        self._count = 0
        self._logical = 0

    def resolve(self, entry: Entry, facts: Mapping[ChunkId, ChunkFacts]) -> ResolvedEntry:
        """``entry`` placed after the previous one; ``EntryInvalid`` if its size is not the
        sum of its chunks', ``ChunkMissing`` if ``facts`` lacks one of them."""
        absent = [chunk_id for chunk_id in entry.chunk_ids if chunk_id not in facts]
        if absent:
            raise ChunkMissing(list(dict.fromkeys(absent)))
        chunks = tuple(_ref(chunk_id, facts[chunk_id]) for chunk_id in entry.chunk_ids)
        if sum(chunk.size for chunk in chunks) != entry.size:
            raise EntryInvalid(entry.path, "Size is not the sum of its chunks' sizes")
        method = Form.PLAIN if is_stored(entry, self._extensions) else Form.DEFLATE
        compressed = sum(chunk.form_size(method) for chunk in chunks)
        if method == Form.DEFLATE:
            compressed += len(zipformat.FINAL_DEFLATE_BLOCK)
        dos_time, dos_date = zipformat.dos_date_time(entry.modified_ms, self._zone)
        resolved = ResolvedEntry(
            entry.path,
            entry.mode,
            entry.size,
            entry.modified_ms,
            method,
            _combined_crc(entry.chunk_ids, facts),
            compressed,
            dos_time,
            dos_date,
            self._offset,
            chunks,
        )
        self._offset = resolved.end
        self._central_size += resolved.central_size
        self._list_size += len(list_line(entry.path, entry.size, entry.modified_ms))
        self._count += 1
        self._logical += entry.size
        return resolved

    def totals(self) -> ArchiveTotals:
        """The totals of the entries resolved so far (all of them, once the last is done)."""
        end = zipformat.end_records_size(self._count, self._offset, self._central_size)
        return ArchiveTotals(
            self._count,
            self._offset + self._central_size + end,
            self._offset,
            self._central_size,
            self._list_size,
            self._logical,
        )


def resolve_entries(
    resolver: Resolver,
    entries: Iterable[Entry],
    facts_of: Callable[[Collection[ChunkId]], Mapping[ChunkId, ChunkFacts]],
    batch_ids: int = RESOLVE_BATCH_IDS,
) -> Iterator[ResolvedEntry]:
    """Resolve ``entries`` (in archive order), asking ``facts_of`` for about ``batch_ids``
    ids at a time (``ChunkIndex.facts``), so memory holds one batch of facts."""
    iterator = iter(entries)
    while batch := _take_ids(iterator, batch_ids):
        wanted = {chunk_id for entry in batch for chunk_id in entry.chunk_ids}
        facts = facts_of(wanted) if wanted else {}
        for entry in batch:
            yield resolver.resolve(entry, facts)


def _take_ids(iterator: Iterator[Entry], batch_ids: int) -> list[Entry]:
    batch: list[Entry] = []
    count = 0
    for entry in islice(iterator, batch_ids):
        batch.append(entry)
        count += len(entry.chunk_ids)
        if count >= batch_ids:
            break
    return batch


def _ref(chunk_id: ChunkId, facts: ChunkFacts) -> ChunkRef:
    return ChunkRef(chunk_id, facts.codec, facts.piece_length, facts.size)


def _combined_crc(chunk_ids: Sequence[ChunkId], facts: Mapping[ChunkId, ChunkFacts]) -> int:
    crc = 0
    for chunk_id in chunk_ids:
        chunk = facts[chunk_id]
        crc = isal_zlib.crc32_combine(crc, chunk.crc32, chunk.size)
    return crc
