"""The sealed manifest stream: it reads back as written, in segments, and any change to it —
a byte, a cut, a segment dropped, swapped or added, another digest or company — is refused."""

from __future__ import annotations

import dataclasses
import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.errors import Damaged
from cleverfox.storage.manifest_stream import MANIFEST_MAGIC, ManifestReader
from cleverfox.storage.sealing import CompanySealer
from tests.storage.support import Backup, FileSpec, build_backup

SEGMENT = 512  # bytes of records per segment, so a small manifest spans many


def many_segment_backup() -> Backup:
    tree = {f"folder/file-{n:03}.txt": FileSpec(f"content {n}\n".encode() * n) for n in range(40)}
    return build_backup(
        tree, time_zone="Europe/Berlin", extensions=(".jpg",), segment_bytes=SEGMENT
    )


BACKUP = many_segment_backup()


def segments(manifest: bytes) -> list[bytes]:
    """The framed segments of a stream (length prefix included)."""
    found, offset = [], len(MANIFEST_MAGIC)
    while offset < len(manifest):
        (length,) = struct.unpack_from(">I", manifest, offset)
        found.append(manifest[offset : offset + 4 + length])
        offset += 4 + length
    return found


def read_all(manifest: bytes, backup: Backup = BACKUP) -> list[object]:
    reader = backup.reader(manifest)
    return [*reader.entries(), reader.totals]


def test_a_manifest_reads_back_as_it_was_written() -> None:
    reader = BACKUP.reader()
    assert reader.header.time_zone == "Europe/Berlin"
    assert reader.header.extensions == (".jpg",)
    assert reader.header.digest == BACKUP.digest
    entries = list(reader.entries())
    assert [e.path for e in entries] == sorted(f"folder/file-{n:03}.txt" for n in range(40))
    assert reader.totals == BACKUP.totals
    assert reader.archive_digest == BACKUP.archive_digest
    assert len(segments(BACKUP.manifest)) >= 8


def test_the_archive_digest_is_known_only_at_the_end() -> None:
    with pytest.raises(RuntimeError):
        _ = BACKUP.reader().archive_digest


def test_a_single_segment_manifest_of_the_format_size_round_trips() -> None:
    backup = build_backup({"a": FileSpec(b"x" * 100), "e": FileSpec(b"")})
    assert len(segments(backup.manifest)) == 1
    assert [e.path for e in backup.entries()] == ["a", "e"]


@given(st.data())
def test_any_altered_byte_is_refused(data: st.DataObject) -> None:
    manifest = bytearray(BACKUP.manifest)
    position = data.draw(st.integers(0, len(manifest) - 1))
    manifest[position] ^= data.draw(st.integers(1, 255))
    with pytest.raises(Damaged):
        read_all(bytes(manifest))


@given(st.data())
def test_any_truncation_is_refused(data: st.DataObject) -> None:
    cut = data.draw(st.integers(0, len(BACKUP.manifest) - 1))
    with pytest.raises(Damaged):
        read_all(BACKUP.manifest[:cut])


def test_a_stream_cut_at_a_segment_boundary_is_refused() -> None:
    """Every segment opens alone; only the last flag in the seal tells the stream ended."""
    framed = segments(BACKUP.manifest)
    for keep in range(1, len(framed)):
        with pytest.raises(Damaged):
            read_all(MANIFEST_MAGIC + b"".join(framed[:keep]))


def test_dropped_swapped_or_added_segments_are_refused() -> None:
    framed = segments(BACKUP.manifest)
    variants = [
        framed[:3] + framed[4:],
        [framed[0], framed[2], framed[1], *framed[3:]],
        [*framed, framed[-1]],
        [*framed[:-1], framed[-2], framed[-1]],
    ]
    for variant in variants:
        with pytest.raises(Damaged):
            read_all(MANIFEST_MAGIC + b"".join(variant))


def test_a_manifest_opens_only_for_its_digest_and_company() -> None:
    for sealer, digest in (
        (BACKUP.sealer, b"\x00" * 32),
        (CompanySealer(BACKUP.keys.data_key, 2), BACKUP.digest),
    ):
        with pytest.raises(Damaged):
            ManifestReader(sealer, digest, io.BytesIO(BACKUP.manifest).read, segment_bytes=SEGMENT)


def test_a_reader_expecting_other_segment_sizes_refuses_the_stream() -> None:
    for segment_bytes in (SEGMENT // 2, SEGMENT * 2):
        with pytest.raises(Damaged, match="wrong size"):
            read_all(BACKUP.manifest, dataclasses.replace(BACKUP, segment_bytes=segment_bytes))


def test_not_a_manifest_is_refused() -> None:
    with pytest.raises(Damaged, match="not a manifest"):
        read_all(b"CFXPACK1" + BACKUP.manifest[8:])
    with pytest.raises(Damaged):
        read_all(b"")
