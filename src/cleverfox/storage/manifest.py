"""Manifest entries: their rules, their order, and the digest that names a manifest.

An entry is one file of a backup: its path, Unix mode, size, modification time (ms since the
epoch, UTC) and its chunks in order. Rules (storage.md §3, and what docs/storage-format.md
§4 settles):

- the path is non-empty UTF-8 of at most 65,535 bytes, relative, ``/``-separated, with no
  empty, ``.`` or ``..`` segment and no NUL; since Windows extractors also split at ``\\``,
  no ``\\``-separated part is ``.`` or ``..`` and the path does not start with ``\\`` (a
  POSIX name may hold a backslash; it can never lead outside the extraction folder);
- the mode is a regular file's or a symbolic link's ``st_mode`` (a link's content is its
  target, so it is not empty);
- the size is at most 2^63 - 1, and equals the sum of its chunks' sizes (checked when the
  manifest is resolved against the index);
- the time is from 1970-01-01 to 9999-12-31 UTC (agents clamp what lies outside).

Entries are kept sorted by their path's UTF-8 bytes; two entries with one path are refused.
"""

from __future__ import annotations

import itertools
import stat
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from blake3 import blake3

from cleverfox.storage.errors import EntryInvalid, ManifestInvalid
from cleverfox.storage.ids import CHUNK_ID_BYTES, ChunkId

FORMAT_VERSION = 1
MAX_PATH_BYTES = 65_535
MAX_SIZE = 2**63 - 1
MAX_MODIFIED_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_DIGEST_MAGIC = b"cfx-manifest-v1\n"
_CANONICAL_ENTRY = struct.Struct(">IQqI")
_LENGTH16 = struct.Struct(">H")
_ALLOWED_TYPES = (stat.S_IFREG, stat.S_IFLNK)


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of a backup; constructing one checks every rule but the size sum."""

    path: str
    mode: int
    size: int
    modified_ms: int
    chunk_ids: tuple[ChunkId, ...]

    def __post_init__(self) -> None:
        check_path(self.path)
        if not 0 <= self.mode <= 0xFFFF or stat.S_IFMT(self.mode) not in _ALLOWED_TYPES:
            raise EntryInvalid(self.path, "Mode must be a regular file's or a link's st_mode")
        if not 0 <= self.size <= MAX_SIZE:
            raise EntryInvalid(self.path, f"Size must be within [0, {MAX_SIZE}]")
        if stat.S_ISLNK(self.mode) and self.size == 0:
            raise EntryInvalid(self.path, "a symbolic link's target (its content) is not empty")
        if not 0 <= self.modified_ms <= MAX_MODIFIED_MS:
            raise EntryInvalid(self.path, "ModifiedUtc must be within 1970-01-01 to 9999-12-31")
        if (self.size == 0) != (not self.chunk_ids):
            raise EntryInvalid(self.path, "an empty file has no chunks, any other has some")
        if any(len(chunk_id) != CHUNK_ID_BYTES for chunk_id in self.chunk_ids):
            raise EntryInvalid(self.path, "a chunk id is 32 bytes")

    @property
    def name(self) -> bytes:
        """The path as the archive stores it (UTF-8)."""
        return self.path.encode()

    @property
    def order_key(self) -> bytes:
        """Archive order: UTF-8 bytes compared path component by component, so a folder's
        files come together (``a/z`` before ``a-z``), the order of a sorted recursive walk —
        an agent streams its entries without sorting the whole tree. A path holds no NUL, so
        NUL in place of ``/`` sorts a folder's contents before any longer sibling name."""
        return self.path.encode().replace(b"/", b"\x00")


