"""Resolution: methods, CRC-32s, sizes, offsets and totals, fetched in batches; entries whose
size or chunks do not add up are refused."""

from __future__ import annotations

import zlib
from collections.abc import Collection, Mapping

import pytest

from cleverfox.storage.errors import ChunkMissing, EntryInvalid, ManifestInvalid
from cleverfox.storage.ids import ChunkId, chunk_id
from cleverfox.storage.index import ChunkFacts, facts_of
from cleverfox.storage.manifest import Entry
from cleverfox.storage.pieces import Form, make_piece
from cleverfox.storage.resolution import Resolver, resolve_entries
from tests.storage.support import REGULAR

KEY = bytes(range(32))


def chunk(data: bytes, compress: bool = True) -> tuple[ChunkId, ChunkFacts]:
    piece = make_piece(data, compress)
    return chunk_id(KEY, data), facts_of(piece.codec, len(piece.data), data)


def test_an_entry_resolves_to_its_method_crc_and_sizes() -> None:
    (a, fa), (b, fb) = chunk(b"first " * 100), chunk(bytes(range(256)), compress=False)
    facts = {a: fa, b: fb}
    resolver = Resolver("UTC", (".jpg",))
    deflated = resolver.resolve(Entry("x.txt", REGULAR, fa.size + fb.size, 0, (a, b, a)[:2]), facts)
    assert deflated.method == Form.DEFLATE
    assert deflated.crc32 == zlib.crc32(b"first " * 100 + bytes(range(256)))
    assert deflated.compressed_size == fa.piece_length + (256 + 5) + 2
    assert deflated.offset == 0
    stored = resolver.resolve(Entry("y.JPG", REGULAR, fa.size, 0, (a,)), facts)
    assert (stored.method, stored.compressed_size, stored.offset) == (
        Form.PLAIN,
        fa.size,
        deflated.end,
    )
    empty = resolver.resolve(Entry("z", REGULAR, 0, 0, ()), facts)
    assert (empty.method, empty.crc32, empty.compressed_size) == (Form.PLAIN, 0, 0)
    totals = resolver.totals()
    assert totals.entry_count == 3
    assert totals.central_offset == empty.end
    assert totals.archive_size == empty.end + totals.central_size + 22
    assert totals.logical_bytes == 2 * fa.size + fb.size


def test_a_size_that_is_not_the_sum_of_the_chunks_is_refused() -> None:
    a, fa = chunk(b"data" * 10)
    with pytest.raises(EntryInvalid, match="sum of its chunks"):
        Resolver("UTC", ()).resolve(Entry("x", REGULAR, fa.size + 1, 0, (a,)), {a: fa})


def test_chunks_the_index_lacks_are_named_once_each() -> None:
    a, fa = chunk(b"here")
    gone = chunk_id(KEY, b"gone")
    with pytest.raises(ChunkMissing) as missing:
        Resolver("UTC", ()).resolve(Entry("x", REGULAR, 12, 0, (gone, a, gone)), {a: fa})
    assert missing.value.chunk_ids == (gone,)


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ManifestInvalid, match="time zone"):
        Resolver("Mars/Olympus", ())


def test_dos_time_is_the_devices_wall_time() -> None:
    a, fa = chunk(b"when")
    # 2024-07-01T10:00:00Z is 12:00 in Berlin (summer time) and 06:00 in New York.
    when = 1_719_828_000_000
    for zone, hour in (("Europe/Berlin", 12), ("America/New_York", 6), ("UTC", 10)):
        resolved = Resolver(zone, ()).resolve(Entry("x", REGULAR, fa.size, when, (a,)), {a: fa})
        assert resolved.dos_time >> 11 == hour
        assert resolved.dos_date == ((2024 - 1980) << 9) | (7 << 5) | 1


def test_facts_are_fetched_in_batches_of_about_the_batch_size() -> None:
    chunks = [chunk(f"chunk {n}".encode()) for n in range(50)]
    facts = dict(chunks)
    entries = [Entry(f"{n:02}", REGULAR, f.size, 0, (i,)) for n, (i, f) in enumerate(chunks)]
    asked: list[int] = []

    def facts_of_ids(ids: Collection[ChunkId]) -> Mapping[ChunkId, ChunkFacts]:
        asked.append(len(ids))
        return {i: facts[i] for i in ids}

    resolved = list(resolve_entries(Resolver("UTC", ()), entries, facts_of_ids, batch_ids=8))
    assert [r.path for r in resolved] == [e.path for e in entries]
    assert asked == [8] * 6 + [2]
