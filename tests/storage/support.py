"""Shared helpers for the storage engine's tests: an in-memory index and a backup builder.

``MemoryIndex`` is the ``ChunkIndex`` of a test (the server's is SQL, the agent's SQLite);
``build_backup`` runs the whole engine the way the agent and the server will — chunk, make
pieces, verify them as the server does, pack them, resolve, write and read the sealed
manifest — and keeps the pieces so an archive can be streamed back.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cleverfox.storage.archive import archive_parts, stream
from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.ids import ChunkId, chunk_id
from cleverfox.storage.index import ChunkFacts, ChunkLocation, PackEntry, facts_of
from cleverfox.storage.manifest import Entry, digest, has_extension, sort_entries
from cleverfox.storage.manifest_stream import (
    SEGMENT_BYTES,
    ManifestHeader,
    ManifestReader,
    ManifestWriter,
)
from cleverfox.storage.pieces import make_piece, open_piece
from cleverfox.storage.resolution import ArchiveTotals, ResolvedEntry, Resolver, resolve_entries
from cleverfox.storage.sealing import CompanyKeys, CompanySealer

TINY_CHUNKS = ChunkingParams(min_bytes=64, avg_bytes=256, max_bytes=1024)
REGULAR = stat.S_IFREG | 0o644
LINK = stat.S_IFLNK | 0o777
TOOL_ENV = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"}


class MemoryIndex:
    """A ``ChunkIndex`` in a dict (tests only)."""

    def __init__(self) -> None:
        self.rows: dict[ChunkId, tuple[str, PackEntry]] = {}

    def facts(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkFacts]:
        return {i: self.rows[i][1].facts for i in chunk_ids if i in self.rows}

    def locations(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkLocation]:
        found = (self.rows[i] for i in chunk_ids if i in self.rows)
        return {e.chunk_id: ChunkLocation(name, e.offset, e.stored_length) for name, e in found}

    def missing(self, chunk_ids: Sequence[ChunkId]) -> list[ChunkId]:
        return [i for i in dict.fromkeys(chunk_ids) if i not in self.rows]

    def add_pack(self, pack_name: str, entries: Sequence[PackEntry]) -> int:
        new = [e for e in entries if e.chunk_id not in self.rows]
        for entry in new:
            self.rows[entry.chunk_id] = (pack_name, entry)
        return len(new)


@dataclass(frozen=True)
class FileSpec:
    """A file of a test tree: its content (a link's target for links), mode and time."""

    content: bytes
    mode: int = REGULAR
    modified_ms: int = 1_700_000_000_000


@dataclass
class Backup:
    """A committed backup of a tree: its manifest object, totals and the pieces it needs."""

    keys: CompanyKeys
    sealer: CompanySealer
    digest: bytes
    manifest: bytes
    totals: ArchiveTotals
    archive_digest: bytes
    pieces: dict[ChunkId, bytes] = field(default_factory=dict)
    segment_bytes: int = SEGMENT_BYTES

    def reader(self, manifest: bytes | None = None) -> ManifestReader:
        stored = io.BytesIO(self.manifest if manifest is None else manifest)
        return ManifestReader(
            self.sealer, self.digest, stored.read, segment_bytes=self.segment_bytes
        )

    def entries(self) -> Iterator[ResolvedEntry]:
        return self.reader().entries()

    def fetch(self, chunk_ids: Collection[ChunkId]) -> Mapping[ChunkId, bytes]:
        return {i: self.pieces[i] for i in chunk_ids}

    def archive(self, start: int = 0, stop: int | None = None) -> bytes:
        return b"".join(stream(archive_parts(self.entries, self.totals, start, stop), self.fetch))


def build_backup(
    files: Mapping[str, FileSpec],
    *,
    time_zone: str = "UTC",
    extensions: Sequence[str] = (),
    params: ChunkingParams = TINY_CHUNKS,
    company_id: int = 1,
    keys: CompanyKeys | None = None,
    segment_bytes: int = SEGMENT_BYTES,
) -> Backup:
    """Back up ``files`` through every step of the engine (agent side, then server side)."""
    keys = keys or CompanyKeys.generate()
    chunker = Chunker(params)
    pieces: dict[ChunkId, bytes] = {}
    facts: dict[ChunkId, ChunkFacts] = {}
    entries = []
    for path, spec in files.items():
        compress = not has_extension(path, extensions)
        ids = []
        for chunk in chunker.chunks_of_bytes(spec.content):
            cid = chunk_id(keys.id_key, chunk)
            piece = make_piece(chunk, compress)
            plaintext = open_piece(piece.codec, piece.data, keys.id_key, cid, params.max_bytes)
            facts.setdefault(cid, facts_of(piece.codec, len(piece.data), plaintext))
            pieces.setdefault(cid, piece.data)
            ids.append(cid)
        entries.append(Entry(path, spec.mode, len(spec.content), spec.modified_ms, tuple(ids)))
    return commit(entries, facts, pieces, keys, company_id, time_zone, extensions, segment_bytes)


def commit(
    entries: Sequence[Entry],
    facts: Mapping[ChunkId, ChunkFacts],
    pieces: dict[ChunkId, bytes],
    keys: CompanyKeys,
    company_id: int,
    time_zone: str,
    extensions: Sequence[str],
    segment_bytes: int = SEGMENT_BYTES,
) -> Backup:
    """The server's half: sort, digest, resolve and write the sealed manifest."""
    sealer = CompanySealer(keys.data_key, company_id)
    ordered = sort_entries(entries)
    manifest_digest = digest(ordered, time_zone, extensions)
    resolver = Resolver(time_zone, extensions)
    out = io.BytesIO()
    header = ManifestHeader(manifest_digest, time_zone, tuple(extensions))
    writer = ManifestWriter(sealer, header, out.write, segment_bytes=segment_bytes)
    for resolved in resolve_entries(resolver, ordered, lambda ids: {i: facts[i] for i in ids}):
        writer.add(resolved)
    totals = resolver.totals()
    archive_digest = writer.finish(totals)
    return Backup(
        keys, sealer, manifest_digest, out.getvalue(), totals, archive_digest, pieces, segment_bytes
    )


def tool(name: str) -> str:
    """The path of a stock tool the tests open archives with; skipped with why if absent."""
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install unzip libarchive-tools)")
    return found


def run_tool(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a stock tool; a failure fails the test with its output."""
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, env=TOOL_ENV, cwd=cwd, check=False
    )
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
    return done
