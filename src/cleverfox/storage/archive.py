"""The ZIP archive as a pure function of a resolved manifest, whole or any byte range of it.

Layout: for each entry its local header, then its data — each chunk in the entry's form
(deflate: the piece or stored blocks around it; stored: the plaintext) and, when deflated,
the final empty block ``03 00`` — then the central directory and the end records. Every
part's size is known from the manifest, so ``archive_parts`` can start at any offset
without reading what comes before it, and ``stream`` turns parts into bytes, asking the
caller's ``fetch`` for pieces a batch at a time (one index look-up and a few backend reads
per batch) and writing about 1 MiB at a time.

The single-file form of one entry is its plaintext (``file_parts``). ``etag`` names what a
download serves; the archive digest (``manifest_stream``) changes whenever a byte could.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from cleverfox.storage import zipformat
from cleverfox.storage.errors import Damaged
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.manifest import FORMAT_VERSION
from cleverfox.storage.pieces import Form, to_form
from cleverfox.storage.resolution import ArchiveTotals, ChunkRef, ResolvedEntry

WRITE_BYTES = 1 << 20
BATCH_PIECE_BYTES = 16 << 20
BATCH_CHUNKS = 256


@dataclass(frozen=True, slots=True)
class Literal:
    """Bytes the archive holds as they are (headers, the final block, the directory)."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ChunkSlice:
    """Bytes ``[start, stop)`` of a chunk in ``form``."""

    chunk: ChunkRef
    form: Form
    start: int
    stop: int


Part = Literal | ChunkSlice
Fetch = Callable[[Collection[ChunkId]], Mapping[ChunkId, bytes]]
"""Given distinct chunk ids, their pieces (unsealed); every id asked for must be answered."""


