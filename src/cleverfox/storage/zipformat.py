"""The ZIP records (PKWARE APPNOTE 6.3): local and central headers, end records, DOS time.

Pure functions of an entry's facts, each with an exact size function, so an archive's layout
is known before any byte of it is made. Choices: the UTF-8 flag (bit 11) on every name; no
data descriptors (sizes are known up front); the extended timestamp (0x5455, UTC seconds as
u32, read unsigned by Info-ZIP and libarchive) and DOS time in the device's zone; the Unix
mode in the external attributes, "made by" Unix; ZIP64 fields exactly where a size, offset
or the entry count does not fit, and version needed 45 then (20 otherwise).
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from cleverfox.storage.pieces import Form

UINT16_MAX = 0xFFFF
UINT32_MAX = 0xFFFF_FFFF
_FLAG_UTF8 = 1 << 11
_VERSION_DEFAULT = 20
_VERSION_ZIP64 = 45
_MADE_BY_UNIX = 3 << 8

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_EXTRA_HEAD = struct.Struct("<HH")
_TIMESTAMP = struct.Struct("<HHBI")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR = struct.Struct("<IIQI")
_ZIP64_LOCAL_BYTES = 20
FINAL_DEFLATE_BLOCK = b"\x03\x00"
_DOS_MIN = datetime(1980, 1, 1)
_DOS_MAX = datetime(2107, 12, 31, 23, 59, 58)
_DOS_UTC_MIN = int(datetime(1979, 12, 30, tzinfo=UTC).timestamp())
_DOS_UTC_MAX = int(datetime(2108, 1, 2, tzinfo=UTC).timestamp())


def dos_date_time(modified_ms: int, zone: ZoneInfo) -> tuple[int, int]:
    """``(time, date)`` in DOS form: local wall time in ``zone``, clamped to 1980–2107."""
    # Clamped first, in UTC, so converting a time near year 9999 cannot overflow.
    seconds = min(max(modified_ms // 1000, _DOS_UTC_MIN), _DOS_UTC_MAX)
    local = datetime.fromtimestamp(seconds, UTC).astimezone(zone).replace(tzinfo=None)
    local = min(max(local, _DOS_MIN), _DOS_MAX)
    time = (local.hour << 11) | (local.minute << 5) | (local.second // 2)
    date = ((local.year - 1980) << 9) | (local.month << 5) | local.day
    return time, date


def unix_seconds(modified_ms: int) -> int:
    """The extended timestamp's value: whole UTC seconds, clamped to u32."""
    return min(modified_ms // 1000, UINT32_MAX)


class ZipEntry(Protocol):
    """What an entry's headers are made of (``resolution.ResolvedEntry`` is one)."""

    @property
    def name(self) -> bytes: ...
    @property
    def method(self) -> Form: ...
    @property
    def crc32(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def compressed_size(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def dos_time(self) -> int: ...
    @property
    def dos_date(self) -> int: ...
    @property
    def mtime(self) -> int: ...
    @property
    def mode(self) -> int: ...


def _needs_zip64_sizes(entry: ZipEntry) -> bool:
    return entry.size >= UINT32_MAX or entry.compressed_size >= UINT32_MAX


def _version(entry: ZipEntry) -> int:
    if _needs_zip64_sizes(entry) or entry.offset >= UINT32_MAX:
        return _VERSION_ZIP64
    return _VERSION_DEFAULT


def local_header_size(entry: ZipEntry) -> int:
    zip64 = _ZIP64_LOCAL_BYTES if _needs_zip64_sizes(entry) else 0
    return _LOCAL.size + len(entry.name) + zip64 + _TIMESTAMP.size


def local_header(entry: ZipEntry) -> bytes:
    """The entry's local file header (at ``entry.offset`` of the archive)."""
    extra = _timestamp(entry.mtime)
    sizes = (entry.compressed_size, entry.size)
    if _needs_zip64_sizes(entry):
        # In a local header ZIP64 carries both sizes, and both 32-bit fields are -1.
        wide = struct.pack("<QQ", entry.size, entry.compressed_size)
        extra = _EXTRA_HEAD.pack(1, len(wide)) + wide + extra
        sizes = (UINT32_MAX, UINT32_MAX)
    head = _LOCAL.pack(
        0x04034B50, _version(entry), _FLAG_UTF8, entry.method, entry.dos_time, entry.dos_date,
        entry.crc32, *sizes, len(entry.name), len(extra),
    )  # fmt: skip
    return head + entry.name + extra


def _wide_fields(entry: ZipEntry) -> list[int]:
    """The central header's fields that do not fit 32 bits, in ZIP64's order."""
    fields = (entry.size, entry.compressed_size, entry.offset)
    return [value for value in fields if value >= UINT32_MAX]


def central_header_size(entry: ZipEntry) -> int:
    wide = _wide_fields(entry)
    zip64 = _EXTRA_HEAD.size + 8 * len(wide) if wide else 0
    return _CENTRAL.size + len(entry.name) + zip64 + _TIMESTAMP.size


def central_header(entry: ZipEntry) -> bytes:
    """The entry's central directory header."""
    wide = _wide_fields(entry)
    extra = _timestamp(entry.mtime)
    if wide:
        extra = _EXTRA_HEAD.pack(1, 8 * len(wide)) + struct.pack(f"<{len(wide)}Q", *wide) + extra
    version = _version(entry)
    head = _CENTRAL.pack(
        0x02014B50, _MADE_BY_UNIX | version, version, _FLAG_UTF8, entry.method,
        entry.dos_time, entry.dos_date, entry.crc32, min(entry.compressed_size, UINT32_MAX),
        min(entry.size, UINT32_MAX), len(entry.name), len(extra), 0, 0, 0,
        (entry.mode & 0xFFFF) << 16, min(entry.offset, UINT32_MAX),
    )  # fmt: skip
    return head + entry.name + extra


def _needs_zip64_end(entry_count: int, central_offset: int, central_size: int) -> bool:
    return entry_count >= UINT16_MAX or central_offset >= UINT32_MAX or central_size >= UINT32_MAX


def end_records_size(entry_count: int, central_offset: int, central_size: int) -> int:
    zip64 = _needs_zip64_end(entry_count, central_offset, central_size)
    return _END.size + (_END64.size + _LOCATOR.size if zip64 else 0)


def end_records(entry_count: int, central_offset: int, central_size: int) -> bytes:
    """The end of central directory record, preceded by the ZIP64 one and its locator when
    the count, the directory's offset or its size does not fit the classic fields."""
    parts = []
    if _needs_zip64_end(entry_count, central_offset, central_size):
        end64_offset = central_offset + central_size
        end64 = _END64.pack(
            0x06064B50, _END64.size - 12, _MADE_BY_UNIX | _VERSION_ZIP64, _VERSION_ZIP64,
            0, 0, entry_count, entry_count, central_size, central_offset,
        )  # fmt: skip
        parts.append(end64)
        parts.append(_LOCATOR.pack(0x07064B50, 0, end64_offset, 1))
    count = min(entry_count, UINT16_MAX)
    end = _END.pack(
        0x06054B50, 0, 0, count, count,
        min(central_size, UINT32_MAX), min(central_offset, UINT32_MAX), 0,
    )  # fmt: skip
    parts.append(end)
    return b"".join(parts)


def _timestamp(mtime: int) -> bytes:
    return _TIMESTAMP.pack(0x5455, 5, 1, mtime)
