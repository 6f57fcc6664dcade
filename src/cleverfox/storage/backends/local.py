"""``local``: objects as files under one directory, the embedded default (``<data dir>/storage``).

A name's segments are directories and a file (``packs/7/ab/<id>`` is that path under the
root). A put writes a temporary file in the object's directory, fsyncs it, hard-links it to
the final name (``os.link`` fails if the name exists, so nothing is ever overwritten and two
racing puts cannot both win), removes the temporary name and fsyncs the directory: the
object appears whole or not at all and survives a power cut once ``put`` returns.

Temporary files start with ``.tmp-``, which no object name can (``backends.names``), so
``list`` never shows them; a crash can leave some behind, which ``sweep_temporary`` removes
once they are an hour old.

Windows: ``os.link`` makes NTFS hard links (``CreateHardLinkW``) and fails with
``FileExistsError`` like POSIX does; directories are not fsynced there (they cannot be
opened for it, and NTFS journals its metadata). File systems without hard links (FAT,
exFAT, some network shares) are refused with ``BackendUnavailable``. A file being read
cannot be deleted on Windows; that ``delete`` raises ``TransientBackendError`` and is
retried later.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cleverfox.storage.backends.base import (
    ObjectInfo,
    Payload,
    as_buffers,
    check_range,
    probe_by_round_trip,
)
from cleverfox.storage.backends.errors import (
    BackendError,
    BackendUnavailable,
    InvalidRange,
    ObjectExists,
    ObjectNotFound,
    TransientBackendError,
)
from cleverfox.storage.backends.names import check_name, check_prefix, is_segment

__all__ = ["TEMPORARY_PREFIX", "LocalBackend"]

TEMPORARY_PREFIX = ".tmp-"
_WINDOWS = os.name == "nt"
_OPERATOR_ERRNOS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, getattr(errno, "EDQUOT", -1)}
)
_TRANSIENT_ERRNOS = frozenset({errno.EAGAIN, errno.ETIMEDOUT, errno.EBUSY, errno.ESTALE})
_NO_LINK_ERRNOS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV})


class LocalBackend:
    """A ``Backend`` in the directory ``root``, made (with its parents) if missing."""

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._root = Path(os.path.abspath(root))
        self._clock = clock
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BackendUnavailable(
                f"storage directory {self._root} cannot be made: {exc.strerror}"
            ) from exc

    @property
    def root(self) -> Path:
        return self._root

    def put(self, name: str, data: Payload) -> None:
        path = self._path(check_name(name))
        buffers = as_buffers(data)
        if os.path.lexists(path):  # spares writing a pack that the link would refuse
            raise ObjectExists(f"object {name!r} exists")
        try:
            self._make_directories(path.parent)
            fd, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=path.parent)
        except OSError as exc:
            raise _error(exc, "put", name) from exc
        try:
            _write_and_sync(fd, buffers)
            self._link(temporary, path, name)
        except OSError as exc:
            raise _error(exc, "put", name) from exc
        finally:
            _remove_quietly(temporary)
        self._sync_directory(path.parent, name)

    def get(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        path = self._path(check_name(name))
        check_range(offset, length)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(f"no object {name!r}") from None
        except OSError as exc:
            raise _error(exc, "get", name) from exc
        try:
            return _read_range(fd, name, offset, length)
        except OSError as exc:
            raise _error(exc, "get", name) from exc
        finally:
            os.close(fd)

    def size(self, name: str) -> int:
        path = self._path(check_name(name))
        try:
            info = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(f"no object {name!r}") from None
        except OSError as exc:
            raise _error(exc, "size", name) from exc
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(f"no object {name!r}")
        return info.st_size

    def list(self, prefix: str = "", *, start_after: str | None = None) -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        if start_after is not None:
            check_name(start_after)
        directory, _, tail = prefix.rpartition("/")
        base = self._root.joinpath(*directory.split("/")) if directory else self._root
        return self._walk(base, f"{directory}/" if directory else "", tail, start_after)

    def delete(self, name: str) -> None:
        path = self._path(check_name(name))
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            if path.is_dir():  # a directory is not an object: there is nothing to delete
                return
            if _WINDOWS and isinstance(exc, PermissionError):  # open by a reader
                raise TransientBackendError(f"object {name!r} is in use; delete later") from exc
            raise _error(exc, "delete", name) from exc

    def describe(self) -> str:
        return f"local directory {self._root}"

    def probe(self) -> None:
        probe_by_round_trip(self)

    def sweep_temporary(self, older_than: float = 3600.0) -> int:
        """Remove temporary files a crashed put left, once older than ``older_than`` seconds.

        Returns how many were removed. A put in progress keeps its file younger than that.
        """
        cutoff = self._clock() - older_than
        removed = 0
        for directory, _, files in os.walk(self._root):
            for file_name in files:
                if file_name.startswith(TEMPORARY_PREFIX):
                    removed += _remove_if_older(Path(directory, file_name), cutoff)
        return removed

    def _path(self, name: str) -> Path:
        return self._root.joinpath(*name.split("/"))

    def _walk(
        self, directory: Path, above: str, tail: str, start_after: str | None
    ) -> Iterator[ObjectInfo]:
        """Depth first in name order; entries that are not name segments are skipped."""
        entries = []
        try:
            with os.scandir(directory) as scan:
                for entry in scan:
                    if entry.name.startswith(tail) and is_segment(entry.name):
                        entries.append(entry)
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise _error(exc, "list", above or "/") from exc
        for entry in sorted(entries, key=lambda e: e.name):
            key = above + entry.name
            if entry.is_dir():
                if not _all_before(key + "/", start_after):
                    yield from self._walk(Path(entry.path), key + "/", "", start_after)
            elif start_after is None or key > start_after:
                found = _size_of(entry)
                if found is not None:
                    yield ObjectInfo(key, found)

    def _make_directories(self, directory: Path) -> None:
        """Make ``directory`` and its missing parents, each entry made durable in its parent."""
        if directory.is_dir():
            return
        missing = []
        while not directory.is_dir() and directory != self._root:
            missing.append(directory)
            directory = directory.parent
        for each in reversed(missing):
            try:
                each.mkdir()
            except FileExistsError:  # made by a concurrent put
                continue
            _sync_directory(each.parent)

    def _link(self, temporary: str, path: Path, name: str) -> None:
        try:
            os.link(temporary, path)
        except FileExistsError:
            raise ObjectExists(f"object {name!r} exists") from None
        except OSError as exc:
            if exc.errno in _NO_LINK_ERRNOS and not os.path.lexists(path):
                raise BackendUnavailable(
                    f"the file system of {self._root} cannot make hard links, "
                    "which write-once puts need"
                ) from exc
            raise

    def _sync_directory(self, directory: Path, name: str) -> None:
        try:
            _sync_directory(directory)
        except OSError as exc:
            raise _error(exc, "put", name) from exc


def _write_and_sync(fd: int, buffers: list[memoryview]) -> None:
    try:
        for view in buffers:
            while view:
                view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_range(fd: int, name: str, offset: int, length: int | None) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise ObjectNotFound(f"no object {name!r}")
    end = info.st_size if length is None else offset + length
    if offset > info.st_size or end > info.st_size:
        raise InvalidRange(
            f"range {offset}–{end} is outside object {name!r} of {info.st_size} bytes"
        )
    parts = []
    position = offset
    while position < end:
        part = _pread(fd, end - position, position)
        if not part:
            raise BackendError(f"object {name!r} became shorter while being read")
        parts.append(part)
        position += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _pread(fd: int, count: int, position: int) -> bytes:
    if _WINDOWS:  # no os.pread on Windows; each get has its own descriptor, so seek is safe
        os.lseek(fd, position, os.SEEK_SET)
        return os.read(fd, count)
    return os.pread(fd, count, position)


def _sync_directory(directory: Path) -> None:
    """Make the directory's entries durable (skipped on Windows: see the module docstring)."""
    if _WINDOWS:
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _all_before(directory_key: str, start_after: str | None) -> bool:
    """Whether every name under ``directory_key`` (``a/b/``) sorts at or before ``start_after``."""
    if start_after is None:
        return False
    return directory_key < start_after and not start_after.startswith(directory_key)


def _size_of(entry: os.DirEntry[str]) -> int | None:
    try:
        info = entry.stat()
    except FileNotFoundError:  # deleted since the directory was read
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _remove_if_older(path: Path, cutoff: float) -> int:
    try:
        if path.stat().st_mtime >= cutoff:
            return 0
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _error(exc: OSError, operation: str, name: str) -> BackendError:
    """The ``BackendError`` for an ``OSError`` of ``operation`` on ``name``."""
    reason = exc.strerror or type(exc).__name__
    message = f"local {operation} of {name!r} failed: {reason}"
    if exc.errno in _OPERATOR_ERRNOS:
        return BackendUnavailable(message)
    if exc.errno in _TRANSIENT_ERRNOS:
        return TransientBackendError(message)
    return BackendError(message)