def archive_parts(
    entries: Callable[[], Iterable[ResolvedEntry]],
    totals: ArchiveTotals,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[Part]:
    """The parts of bytes ``[start, stop)`` of the archive (the whole by default).

    ``entries`` is called once for the entries' data when the range reaches before the
    central directory, and once for the directory when the range reaches it.
    """
    stop = totals.archive_size if stop is None else min(stop, totals.archive_size)
    if not 0 <= start < stop:
        return
    if start < totals.central_offset:
        yield from _clip(_data_layout(entries()), start, stop)
    if stop > totals.central_offset:
        yield from _clip(
            _directory_layout(entries(), totals),
            start - totals.central_offset,
            stop - totals.central_offset,
        )


def file_parts(entry: ResolvedEntry, start: int = 0, stop: int | None = None) -> Iterator[Part]:
    """The parts of bytes ``[start, stop)`` of one entry's plaintext (the single-file form)."""
    stop = entry.size if stop is None else min(stop, entry.size)
    if 0 <= start < stop:
        yield from _clip(_chunk_layout(entry.chunks, Form.PLAIN), start, stop)


def stream(
    parts: Iterable[Part],
    fetch: Fetch,
    *,
    write_bytes: int = WRITE_BYTES,
    batch_piece_bytes: int = BATCH_PIECE_BYTES,
) -> Iterator[bytes]:
    """The bytes of ``parts``, in writes of about ``write_bytes``.

    Memory: one batch of pieces (about ``batch_piece_bytes``) and one write. A piece whose
    length or conversion differs from what the manifest recorded raises ``Damaged`` before
    any of its bytes are written, so a download is cut short rather than wrong.
    """
    buffer = bytearray()
    for batch in _batches(parts, batch_piece_bytes):
        pieces = _fetched(batch, fetch)
        for part in batch:
            data = part.data if isinstance(part, Literal) else _slice_bytes(part, pieces)
            if len(data) >= write_bytes:
                # A whole chunk is written as it is, not copied through the buffer.
                if buffer:
                    yield bytes(buffer)
                    buffer.clear()
                yield bytes(data)
                continue
            buffer += data
            if len(buffer) >= write_bytes:
                yield bytes(buffer)
                buffer.clear()
    if buffer:
        yield bytes(buffer)


def etag(archive_digest: bytes, kind: str) -> str:
    """A strong ETag for a download of ``kind`` (``zip``, ``list``, ``file-<n>``)."""
    return f'"cfx{FORMAT_VERSION}-{kind}-{archive_digest[:20].hex()}"'


# The layout before clipping: literal records by size and maker (built only if needed), and
# whole chunks.
_Maker = tuple[int, Callable[[], bytes]]
_Span = _Maker | ChunkSlice


def _data_layout(entries: Iterable[ResolvedEntry]) -> Iterator[_Span]:
    for entry in entries:
        yield entry.header_size, entry.local_header
        yield from _chunk_layout(entry.chunks, entry.method)
        if entry.method == Form.DEFLATE:
            yield len(zipformat.FINAL_DEFLATE_BLOCK), _final_block


def _directory_layout(entries: Iterable[ResolvedEntry], totals: ArchiveTotals) -> Iterator[_Span]:
    for entry in entries:
        yield entry.central_size, entry.central_header
    counts = (totals.entry_count, totals.central_offset, totals.central_size)
    yield zipformat.end_records_size(*counts), lambda: zipformat.end_records(*counts)


def _chunk_layout(chunks: Iterable[ChunkRef], form: Form) -> Iterator[_Span]:
    for chunk in chunks:
        yield ChunkSlice(chunk, form, 0, chunk.form_size(form))


def _final_block() -> bytes:
    return zipformat.FINAL_DEFLATE_BLOCK


def _clip(spans: Iterator[_Span], start: int, stop: int) -> Iterator[Part]:
    """The parts of ``spans`` that overlap ``[start, stop)``, cut to it."""
    position = 0
    for span in spans:
        size = span.stop if isinstance(span, ChunkSlice) else span[0]
        end = position + size
        if end > start and size:
            low, high = max(start - position, 0), min(stop - position, size)
            if isinstance(span, ChunkSlice):
                yield (
                    span
                    if (low, high) == (0, size)
                    else ChunkSlice(span.chunk, span.form, low, high)
                )
            else:
                data = span[1]()
                if len(data) != size:
                    raise AssertionError("a ZIP record's size function disagrees with it")
                yield Literal(data if (low, high) == (0, size) else data[low:high])
        position = end
        if position >= stop:
            return


def _batches(parts: Iterable[Part], batch_piece_bytes: int) -> Iterator[list[Part]]:
    batch: list[Part] = []
    ids: set[ChunkId] = set()
    piece_bytes = 0
    for part in parts:
        batch.append(part)
        if isinstance(part, ChunkSlice) and part.chunk.chunk_id not in ids:
            ids.add(part.chunk.chunk_id)
            piece_bytes += part.chunk.piece_length
            if piece_bytes >= batch_piece_bytes or len(ids) >= BATCH_CHUNKS:
                yield batch
                batch, ids, piece_bytes = [], set(), 0
    if batch:
        yield batch


def _fetched(batch: list[Part], fetch: Fetch) -> Mapping[ChunkId, bytes]:
    wanted = {part.chunk.chunk_id: part.chunk for part in batch if isinstance(part, ChunkSlice)}
    if not wanted:
        return {}
    pieces = fetch(wanted.keys())
    for chunk_id, chunk in wanted.items():
        piece = pieces.get(chunk_id)
        if piece is None or len(piece) != chunk.piece_length:
            raise Damaged(f"chunk {chunk_id.hex()}: its piece is missing or of the wrong length")
    return pieces


def _slice_bytes(part: ChunkSlice, pieces: Mapping[ChunkId, bytes]) -> bytes | memoryview:
    chunk = part.chunk
    data = to_form(part.form, chunk.codec, pieces[chunk.chunk_id])
    if len(data) != chunk.form_size(part.form):
        raise Damaged(f"chunk {chunk.chunk_id.hex()}: its {part.form.name} form has the wrong size")
    if (part.start, part.stop) == (0, len(data)):
        return data
    return memoryview(data)[part.start : part.stop]
