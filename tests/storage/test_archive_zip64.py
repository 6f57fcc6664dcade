"""ZIP64: a file over 4 GiB, an entry past 4 GiB into the archive, more than 65,535 entries.

The large files are made of many references to one 4 MiB chunk, so the backups stay small:
the deflated one streams (about 22 MiB of archive for 4 GiB of file; the chunk repeats a
1 KiB block, which inflates some five times faster than zeros, whose distance-1 matches
are copied byte by byte); the stored one is written as a sparse file, whose holes are the
zeros the archive holds there.
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
from blake3 import blake3

from cleverfox.storage.archive import archive_parts, stream
from cleverfox.storage.ids import ChunkId, chunk_id
from cleverfox.storage.index import ChunkFacts, facts_of
from cleverfox.storage.manifest import Entry
from cleverfox.storage.pieces import make_piece
from cleverfox.storage.resolution import ResolvedEntry
from cleverfox.storage.sealing import CompanyKeys
from cleverfox.storage.zipformat import UINT32_MAX
from tests.storage.support import REGULAR, Backup, commit, run_tool, tool

CHUNK = 4 << 20
OVER_4_GIB = 1025  # chunks: 4 GiB + 4 MiB
KEYS = CompanyKeys.generate()


def pieces_for(
    chunks: dict[str, tuple[bytes, bool]],
) -> tuple[dict[str, ChunkId], dict[ChunkId, ChunkFacts], dict[ChunkId, bytes]]:
    ids, facts, pieces = {}, {}, {}
    for name, (data, compress) in chunks.items():
        cid = chunk_id(KEYS.id_key, data)
        piece = make_piece(data, compress)
        ids[name], facts[cid], pieces[cid] = (
            cid,
            facts_of(piece.codec, len(piece.data), data),
            piece.data,
        )
    return ids, facts, pieces


def backup_of(
    entries: list[Entry],
    facts: dict[ChunkId, ChunkFacts],
    pieces: dict[ChunkId, bytes],
    extensions: tuple[str, ...] = (),
) -> Backup:
    return commit(entries, facts, pieces, KEYS, 1, "UTC", extensions)


def write_archive(backup: Backup, path: Path, skip: tuple[int, int] | None = None) -> None:
    """The archive into ``path``; bytes ``skip`` are left as a hole (they must be zeros)."""
    with path.open("wb") as out:
        ranges = (
            [(0, backup.totals.archive_size)]
            if skip is None
            else [(0, skip[0]), (skip[1], backup.totals.archive_size)]
        )
        for start, stop in ranges:
            out.seek(start)
            for data in stream(
                archive_parts(backup.entries, backup.totals, start, stop), backup.fetch
            ):
                out.write(data)
        out.truncate(backup.totals.archive_size)


def test_a_file_over_4_gib_streams_as_zip64_and_checks_out(tmp_path: Path) -> None:
    block = blake3(b"a 1 KiB block").digest(length=1024)
    ids, facts, pieces = pieces_for(
        {"repeat": (block * (CHUNK // 1024), True), "tail": (b"the end\n" * 100, True)}
    )
    size = OVER_4_GIB * CHUNK + 800
    chunk_ids = (ids["repeat"],) * OVER_4_GIB + (ids["tail"],)
    big = Entry("big.bin", REGULAR, size, 1_700_000_000_000, chunk_ids)
    small = Entry("small.txt", REGULAR, 800, 1_700_000_000_000, (ids["tail"],))
    backup = backup_of([big, small], facts, pieces)
    assert backup.totals.archive_size < 32 << 20
    path = tmp_path / "big.zip"
    write_archive(backup, path)
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("big.bin")
        assert info.file_size == size > UINT32_MAX
        # zipfile checks the CRC-32 (combined from the chunks') when the entry ends; the
        # content is checked at the start, across the 4 GiB mark and at the end.
        data = read_spans(archive, "big.bin", [(0, 1 << 20), (UINT32_MAX - 5, UINT32_MAX + 5)])
        assert data[0] == (block * 1024)[: 1 << 20]
        assert data[1] == (block * 2)[(UINT32_MAX - 5) % 1024 :][:10]
        assert data[2] == b"the end\n" * 100
        assert archive.read("small.txt") == b"the end\n" * 100
    run_tool(tool("unzip"), "-tq", path)


def read_spans(archive: zipfile.ZipFile, name: str, spans: list[tuple[int, int]]) -> list[bytes]:
    """Bytes ``spans`` of a member read in one pass to its end, and its last 800 bytes."""
    found = [bytearray() for _ in spans]
    position, tail = 0, b""
    with archive.open(name) as member:
        while block := member.read(1 << 24):
            for (start, stop), out in zip(spans, found, strict=True):
                if start < position + len(block) and stop > position:
                    out += block[max(start - position, 0) : stop - position]
            position += len(block)
            tail = (tail + block)[-800:]
    return [*map(bytes, found), tail]


def test_an_entry_past_4_gib_into_the_archive_gets_zip64_offsets(tmp_path: Path) -> None:
    ids, facts, pieces = pieces_for(
        {"zero": (bytes(CHUNK), False), "text": (b"after\n" * 50, True)}
    )
    stored = Entry("a.bin", REGULAR, OVER_4_GIB * CHUNK, 0, (ids["zero"],) * OVER_4_GIB)
    after = Entry("b.txt", REGULAR, 300, 1_000_000_000_000, (ids["text"],))
    backup = backup_of([stored, after], facts, pieces, (".bin",))
    first, second = backup.entries()
    assert second.offset > UINT32_MAX and backup.totals.central_offset > UINT32_MAX
    path = tmp_path / "far.zip"
    write_archive(backup, path, skip=(first.offset + first.header_size, first.end))
    assert path.stat().st_blocks * 512 < 64 << 20  # sparse: the 4 GiB of zeros are a hole
    with zipfile.ZipFile(path) as archive:
        a, b = archive.infolist()
        assert (a.filename, a.file_size, a.compress_size, a.compress_type) == (
            "a.bin",
            OVER_4_GIB * CHUNK,
            OVER_4_GIB * CHUNK,
            zipfile.ZIP_STORED,
        )
        assert b.header_offset == second.offset
        assert archive.read("b.txt") == b"after\n" * 50
    run_tool(tool("unzip"), "-tq", path, "b.txt")
    listing = run_tool(tool("bsdtar"), "-tvf", path).stdout.decode()
    assert str(OVER_4_GIB * CHUNK) in listing and "b.txt" in listing


def test_more_than_65535_entries_get_the_zip64_end_records(tmp_path: Path) -> None:
    ids, facts, pieces = pieces_for({"x": (b"x" * 1000, True)})
    count = 65_540
    entries = [Entry(f"d/{n:05}", REGULAR, 0, 0, ()) for n in range(count - 2)]
    entries += [
        Entry("one.txt", REGULAR, 1000, 0, (ids["x"],)),
        Entry("two.txt", REGULAR, 1000, 0, (ids["x"],)),
    ]
    backup = backup_of(entries, facts, pieces)
    path = tmp_path / "many.zip"
    write_archive(backup, path)
    data = path.read_bytes()
    end = data[-22:]
    assert end[:4] == b"PK\x05\x06" and struct.unpack("<H", end[10:12]) == (0xFFFF,)
    locator = data[-42:-22]
    assert locator[:4] == b"PK\x06\x07"
    (end64_offset,) = struct.unpack("<Q", locator[8:16])
    assert data[end64_offset : end64_offset + 4] == b"PK\x06\x06"
    assert struct.unpack("<Q", data[end64_offset + 32 : end64_offset + 40]) == (count,)
    with zipfile.ZipFile(path) as archive:
        assert len(archive.infolist()) == count
        assert archive.read("two.txt") == b"x" * 1000
    run_tool(tool("unzip"), "-tq", path)
    listing = run_tool(tool("bsdtar"), "-tf", path).stdout
    assert len(listing.splitlines()) == count


@pytest.mark.parametrize(
    ("size", "compressed", "offset", "local_extra", "central_extra"),
    [
        (UINT32_MAX - 1, 10, 0, 0, 0),
        (UINT32_MAX, 10, 0, 20, 12),
        (10, UINT32_MAX, 0, 20, 12),
        (10, 10, UINT32_MAX, 0, 12),
        (UINT32_MAX, UINT32_MAX, UINT32_MAX, 20, 28),
    ],
)
def test_zip64_extras_appear_exactly_when_a_field_does_not_fit(
    size: int, compressed: int, offset: int, local_extra: int, central_extra: int
) -> None:
    """0xFFFFFFFF itself is ZIP64's marker, so a value equal to it needs ZIP64 too."""
    entry = ResolvedEntry("n", REGULAR, size, 0, 8, 0, compressed, 0, 0x21, offset, ())  # type: ignore[arg-type]
    local, central = entry.local_header(), entry.central_header()
    assert len(local) == entry.header_size == 30 + 1 + 9 + local_extra
    assert len(central) == entry.central_size == 46 + 1 + 9 + central_extra
    needed = 45 if local_extra or central_extra else 20
    assert struct.unpack("<H", local[4:6]) == (needed,)
    assert struct.unpack("<HH", central[4:8]) == (0x300 | needed, needed)
