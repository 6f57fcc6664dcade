"""The archive: any tree of files becomes a ZIP whose entries are those files, as Python's
zipfile, Info-ZIP's unzip and libarchive's bsdtar all read it; any byte range of it is the
slice of the whole; the single-file form is the file."""

from __future__ import annotations

import functools
import io
import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleverfox.storage.archive import Literal, archive_parts, etag, file_parts, stream
from cleverfox.storage.chunking import DEFAULT_CHUNKING
from cleverfox.storage.errors import Damaged
from cleverfox.storage.listing import list_bytes, list_line
from cleverfox.storage.manifest import normalise_extensions
from cleverfox.storage.pieces import Form
from tests.storage.support import LINK, Backup, FileSpec, build_backup, run_tool, tool

EXTENSIONS = normalise_extensions(".jpg\r\n.zip")
ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"]
)
# No ':' either: both tools strip a leading "X:" from a name as a Windows drive letter.
SEGMENT = st.text(
    st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="/\\:"),
    min_size=1,
    max_size=8,
).filter(lambda s: s not in (".", ".."))
SEGMENT_EXTENSIONS = st.sampled_from(["", ".txt", ".jpg", ".JPG", ".Zip", ".bin"])
PATHS = st.builds(
    lambda dirs, name, ext: "/".join([*dirs, name + ext]),
    st.lists(SEGMENT, max_size=3), SEGMENT, SEGMENT_EXTENSIONS,
)  # fmt: skip
CONTENT = st.one_of(
    st.just(b""),
    st.binary(max_size=3000),
    st.lists(st.sampled_from([b"log line\n", b"\x00" * 50, "ü€".encode()]), max_size=200).map(
        b"".join
    ),
)
# 1980-01-02 to 2037: DOS time needs no clamping in any zone, and 32-bit tools agree.
TIMES = st.integers(315_619_200_000, 2_145_916_800_000)
PERMISSIONS = st.sampled_from([0o644, 0o600, 0o755, 0o640, 0o444])
REGULAR_FILES = st.builds(
    lambda content, permissions, when: FileSpec(content, stat.S_IFREG | permissions, when),
    CONTENT, PERMISSIONS, TIMES,
)  # fmt: skip
LINKS = st.builds(
    lambda target, when: FileSpec(target.encode(), LINK, when),
    st.text("abcxyz", min_size=1, max_size=12), TIMES,
)  # fmt: skip
TREES = st.dictionaries(PATHS, st.one_of(REGULAR_FILES, LINKS), min_size=1, max_size=12)


def extractable(tree: dict[str, FileSpec]) -> dict[str, FileSpec]:
    """``tree`` without entries that a file system could not hold beside another (a file
    ``a`` and a file ``a/b``)."""
    directories = {path.rsplit("/", 1)[0] + "/" for path in tree if "/" in path}
    prefixes = {d[: i + 1] for d in directories for i, c in enumerate(d) if c == "/"}
    return {path: spec for path, spec in tree.items() if path + "/" not in prefixes}


