"""The backup file's name (storage.md §1): ``{JobName}-{JobItemName}-{yyyyMMdd-HHmmss}.zip``.

The server's rule (``server/storage/naming.py``), repeated here because the agent never
imports the server and must name a local-only backup (CloudKeepLast 0) as the server would:
the characters Windows refuses (``<>:"/\\|?*``) and control characters become ``_``, runs of
white space one space; a part that ends up empty is ``backup``; the whole name is at most
255 UTF-8 bytes (the longer part is shortened first, never the date or extension). A test
pins the two to the same answers.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

MAX_NAME_BYTES = 255
_UNSAFE = re.compile(r'[<>:"/\\|?*]')


def backup_file_name(job_name: str, item_name: str, started_on: datetime) -> str:
    """The backup file's name for a run started at ``started_on`` (device-local)."""
    stamp = f"{started_on:%Y%m%d-%H%M%S}"
    fixed = f"-{stamp}.zip"
    budget = MAX_NAME_BYTES - len(fixed.encode())
    job, item = _safe(job_name), _safe(item_name)
    while len(f"{job}-{item}".encode()) > budget:
        if len(job.encode()) >= len(item.encode()):
            job = job[:-1].rstrip(" .") or "b"
        else:
            item = item[:-1].rstrip(" .") or "b"
    return f"{job}-{item}{fixed}"


def backup_list_name(file_name: str) -> str:
    """The backup list's name: the file's with ``.txt`` instead of ``.zip``."""
    return file_name.removesuffix(".zip") + ".txt"


def _safe(text: str) -> str:
    cleaned = "".join(
        "_" if unicodedata.category(c).startswith("C") else c for c in _UNSAFE.sub("_", text)
    )
    cleaned = " ".join(cleaned.split()).strip(" .")
    return cleaned or "backup"
