"""Manifest entries: their rules, their order, the NoCompressExtensions and the digest."""

from __future__ import annotations

import stat
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cleverfox.storage.errors import EntryInvalid, ManifestInvalid
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.manifest import (
    MAX_MODIFIED_MS,
    DigestBuilder,
    Entry,
    digest,
    is_stored,
    normalise_extensions,
    sort_entries,
)
from tests.storage.support import LINK, REGULAR

ID = ChunkId(bytes(range(32)))


def entry(path: str = "a.txt", **changes: Any) -> Entry:
    fields: dict[str, Any] = {
        "path": path, "mode": REGULAR, "size": 10, "modified_ms": 1_700_000_000_000,
        "chunk_ids": (ID,),
    }  # fmt: skip
    fields.update(changes)
    return Entry(**fields)


@pytest.mark.parametrize(
    "path",
    ["a", "dir/file.txt", "ü/日本語.txt", "a b/.hidden", "...", "a..b", "trailing\\", "x\\\\y",
     "tab\there", "new\nline", "C:colon"],
)  # fmt: skip
def test_safe_relative_paths_are_accepted(path: str) -> None:
    assert entry(path).path == path


@pytest.mark.parametrize(
    "path",
    ["", "/abs", "a//b", "a/", "./a", "a/./b", "../a", "a/..", "nul\0byte", "\\share",
     "a\\..\\..\\etc", "..\\up", "a/.\\b", "\udc80", "x" * 65_536],
)  # fmt: skip
def test_unsafe_paths_are_refused_naming_the_path(path: str) -> None:
    with pytest.raises(EntryInvalid) as refused:
        entry(path)
    assert refused.value.path == path


def test_a_path_may_be_65535_bytes_of_utf8() -> None:
    assert entry("é" * 32_767 + "x")
    with pytest.raises(EntryInvalid):
        entry("é" * 32_768)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"mode": stat.S_IFDIR | 0o755}, "Mode"),
        ({"mode": 0o644}, "Mode"),
        ({"mode": 0x1_0000 | REGULAR}, "Mode"),
        ({"size": -1}, "Size"),
        ({"modified_ms": -1}, "ModifiedUtc"),
        ({"modified_ms": MAX_MODIFIED_MS + 1}, "ModifiedUtc"),
        ({"size": 0}, "empty file has no chunks"),
        ({"chunk_ids": ()}, "empty file has no chunks"),
        ({"chunk_ids": (b"short",)}, "32 bytes"),
        ({"mode": LINK, "size": 0, "chunk_ids": ()}, "link's target"),
    ],
)
def test_entries_breaking_a_rule_are_refused(changes: dict[str, Any], reason: str) -> None:
    with pytest.raises(EntryInvalid, match=reason):
        entry(**changes)


def test_entries_sort_component_wise_and_a_repeated_path_is_refused() -> None:
    paths = ["b", "a/z", "a-z", "ä", "A", "a"]
    ordered = [e.path for e in sort_entries(entry(p) for p in paths)]
    # Component-wise: a folder's files before a sibling whose name merely starts alike.
    assert ordered == ["A", "a", "a/z", "a-z", "b", "ä"]
    with pytest.raises(ManifestInvalid, match="'a'"):
        sort_entries([entry("a"), entry("b"), entry("a")])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (".jpg\r\n.zip", (".jpg", ".zip")),
        ("*.JPG\r\n  png \r\n\r\n.jpg\n.Tar.GZ", (".jpg", ".png", ".tar.gz")),
        ("", ()),
        ("*\r\n.\r\n*.", ()),
    ],
)
def test_no_compress_extensions_normalise(text: str, expected: tuple[str, ...]) -> None:
    assert normalise_extensions(text) == expected


def test_stored_entries_are_empty_files_and_extensions_matched_case_insensitively() -> None:
    extensions = normalise_extensions(".jpg\r\n.tar.gz")
    assert is_stored(entry("Photos/IMG.JPG"), extensions)
    assert is_stored(entry("x.tar.gz"), extensions)
    assert is_stored(entry("empty.txt", size=0, chunk_ids=()), extensions)
    assert not is_stored(entry("jpg/notes.txt"), extensions)
    assert not is_stored(entry("x.gz"), extensions)


# The digest of GOLDEN_ENTRIES, computed once: if the canonical encoding changes by
# accident, every unchanged run stops matching its previous manifest.
GOLDEN_ENTRIES = [
    Entry("docs/ü.txt", REGULAR, 3, 1_700_000_000_123, (ID,)),
    Entry("empty", REGULAR, 0, 0, ()),
    Entry("link", LINK, 5, MAX_MODIFIED_MS, (ChunkId(bytes(32)), ID)),
]
GOLDEN_DIGEST = "36288f0136ac05666e7ad581225e417a721ae62b2ab41dab255292b6e59693fc"


def test_the_digest_is_stable() -> None:
    assert digest(GOLDEN_ENTRIES, "Europe/Berlin", (".jpg", ".zip")).hex() == GOLDEN_DIGEST


@pytest.mark.parametrize(
    ("time_zone", "extensions", "entries"),
    [
        ("Europe/Paris", (".jpg", ".zip"), GOLDEN_ENTRIES),
        ("Europe/Berlin", (".jpg",), GOLDEN_ENTRIES),
        ("Europe/Berlin", (".jpg", ".zip"), GOLDEN_ENTRIES[:2]),
        (
            "Europe/Berlin",
            (".jpg", ".zip"),
            [*GOLDEN_ENTRIES[:2], entry("link", mode=LINK, size=5)],
        ),
        # Not confusable by moving bytes between fields.
        ("Europe/Berlin.jpg", (".zip",), GOLDEN_ENTRIES),
    ],
)
def test_the_digest_covers_zone_extensions_and_every_entry_field(
    time_zone: str, extensions: tuple[str, ...], entries: list[Entry]
) -> None:
    assert digest(entries, time_zone, extensions).hex() != GOLDEN_DIGEST


@given(
    st.sets(
        st.text(
            st.characters(exclude_characters="/\0\\", exclude_categories=("Cs",)),
            min_size=1,
            max_size=8,
        )
    )
)
def test_the_digest_needs_entries_in_order(names: set[str]) -> None:
    entries = [entry(name) for name in names if name not in (".", "..")]
    ordered = sort_entries(entries)
    assert digest(ordered, "UTC", ()) == digest(sort_entries(reversed(entries)), "UTC", ())
    if len(ordered) >= 2:
        builder = DigestBuilder("UTC", ())
        builder.add(ordered[1])
        with pytest.raises(ManifestInvalid, match="in order"):
            builder.add(ordered[0])