def check_path(path: str) -> None:
    """``EntryInvalid`` unless ``path`` is a safe relative path of the rules above."""
    try:
        encoded = path.encode()
    except UnicodeEncodeError:
        raise EntryInvalid(path, "Path is not valid Unicode (a lone surrogate)") from None
    if not encoded or len(encoded) > MAX_PATH_BYTES:
        raise EntryInvalid(path, f"Path must be 1 to {MAX_PATH_BYTES} bytes of UTF-8")
    if "\0" in path:
        raise EntryInvalid(path, "Path must not contain NUL")
    if any(segment in ("", ".", "..") for segment in path.split("/")):
        raise EntryInvalid(path, "Path must be relative, with no empty, '.' or '..' segment")
    if "\\" in path and (
        path.startswith("\\")
        or any(part in (".", "..") for part in path.replace("\\", "/").split("/"))
    ):
        raise EntryInvalid(path, "Path must not lead outside its folder when read as Windows'")


def normalise_extensions(extensions: str | Iterable[str]) -> tuple[str, ...]:
    """NoCompressExtensions as the archive applies them: ``.ext`` lower-cased, sorted, once.

    Takes the job item's ``\\r\\n``-separated text or a sequence; accepts ``jpg``, ``.jpg``
    and ``*.jpg`` alike and drops blank lines.
    """
    if isinstance(extensions, str):
        extensions = extensions.splitlines()
    normalised = set()
    for raw in extensions:
        text = raw.strip().lstrip("*").strip().casefold()
        if text and text != ".":
            normalised.add(text if text.startswith(".") else "." + text)
    return tuple(sorted(normalised))


def is_stored(entry: Entry, extensions: Sequence[str]) -> bool:
    """Whether the archive stores ``entry`` (empty, or a NoCompressExtension) or deflates it."""
    return entry.size == 0 or has_extension(entry.path, extensions)


def has_extension(path: str, extensions: Sequence[str]) -> bool:
    """Whether ``path``'s name ends in one of (normalised) ``extensions``, in any case: the
    agent makes such a file's pieces plain, since its entry is stored."""
    folded = path.rsplit("/", 1)[-1].casefold()
    return any(folded.endswith(extension) for extension in extensions)


def sort_entries(entries: Iterable[Entry]) -> list[Entry]:
    """``entries`` in archive order (``Entry.order_key``); ``ManifestInvalid`` on a repeated
    path."""
    ordered = sorted(entries, key=lambda entry: entry.order_key)
    for before, after in itertools.pairwise(ordered):
        if before.path == after.path:
            raise ManifestInvalid(f"two entries have the path {before.path!r}")
    return ordered


class DigestBuilder:
    """The manifest digest, fed entries in archive order (docs/storage-format.md §4).

    ``BLAKE3("cfx-manifest-v1\\n" | u16 len | time zone | u16 count | (u16 len | extension)…
    | canonical entries)``; a canonical entry is ``u16 path length | path | u32 mode | u64
    size | i64 modified ms | u32 chunk count | chunk ids``. The time zone and the
    NoCompressExtensions are covered because both change the archive's bytes.
    """

    def __init__(self, time_zone: str, extensions: Sequence[str]) -> None:
        self._hash = blake3(_DIGEST_MAGIC)
        self._hash.update(_short_string(time_zone))
        self._hash.update(_LENGTH16.pack(len(extensions)))
        for extension in extensions:
            self._hash.update(_short_string(extension))
        self._last: bytes | None = None

    def add(self, entry: Entry) -> None:
        name, key = entry.name, entry.order_key
        if self._last is not None and key <= self._last:
            raise ManifestInvalid("entries must be added in order, each path once")
        self._last = key
        fixed = _CANONICAL_ENTRY.pack(
            entry.mode, entry.size, entry.modified_ms, len(entry.chunk_ids)
        )
        self._hash.update(_LENGTH16.pack(len(name)) + name + fixed + b"".join(entry.chunk_ids))

    def digest(self) -> bytes:
        return self._hash.digest()


def digest(entries: Iterable[Entry], time_zone: str, extensions: Sequence[str]) -> bytes:
    """The digest of a manifest whose ``entries`` are already in archive order."""
    builder = DigestBuilder(time_zone, extensions)
    for entry in entries:
        builder.add(entry)
    return builder.digest()


def _short_string(text: str) -> bytes:
    encoded = text.encode()
    if len(encoded) > 0xFFFF:
        raise ManifestInvalid("a time zone or extension longer than 65,535 bytes")
    return _LENGTH16.pack(len(encoded)) + encoded
