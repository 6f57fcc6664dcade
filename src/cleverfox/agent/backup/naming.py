"""The backup file's name (storage.md §1): ``{JobName}-{JobItemName}-{yyyyMMdd-HHmmss}.zip``.

"Made safe for every file system": characters Windows refuses in a name (``<>:"/\\|?*`` and
control characters) become ``_``, as do trailing dots and spaces (Windows drops them) and
names Windows reserves (``CON``, ``NUL``, ``COM1``…, which gain a ``_``); the stem is cut so
the name stays within 255 bytes of UTF-8.
"""

from __future__ import annotations

import re
from datetime import datetime

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = re.compile(r"(?i)^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$")
_MAX_NAME_BYTES = 255


def safe_name(text: str) -> str:
    """``text`` usable as a file name on Windows, macOS and Linux."""
    name = _UNSAFE.sub("_", text).rstrip(" .") or "_"
    if _RESERVED.match(name):
        name = "_" + name
    return name


def backup_file_name(job_name: str, item_name: str, started_on: datetime) -> str:
    """The backup file's name for a run started at ``started_on`` (device-local)."""
    stamp = started_on.strftime("%Y%m%d-%H%M%S")
    stem = safe_name(f"{job_name}-{item_name}")
    budget = _MAX_NAME_BYTES - len(f"-{stamp}.zip")
    while len(stem.encode()) > budget:
        stem = stem[:-1]
    return f"{stem}-{stamp}.zip"


def backup_list_name(file_name: str) -> str:
    """The backup list's name: the file's with ``.txt`` instead of ``.zip``."""
    return file_name.removesuffix(".zip") + ".txt"
