"""Restore a backup's files (all, or those matching globs) into a folder; list local copies.

``restore`` reads a committed manifest from the server (an ``Uploader``: ``manifest`` and
``read_chunks``, by LogItemId) or from a local store (by copy id), fetching chunks in
requests of at most 1,000 ids and about ``REQUEST_BYTES`` of plaintext. Every chunk is
opened and its id checked (``storage.pieces.open_piece``: the keyed BLAKE3 of its plaintext
must be the id asked for), so a damaged or substituted chunk fails the restore
(``RestoreError``) instead of being written.

Each file is written under a temporary name in its folder and renamed into place when
whole; then its mode (permission bits; never set-uid/gid) and modification time are set.
Symbolic links are recreated as links. A path whose folder already exists as a link is
skipped with a warning, so a manifest cannot write outside the target through a link.
A non-empty target is refused unless ``overwrite``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import stat
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cleverfox.agent.backup.local_store import CopyInfo, LocalStore, StoreError
from cleverfox.agent.backup.patterns import DEFAULT_CASE_SENSITIVE, PatternSet
from cleverfox.agent.backup.spool import ms_of
from cleverfox.agent.model import ManifestEntry, ProgressSink, Uploader
from cleverfox.storage.errors import ChunkMissing, PieceInvalid, StorageError
from cleverfox.storage.manifest import check_path
from cleverfox.storage.pieces import open_piece

REQUEST_IDS = 1_000
REQUEST_BYTES = 16 << 20  # two requests are held: one checked, one written
_THREADS = max(os.cpu_count() or 1, 1)
_MAX_CHUNK_BYTES = 16 << 20
_TEMPORARY_PREFIX = ".cfx-restore-"


class RestoreError(Exception):
    """A restore that cannot go on; the message is safe to show."""


@dataclass(slots=True)
class RestoreResult:
    """What a restore wrote, and the files it skipped (one warning line each)."""

    files: int = 0
    bytes: int = 0
    warnings: list[str] = field(default_factory=list)


class _NoProgress:
    def planned(self, files: int, size: int) -> None:
        pass

    def done(self, files: int, size: int, uploaded: int = 0) -> None:
        pass


def restore(
    source: Uploader | LocalStore,
    backup: int,
    to: Path,
    *,
    id_key: bytes | None = None,
    paths: Sequence[str] = (),
    overwrite: bool = False,
    progress: ProgressSink | None = None,
    max_chunk_bytes: int = _MAX_CHUNK_BYTES,
    case_sensitive: bool = DEFAULT_CASE_SENSITIVE,
) -> RestoreResult:
    """Restore backup ``backup`` (a LogItemId for the server, a copy id for a local store)
    into ``to``; only entries matching one of ``paths`` (globs: a name, a relative path, or
    a folder whose files all match) when given. ``id_key`` is the company's (the check-in's
    ``Storage.IdKey``; a local store knows its own). Raises ``RestoreError``."""
    key = id_key if id_key is not None else getattr(source, "id_key", None)
    if key is None:
        raise RestoreError("the company's id key is needed to check the chunks")
    _prepare_target(to, overwrite)
    selector = _Selector(paths, case_sensitive)
    sink = progress or _NoProgress()
    result = RestoreResult()
    try:
        entries = (entry for entry in source.manifest(backup) if selector.keeps(entry.path))
        planned, writing = itertools.tee(entries)
        chunks = _chunks(source, _requests(planned, max_chunk_bytes), key, max_chunk_bytes)
        made: set[str] = set()
        for entry in writing:
            sink.planned(1, entry.size)
            if _write_entry(to, entry, chunks, result, made):
                result.files += 1
                result.bytes += entry.size
            sink.done(1, entry.size)
    except PieceInvalid as error:
        raise RestoreError(f"a chunk failed its check: {error.reason}") from None
    except ChunkMissing as error:
        raise RestoreError(f"{len(error.chunk_ids)} chunk(s) of the backup are missing") from None
    except (StoreError, StorageError) as error:
        raise RestoreError(f"the backup cannot be read: {error}") from None
    return result


def list_copies(archive_folders: Iterable[Path]) -> list[CopyInfo]:
    """The local copies kept in each of ``archive_folders`` that holds a store, oldest
    first per folder (for ``agent copies``)."""
    copies: list[CopyInfo] = []
    for folder in archive_folders:
        try:
            with LocalStore(folder) as store:
                copies.extend(store.copies())
        except StoreError:
            continue
    return copies


def default_archive_folders(state_dir: Path) -> list[Path]:
    """The ArchiveFolders the server assigns (``archive/job-{JobId}`` under the agent's data
    folder) that exist, for ``agent copies`` and ``restore --local`` without a check-in."""
    root = state_dir / "archive"
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir() if path.name.startswith("job-"))


def find_local_copy(archive_folders: Iterable[Path], log_item_id: int) -> tuple[Path, int] | None:
    """``(archive folder, copy id)`` of the local copy of a Log Item, if one is kept."""
    for copy in list_copies(archive_folders):
        if copy.log_item_id == log_item_id:
            return Path(copy.folder), copy.copy_id
    return None


class _Selector:
    def __init__(self, globs: Sequence[str], case_sensitive: bool) -> None:
        self._patterns = PatternSet(globs, case_sensitive=case_sensitive)

    def keeps(self, path: str) -> bool:
        if not self._patterns:
            return True
        parts = path.split("/")
        # The file itself, or any folder above it.
        return any(
            self._patterns.matches(parts[depth - 1], "/".join(parts[:depth]))
            for depth in range(len(parts), 0, -1)
        )


def _prepare_target(to: Path, overwrite: bool) -> None:
    if to.exists() and not to.is_dir():
        raise RestoreError(f"{to} is not a folder")
    if to.is_dir() and not overwrite and any(to.iterdir()):
        raise RestoreError(f"{to} is not empty (use --overwrite to restore into it)")
    try:
        to.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RestoreError(f"{to} cannot be made: {error.strerror}") from None


def _requests(entries: Iterator[ManifestEntry], max_chunk_bytes: int) -> Iterator[list[bytes]]:
    """The ids of ``entries`` in order, cut into requests the server accepts."""
    request: list[bytes] = []
    budget = 0
    for entry in entries:
        per_chunk = min(entry.size, max_chunk_bytes)
        for chunk_id in entry.chunk_ids:
            if request and (len(request) >= REQUEST_IDS or budget + per_chunk > REQUEST_BYTES):
                yield request
                request, budget = [], 0
            request.append(bytes(chunk_id))
            budget += per_chunk
    if request:
        yield request


def _chunks(
    source: Uploader | LocalStore,
    requests: Iterator[list[bytes]],
    id_key: bytes,
    max_chunk_bytes: int,
) -> Iterator[bytes]:
    """Each requested chunk's checked plaintext, in request order.

    Checking (inflate and keyed BLAKE3, both outside the GIL) runs in threads, one per
    core, while this thread fetches the next request and the caller writes files."""
    with ThreadPoolExecutor(_THREADS) as pool:
        pending: tuple[list[bytes], dict[bytes, Future[bytes]]] | None = None
        for request in requests:
            checks = {
                bytes(chunk_id): pool.submit(
                    open_piece, codec, piece, id_key, chunk_id, max_chunk_bytes
                )
                for chunk_id, codec, piece in source.read_chunks(list(dict.fromkeys(request)))
            }
            if pending is not None:
                yield from _checked(*pending)
            pending = (request, checks)
        if pending is not None:
            yield from _checked(*pending)


def _checked(request: list[bytes], checks: dict[bytes, Future[bytes]]) -> Iterator[bytes]:
    for chunk_id in request:
        check = checks.get(chunk_id)
        if check is None:
            raise RestoreError(f"chunk {chunk_id.hex()} was not sent")
        yield check.result()


def _write_entry(
    to: Path, entry: ManifestEntry, chunks: Iterator[bytes], result: RestoreResult, made: set[str]
) -> bool:
    """Write one entry (consuming its chunks whatever happens); False if it was skipped."""
    data = (next(chunks) for _ in entry.chunk_ids)
    try:
        check_path(entry.path)
        folder = _safe_folder(to, entry.path, made)
    except (ValueError, OSError, _UnsafePath) as error:
        for _ in data:
            pass
        result.warnings.append(f"{entry.path}: skipped: {error}")
        return False
    final = folder / entry.path.rsplit("/", 1)[-1]
    temporary = folder / f"{_TEMPORARY_PREFIX}{secrets.token_hex(6)}"
    mtime_ns = ms_of(entry.modified_utc) * 1_000_000
    try:
        if stat.S_ISLNK(entry.mode):
            target = b"".join(data)
            os.symlink(os.fsdecode(target), temporary)
            os.replace(temporary, final)
            with contextlib.suppress(NotImplementedError, OSError):
                os.utime(final, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
            return True
        with open(temporary, "wb") as out:
            for chunk in data:
                out.write(chunk)
        os.chmod(temporary, stat.S_IMODE(entry.mode) & 0o777)
        os.utime(temporary, ns=(mtime_ns, mtime_ns))
        os.replace(temporary, final)
    except OSError as error:
        for _ in data:
            pass
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        result.warnings.append(f"{entry.path}: not restored: {error.strerror or error}")
        return False
    return True


class _UnsafePath(Exception):
    pass


def _safe_folder(to: Path, path: str, made: set[str]) -> Path:
    """The folder of ``path`` under ``to``, made, each existing part a real folder (those
    in ``made`` are known to be: this restore made or checked them)."""
    parts = path.split("/")[:-1]
    folder = str(to)
    for part in parts:
        folder = os.path.join(folder, part)
        if folder in made:
            continue
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            os.mkdir(folder)
            made.add(folder)
            continue
        if not stat.S_ISDIR(info.st_mode):
            raise _UnsafePath("a folder on its path is a link or a file")
        made.add(folder)
    return Path(folder)