def expected_dos_time(modified_ms: int, zone: str) -> tuple[int, ...]:
    local = datetime.fromtimestamp(modified_ms // 1000, ZoneInfo(zone))
    return (local.year, local.month, local.day, local.hour, local.minute, local.second // 2 * 2)


def archive_order(path: str) -> bytes:
    """The engine's archive order, written independently: components compared as bytes."""
    return path.encode().replace(b"/", b"\x00")


def check_with_zipfile(data: bytes, tree: dict[str, FileSpec], zone: str) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(tree, key=archive_order)
        for info in infos:
            spec = tree[info.filename]
            assert archive.read(info) == spec.content
            assert info.file_size == len(spec.content)
            assert info.external_attr >> 16 == spec.mode
            assert info.flag_bits & 0x800
            assert info.create_system == 3
            assert info.date_time == expected_dos_time(spec.modified_ms, zone)
            stored = not spec.content or info.filename.lower().endswith(EXTENSIONS)
            assert info.compress_type == (zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def check_extracted(folder: Path, tree: dict[str, FileSpec]) -> None:
    found = sorted(
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_symlink() or p.is_file()
    )
    assert found == sorted(tree)
    for path, spec in tree.items():
        target = folder / path
        status = target.lstat()
        assert status.st_mode == spec.mode or (
            stat.S_ISLNK(spec.mode) and stat.S_ISLNK(status.st_mode)
        )
        if stat.S_ISLNK(spec.mode):
            assert os.readlink(target) == spec.content.decode()
            continue
        assert target.read_bytes() == spec.content
        assert int(status.st_mtime) == spec.modified_ms // 1000


def single_file_pattern(tree: dict[str, FileSpec]) -> str | None:
    """A regular file whose name both tools take literally as a pattern."""
    for path, spec in sorted(tree.items()):
        if (
            stat.S_ISREG(spec.mode)
            and not set(path) & set("*?[]\\^{}!$")
            and not path.startswith("-")
        ):
            return path
    return None


def check_with_stock_tools(data: bytes, tree: dict[str, FileSpec]) -> None:
    unzip, bsdtar = tool("unzip"), tool("bsdtar")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        (root / "a.zip").write_bytes(data)
        run_tool(unzip, "-tq", root / "a.zip")
        # -V: Info-ZIP otherwise strips a name's ";…" as a VMS version number.
        run_tool(unzip, "-qV", root / "a.zip", "-d", root / "unzip")
        check_extracted(root / "unzip", tree)
        listing = run_tool(bsdtar, "-tvf", root / "a.zip").stdout
        assert len(listing.splitlines()) == len(tree)
        (root / "bsdtar").mkdir()
        run_tool(bsdtar, "-xpf", root / "a.zip", "-C", root / "bsdtar")
        check_extracted(root / "bsdtar", tree)
        if (path := single_file_pattern(tree)) is not None:
            assert run_tool(unzip, "-p", root / "a.zip", path).stdout == tree[path].content
            assert run_tool(bsdtar, "-xOf", root / "a.zip", path).stdout == tree[path].content


@given(TREES.map(extractable).filter(bool), ZONES)
def test_any_tree_becomes_an_archive_whose_entries_are_the_files(
    tree: dict[str, FileSpec], zone: str
) -> None:
    backup = build_backup(tree, time_zone=zone, extensions=EXTENSIONS)
    data = backup.archive()
    assert len(data) == backup.totals.archive_size
    assert backup.totals.entry_count == len(tree)
    assert backup.totals.logical_bytes == sum(len(s.content) for s in tree.values())
    check_with_zipfile(data, tree, zone)
    check_with_stock_tools(data, tree)


@given(TREES, ZONES)
def test_the_archive_is_a_pure_function_of_the_manifest(
    tree: dict[str, FileSpec], zone: str
) -> None:
    """Zipfile's view of any tree (tools need an extractable one), and the same bytes on
    every download."""
    backup = build_backup(tree, time_zone=zone, extensions=EXTENSIONS)
    data = backup.archive()
    check_with_zipfile(data, tree, zone)
    assert backup.archive() == data


def small_backup() -> tuple[Backup, bytes]:
    tree = {
        "a.txt": FileSpec(b"hello " * 40),
        "b.jpg": FileSpec(bytes(range(200))),
        "e": FileSpec(b""),
        "l": FileSpec(b"a.txt", LINK),
    }
    backup = build_backup(tree, extensions=EXTENSIONS)
    return backup, backup.archive()


def test_every_byte_range_of_a_small_archive_is_the_slice_of_the_whole() -> None:
    """Every start with short and open-ended stops, every prefix, and every range between
    two part boundaries (where clipping can go wrong), one byte either side."""
    backup, whole = small_backup()
    resolved = list(backup.entries())
    size = len(whole)
    ranges = {(start, stop) for start in range(size) for stop in (start + 1, start + 2, size)}
    ranges |= {(0, stop) for stop in range(1, size + 1)}
    boundaries, position = {0, size}, 0
    for part in archive_parts(lambda: resolved, backup.totals):
        position += len(part.data) if isinstance(part, Literal) else part.stop - part.start
        boundaries.add(position)
    near = sorted({min(max(b + d, 0), size) for b in boundaries for d in (-1, 0, 1)})
    ranges |= {(start, stop) for start in near for stop in near if start < stop}
    for start, stop in sorted(ranges):
        parts = archive_parts(lambda: resolved, backup.totals, start, stop)
        assert b"".join(stream(parts, backup.fetch)) == whole[start:stop], (start, stop)


@functools.cache
def larger_backup() -> tuple[Backup, bytes]:
    tree = {f"dir/{n:03}.txt": FileSpec(os.urandom(n * 37) + b"text " * n) for n in range(60)}
    backup = build_backup(tree)
    return backup, backup.archive()


@settings(max_examples=20)
@given(st.data())
def test_random_byte_ranges_of_a_larger_archive_are_slices_of_the_whole(
    data: st.DataObject,
) -> None:
    backup, whole = larger_backup()
    start = data.draw(st.integers(0, len(whole) - 1))
    stop = data.draw(st.integers(start + 1, len(whole)))
    assert backup.archive(start, stop) == whole[start:stop]


def test_ranges_outside_the_archive_are_empty_and_stops_past_it_are_clipped() -> None:
    backup, whole = small_backup()
    assert backup.archive(len(whole), len(whole) + 10) == b""
    assert backup.archive(5, 5) == b""
    assert backup.archive(len(whole) - 3, 10**12) == whole[-3:]


def test_a_range_before_the_directory_reads_no_chunk_after_it() -> None:
    backup, whole = small_backup()
    asked: list[bytes] = []

    def fetch(ids):  # type: ignore[no-untyped-def]
        asked.extend(ids)
        return backup.fetch(ids)

    first = next(backup.entries())
    assert (
        b"".join(stream(archive_parts(backup.entries, backup.totals, 0, first.header_size), fetch))
        == (whole[: first.header_size])
    )
    assert asked == []


def test_the_single_file_form_is_the_files_plaintext_and_ranges_of_it() -> None:
    content = b"deflated line\n" * 300
    backup = build_backup({"f.txt": FileSpec(content)})
    (entry,) = backup.entries()
    assert entry.method == Form.DEFLATE and len(entry.chunks) > 1
    assert b"".join(stream(file_parts(entry), backup.fetch)) == content
    for start, stop in ((0, 1), (100, 2000), (len(content) - 5, len(content)), (7, None)):
        assert b"".join(stream(file_parts(entry, start, stop), backup.fetch)) == content[start:stop]


def test_a_piece_of_the_wrong_length_stops_the_stream_before_its_bytes() -> None:
    backup, _ = small_backup()
    (victim,) = [e for e in backup.entries() if e.path == "a.txt"]
    backup.pieces[victim.chunks[0].chunk_id] += b"x"
    produced = bytearray()
    writes = stream(archive_parts(backup.entries, backup.totals), backup.fetch)
    with pytest.raises(Damaged, match="wrong length"):
        drain_into(writes, produced)
    assert len(produced) < victim.offset + victim.header_size + 1


def drain_into(writes: Iterator[bytes], produced: bytearray) -> None:
    """Keep each of ``writes`` in ``produced`` as it arrives (until one raises)."""
    for data in writes:
        produced += data


def test_writes_are_about_a_mebibyte() -> None:
    big = {f"{n}.bin": FileSpec(os.urandom(300_000)) for n in range(8)}
    backup = build_backup(big, params=DEFAULT_CHUNKING)
    sizes = [len(w) for w in stream(archive_parts(backup.entries, backup.totals), backup.fetch)]
    assert sum(sizes) == backup.totals.archive_size
    assert all(size >= 1 << 20 for size in sizes[:-1])
    assert max(sizes) < (1 << 20) + 310_000  # at most one chunk over


def test_the_list_is_exactly_as_long_as_resolution_said() -> None:
    tree = {"a\tb": FileSpec(b"x"), "c\\d\n": FileSpec(b"yy", modified_ms=0), "é": FileSpec(b"")}
    backup = build_backup(tree)
    lines = (list_line(e.path, e.size, e.modified_ms) for e in backup.entries())
    text = b"".join(list_bytes(lines))
    assert len(text) == backup.totals.list_size
    assert text.decode().splitlines() == [
        "Path\tSize\tModifiedUtc",
        "a\\tb\t1\t2023-11-14T22:13:20Z",
        "c\\\\d\\n\t2\t1970-01-01T00:00:00Z",
        "é\t0\t2023-11-14T22:13:20Z",
    ]


def test_etags_are_strong_and_name_the_kind_and_format() -> None:
    backup, _ = small_backup()
    tag = etag(backup.archive_digest, "zip")
    assert tag.startswith('"cfx1-zip-') and tag.endswith('"') and not tag.startswith("W/")
    assert tag != etag(backup.archive_digest, "list")
    assert etag(build_backup({"a.txt": FileSpec(b"other")}).archive_digest, "zip") != tag


def test_literal_parts_are_the_archive_headers() -> None:
    backup, whole = small_backup()
    parts = list(archive_parts(backup.entries, backup.totals))
    assert isinstance(parts[0], Literal) and parts[0].data == whole[: len(parts[0].data)]
    assert whole.startswith(b"PK\x03\x04")
