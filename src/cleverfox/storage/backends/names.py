"""Object names: relative, ``/``-separated, and the same on every backend and file system.

A name is one or more segments joined by ``/``; a segment is 1–128 characters of lower-case
ASCII letters, digits and ``_``, and is not a Windows device name (``con``, ``nul``, ``com1``…).
A name is at most 512 characters. The rules are narrow on purpose:

- **One order everywhere.** ``/`` sorts before every allowed character, so the order of
  names as strings is the order of a depth-first walk of their directories. A local
  directory walk, AWS S3 (byte order) and S3-compatible servers that list by walking
  directories (SeaweedFS does) all return the same sequence; with ``-`` or ``.`` allowed
  (they sort before ``/``) they would not.
- **Safe on every file system.** No ``..``, no leading or trailing ``/``, no empty
  segment, no case that NTFS or APFS would fold, no trailing dot or space Windows would drop,
  no device names, no character any file system or S3 refuses.
- **Room for private files.** A local backend's temporary files start with ``.``, which no
  name can, so they are never mistaken for objects.
"""

from __future__ import annotations

import re

from cleverfox.storage.backends.errors import InvalidName

__all__ = ["MAX_NAME_LENGTH", "check_name", "check_prefix", "is_name", "is_segment"]

MAX_NAME_LENGTH = 512
_SEGMENT = re.compile(r"[a-z0-9_]{1,128}")
_PREFIX_TAIL = re.compile(r"[a-z0-9_]{0,128}")
_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{kind}{n}" for kind in ("com", "lpt") for n in range(10)]
)


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid object name; else raise ``InvalidName`` saying why."""
    if not isinstance(name, str) or not name:
        raise InvalidName("an object name must be a non-empty string")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"object name longer than {MAX_NAME_LENGTH} characters")
    for segment in name.split("/"):
        _check_segment(segment, name, _SEGMENT)
    return name


def check_prefix(prefix: str) -> str:
    """Return ``prefix`` if some valid name could start with it (``""`` lists everything).

    A prefix is whole segments, each followed by ``/``, then optionally the start of a
    segment: ``packs/``, ``packs/7/a``.
    """
    if not isinstance(prefix, str):
        raise InvalidName("a prefix must be a string")
    if len(prefix) > MAX_NAME_LENGTH:
        raise InvalidName(f"prefix longer than {MAX_NAME_LENGTH} characters")
    *whole, tail = prefix.split("/")
    for segment in whole:
        _check_segment(segment, prefix, _SEGMENT)
    _check_segment(tail, prefix, _PREFIX_TAIL)
    return prefix


def is_name(text: str) -> bool:
    """Whether ``text`` is a valid object name (listings skip foreign keys that are not)."""
    return len(text) <= MAX_NAME_LENGTH and all(is_segment(s) for s in text.split("/"))


def is_segment(text: str) -> bool:
    """Whether ``text`` could be one segment of a name (a local backend skips other files)."""
    return _SEGMENT.fullmatch(text) is not None and text not in _DEVICE_NAMES


def _check_segment(segment: str, whole: str, pattern: re.Pattern[str]) -> None:
    if pattern.fullmatch(segment) is None:
        raise InvalidName(
            f"invalid object name {_shown(whole)}: segments are 1–128 characters of a–z, 0–9 "
            "and _, separated by single /, with no leading or trailing /"
        )
    if segment in _DEVICE_NAMES:
        raise InvalidName(f"invalid object name {_shown(whole)}: {segment!r} is reserved")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
