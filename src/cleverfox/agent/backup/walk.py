"""The walk of a File item's BaseFolder: what to back up, in archive order, streamed.

``walk`` yields each kept file once, as a :class:`FoundFile` whose ``path`` is relative to
BaseFolder, ``/``-separated, in archive order (``storage.manifest.Entry.order_key``: UTF-8
compared component by component): a folder's entries are sorted by their names' UTF-8 bytes
with a folder's name read as ``name`` + NUL, so a depth-first walk *is* that order. Memory
is one listing per open folder level, never the whole tree.

Symbolic links are kept as links, never followed (the content is the target; a link to a
folder is not descended). Folders and files that cannot be listed or examined (permissions,
vanished meanwhile) and names that are not valid Unicode become warnings; other file types
(sockets, FIFOs, devices) are skipped without one, since there is nothing to back up.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from cleverfox.agent.backup.patterns import Rules

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A file the walk kept, with what ``lstat`` said of it when it was found.

    ``link_target`` is a symbolic link's target (its content; ``size`` is its length) and
    None for a regular file.
    """

    path: str
    full_path: str
    mode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    link_target: bytes | None = None


def walk(
    base_folder: str,
    rules: Rules,
    *,
    include_subfolders: bool,
    warn: Warn,
    skip_folders: Collection[str] = (),
) -> Iterator[FoundFile]:
    """The kept files under ``base_folder`` in archive order (see the module's docstring).

    ``skip_folders`` are absolute folders never entered (the item's own local store, when
    it lies inside BaseFolder). ``NotADirectoryError`` / ``FileNotFoundError`` /
    ``PermissionError`` if BaseFolder itself cannot be listed: that fails the item.
    """
    skipped = {os.path.normcase(os.path.abspath(folder)) for folder in skip_folders}
    listings = [iter(_listing(base_folder, "", warn, root=True))]
    while listings:
        found = next(listings[-1], None)
        if found is None:
            listings.pop()
            continue
        relative, entry, info = found
        if stat.S_ISDIR(info.st_mode):
            if (
                include_subfolders
                and rules.keeps_folder(entry.name, relative)
                and os.path.normcase(os.path.abspath(entry.path)) not in skipped
            ):
                listings.append(iter(_listing(entry.path, relative + "/", warn)))
            continue
        if not rules.keeps_file(entry.name, relative):
            continue
        kept = _found_file(relative, entry.path, info, warn)
        if kept is not None:
            yield kept


def _listing(
    folder: str, prefix: str, warn: Warn, *, root: bool = False
) -> list[tuple[str, os.DirEntry[str], os.stat_result]]:
    """A folder's entries that are folders, files or links, sorted for archive order."""
    try:
        with os.scandir(folder) as scan:
            entries = list(scan)
    except OSError as error:
        if root:
            raise
        warn(f"{prefix.rstrip('/')}: folder skipped: {_reason(error)}")
        return []
    keyed = []
    for entry in entries:
        relative = prefix + entry.name
        try:
            encoded = relative.encode()
        except UnicodeEncodeError:
            warn(f"{relative.encode(errors='replace').decode()}: skipped: its name is not Unicode")
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as error:
            warn(f"{relative}: skipped: {_reason(error)}")
            continue
        kind = stat.S_IFMT(info.st_mode)
        if kind == stat.S_IFDIR:
            keyed.append((encoded + b"\x00", relative, entry, info))
        elif kind in (stat.S_IFREG, stat.S_IFLNK):
            keyed.append((encoded, relative, entry, info))
    keyed.sort(key=lambda row: row[0])
    return [(relative, entry, info) for _, relative, entry, info in keyed]


def _found_file(
    relative: str, full_path: str, info: os.stat_result, warn: Warn
) -> FoundFile | None:
    target = None
    size = info.st_size
    if stat.S_ISLNK(info.st_mode):
        try:
            target = os.fsencode(os.readlink(full_path))
        except OSError as error:
            warn(f"{relative}: skipped: {_reason(error)}")
            return None
        size = len(target)
        if not size:
            return None
    return FoundFile(
        relative,
        full_path,
        info.st_mode,
        size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_ino,
        target,
    )


def _reason(error: OSError) -> str:
    """The part of an ``OSError`` worth a warning line (its strerror, not its repr)."""
    if isinstance(error, FileNotFoundError):
        return "it vanished"
    if isinstance(error, PermissionError):
        return "permission denied"
    return error.strerror or type(error).__name__
