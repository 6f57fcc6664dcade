"""What the pipeline's worker processes run: chunk and hash files, then make pieces.

Functions of plain, picklable arguments; a worker keeps one ``Chunker`` per parameter set.
Files are opened without following a link (one that replaced the file since the walk is
refused) and read unbuffered; nothing here holds more than one task's pieces.
"""

from __future__ import annotations

import os
import stat
from typing import Any, NamedTuple

from blake3 import blake3

from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.pieces import make_piece

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)
_chunkers: dict[ChunkingParams, Chunker] = {}
_WHOLE_READ_BYTES = 1 << 20


class Facts(NamedTuple):
    size: int
    mtime_ns: int
    inode: int
    ctime_ns: int


class Chunked(NamedTuple):
    """A file's chunks as read: ``error`` set if it could not be read at all; ``changed``
    when it changed during both reads (the chunks are of the second)."""

    error: str | None
    changed: bool
    facts: Facts | None
    chunk_ids: bytes
    sizes: tuple[int, ...]


def _chunker(params: ChunkingParams) -> Chunker:
    chunker = _chunkers.get(params)
    if chunker is None:
        chunker = _chunkers[params] = Chunker(params)
    return chunker


def _facts(info: os.stat_result) -> Facts:
    return Facts(info.st_size, info.st_mtime_ns, info.st_ino, info.st_ctime_ns)


def open_regular(path: str) -> int:
    """A read-only descriptor of the regular file at ``path`` (not a link, FIFO…)."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(0, "no longer a regular file")
    return fd


def chunk_files(params: ChunkingParams, id_key: bytes, paths: list[str]) -> list[Chunked]:
    """Each file's chunk ids and sizes; a file that changes while read is read once more."""
    return [_chunk_file(params, id_key, path) for path in paths]


def _chunk_file(params: ChunkingParams, id_key: bytes, path: str) -> Chunked:
    try:
        fd = open_regular(path)
    except OSError as error:
        return Chunked(describe(error), False, None, b"", ())
    try:
        with os.fdopen(fd, "rb", buffering=0) as raw:
            for attempt in range(2):
                before = _facts(os.fstat(raw.fileno()))
                if before.size <= _WHOLE_READ_BYTES:
                    ids, sizes = _chunks_of_small(_chunker(params), id_key, raw, before.size)
                else:
                    ids, sizes = _chunks(_chunker(params), id_key, raw)
                after = _facts(os.fstat(raw.fileno()))
                steady = before[:2] == after[:2] and sum(sizes) == after.size
                if steady or attempt:
                    return Chunked(None, not steady, after, ids, sizes)
                raw.seek(0)
    except OSError as error:
        return Chunked(describe(error), False, None, b"", ())
    raise AssertionError("unreachable")


def _chunks_of_small(
    chunker: Chunker, id_key: bytes, raw: Any, size: int
) -> tuple[bytes, tuple[int, ...]]:
    # One read of the whole file and no stream buffer: the library's (twice the maximum
    # chunk, 8 MiB) made per file cost more than reading and hashing a small one.
    data = raw.read(size + 1)
    while len(data) <= size:  # a short read: read on until the end
        more = raw.read(size + 1 - len(data))
        if not more:
            break
        data += more
    ids = bytearray()
    sizes = []
    for chunk in chunker.chunks_of_bytes(data):
        ids += blake3(chunk, key=id_key).digest()
        sizes.append(len(chunk))
    return bytes(ids), tuple(sizes)


def _chunks(chunker: Chunker, id_key: bytes, raw: object) -> tuple[bytes, tuple[int, ...]]:
    ids = bytearray()
    sizes = []
    for chunk in chunker.chunks_of_stream(raw):  # type: ignore[arg-type]
        ids += blake3(chunk, key=id_key).digest()
        sizes.append(len(chunk))
    return bytes(ids), tuple(sizes)


Piece = tuple[bytes, int, bytes]


def pieces_of_files(
    id_key: bytes, files: list[tuple[str, list[tuple[int, int, bytes]], bool]]
) -> list[list[Piece] | None]:
    """``pieces_of`` for each ``(path, ranges, compress)``, in one task."""
    return [pieces_of(id_key, path, ranges, compress) for path, ranges, compress in files]


def pieces_of(
    id_key: bytes, path: str, ranges: list[tuple[int, int, bytes]], compress: bool
) -> list[Piece] | None:
    """The pieces of the chunks at ``(offset, size, id)`` of a file, or None if the bytes
    there no longer hash to their ids (the file changed since it was chunked)."""
    try:
        fd = open_regular(path)
    except OSError:
        return None
    pieces = []
    try:
        for offset, size, chunk_id in ranges:
            data = _read_at(fd, offset, size)
            if len(data) != size or blake3(data, key=id_key).digest() != chunk_id:
                return None
            piece = make_piece(data, compress)
            pieces.append((chunk_id, int(piece.codec), piece.data))
    except OSError:
        return None
    finally:
        os.close(fd)
    return pieces


def _read_at(fd: int, offset: int, size: int) -> bytes:
    # Not os.pread: Windows has none.
    os.lseek(fd, offset, os.SEEK_SET)
    parts = []
    while size > 0:
        part = os.read(fd, size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def describe(error: OSError) -> str:
    """A warning's reason for an ``OSError``."""
    if isinstance(error, FileNotFoundError):
        return "it vanished"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "no longer a regular file"
    return error.strerror or type(error).__name__
