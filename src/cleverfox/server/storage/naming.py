"""Backup file names (storage.md §1): ``{JobName}-{JobItemName}-{yyyyMMdd-HHmmss}.zip`` and
the list's ``….txt``, made safe for every file system a customer may save them on.

Safe: the characters Windows refuses (``<>:"/\\|?*``) and control characters become ``_``,
runs of white space one space; a name part that ends up empty is ``backup``; the whole name
is at most 255 UTF-8 bytes (the name parts are shortened, never the date or extension); it
never ends in a dot or space and is never a Windows device name, since the date follows.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

MAX_NAME_BYTES = 255
_UNSAFE = re.compile(r'[<>:"/\\|?*]')


def backup_file_names(
    job_name: str | None, item_name: str | None, started_on: datetime | None
) -> tuple[str, str]:
    """``(file name, list name)`` of a backup file of the job item's run started then."""
    stamp = f"{started_on:%Y%m%d-%H%M%S}" if started_on is not None else "00000000-000000"
    fixed = f"-{stamp}.zip"
    budget = MAX_NAME_BYTES - len(fixed.encode())
    job, item = _safe(job_name), _safe(item_name)
    while len(f"{job}-{item}".encode()) > budget:
        if len(job.encode()) >= len(item.encode()):
            job = job[:-1].rstrip(" .") or "b"
        else:
            item = item[:-1].rstrip(" .") or "b"
    stem = f"{job}-{item}-{stamp}"
    return f"{stem}.zip", f"{stem}.txt"


def _safe(text: str | None) -> str:
    cleaned = "".join(
        "_" if unicodedata.category(c).startswith("C") else c for c in _UNSAFE.sub("_", text or "")
    )
    cleaned = " ".join(cleaned.split()).strip(" .")
    return cleaned or "backup"
