"""The chunk pipeline: files in, manifest entries out, only missing chunks compressed and sent.

Files come in archive order and go out (to an ``EntrySpool``) in the same order, in batches
of about ``batch_files`` files or ``batch_bytes`` bytes:

1. the walk, the files cache (a hit is neither read nor hashed) and, for the rest, tasks of
   small files batched together (or one large file) to a pool of worker processes, one per
   core, that read, cut (FastCDC with the check-in's parameters) and hash (keyed BLAKE3);
   a batch's tasks are submitted before the previous batch is finished, so the workers
   stay busy while the main process talks to the server;
2. one ``uploader.missing`` call per 10,000 ids (cached files' ids too: a chunk that
   storage collected since is sent again);
3. pieces of the missing chunks only (deflated unless NoCompressExtensions; by the workers,
   from the same file ranges, each checked against its id), packed into bodies of at most
   ``pack_bytes`` (``storage.records``) for ``uploader.put_pack``.

A file that changes while it is read is read again once; if it still changes it is recorded
as read, with a warning. One whose bytes changed between the chunking and the pieces is
read once more, in the main process, recorded as read. Memory: one batch's results, at most
``window`` tasks' pieces, and one pack body — not the number of files.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeVar

from blake3 import blake3

from cleverfox.agent.backup import _worker
from cleverfox.agent.backup.files_cache import RACY_SECONDS, FileFacts, FilesCache
from cleverfox.agent.backup.spool import EntrySpool, clamped_ms, ms_of
from cleverfox.agent.backup.walk import FoundFile
from cleverfox.agent.model import ProgressSink, StorageParameters, StreamedFile, Uploader
from cleverfox.storage.chunking import Chunker, ChunkingParams
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.manifest import Entry, has_extension, sort_entries
from cleverfox.storage.pieces import make_piece
from cleverfox.storage.records import RECORD_HEADER_BYTES, record_header

MISSING_BATCH_IDS = 10_000
DEFAULT_PACK_BYTES = 16 << 20
_SENT_MEMORY = 100_000  # ids remembered as sent this run (beyond: at worst a duplicate)
Warn = Callable[[str], None]
_R = TypeVar("_R")
_PieceResults = list[list[_worker.Piece] | None]
_Task = tuple[list[int], Callable[[], "Future[_PieceResults]"]]


class Cancelled(Exception):
    """The run was asked to stop (``ItemContext.cancel``)."""


@dataclass(slots=True)
class Stats:
    """What a pipeline did: files and bytes in, chunks reported missing, bytes sent."""

    files: int = 0
    bytes: int = 0
    files_read: int = 0
    chunks: int = 0
    missing_chunks: int = 0
    packs: int = 0
    bytes_sent: int = 0


def default_workers() -> int:
    """One worker per core this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


class Packer:
    """Pack bodies of records, sent when the next record would pass ``pack_bytes``."""

    def __init__(
        self, uploader: Uploader, pack_bytes: int, stats: Stats, progress: ProgressSink
    ) -> None:
        self._uploader = uploader
        self._pack_bytes = pack_bytes
        self._stats = stats
        self._progress = progress
        self._body = bytearray()
        self.sent: set[bytes] = set()

    def add(self, chunk_id: bytes, codec: int, piece: bytes) -> None:
        if chunk_id in self.sent:
            return
        size = RECORD_HEADER_BYTES + len(piece)
        if self._body and len(self._body) + size > self._pack_bytes:
            self.flush()
        if len(self.sent) >= _SENT_MEMORY:
            self.flush()
            self.sent.clear()
        self._body += record_header(chunk_id, codec, len(piece))
        self._body += piece
        self.sent.add(chunk_id)

    def flush(self) -> None:
        if not self._body:
            return
        body = bytes(self._body)
        self._body = bytearray()
        self._uploader.put_pack(body)
        self._stats.packs += 1
        self._stats.bytes_sent += len(body)
        self._progress.done(0, 0, len(body))


@dataclass(slots=True)
class _File:
    found: FoundFile
    chunk_ids: tuple[bytes, ...] = ()
    sizes: tuple[int, ...] = ()
    facts: FileFacts | None = None
    cached: bool = False
    future: Future[list[_worker.Chunked]] | None = None
    index: int = 0
    skipped: bool = False
    changed: bool = False


@dataclass(slots=True)
class _Batch:
    files: list[_File] = field(default_factory=list)
    claims: dict[int, list[bytes]] = field(default_factory=dict)  # position → ids it sends


class Pipeline:
    """Backs up files (``back_up_files``) or streams (``back_up_streams``) of one item."""

    def __init__(
        self,
        storage: StorageParameters,
        uploader: Uploader,
        *,
        extensions: Sequence[str],
        progress: ProgressSink,
        warn: Warn,
        cancel: threading.Event | None = None,
        workers: int | None = None,
        pack_bytes: int = DEFAULT_PACK_BYTES,
        batch_files: int = 2_000,
        batch_bytes: int = 32 << 20,
        task_files: int = 64,
        task_bytes: int = 4 << 20,
        racy_ns: int = RACY_SECONDS * 1_000_000_000,
    ) -> None:
        self._storage = storage
        self._params = ChunkingParams(
            storage.chunk_min_bytes, storage.chunk_avg_bytes, storage.chunk_max_bytes
        )
        self._uploader = uploader
        self._extensions = tuple(extensions)
        self._progress = progress
        self._warn = warn
        self._cancel = cancel or threading.Event()
        self._workers = workers or default_workers()
        self._batch_files = batch_files
        self._batch_bytes = batch_bytes
        self._task_files = task_files
        self._task_bytes = task_bytes
        self._racy_ns = racy_ns
        self.stats = Stats()
        self._packer = Packer(
            uploader, min(pack_bytes, storage.max_pack_bytes), self.stats, progress
        )
        self._pool: ProcessPoolExecutor | None = None
        self._inline = False
        self._window = self._workers + 1
        self._started_ns = time.time_ns()

    # Public -------------------------------------------------------------------------------

    def back_up_files(
        self, found: Iterable[FoundFile], spool: EntrySpool, cache: FilesCache | None
    ) -> None:
        """Every found file into ``spool`` (in order), its missing chunks sent."""
        batches = self._submitted_batches(iter(found), cache)
        current = next(batches, None)
        while current is not None:
            following = next(batches, None)
            self._finish_batch(current, spool, cache)
            current = following
        self._packer.flush()

    def back_up_streams(self, files: Iterable[StreamedFile], spool: EntrySpool) -> None:
        """Each streamed file (a dump's) into ``spool``, each read to its end before the next
        is asked for (a dump's files come out of one tool, one after another). A dump has a
        few files, so their entries are sorted in memory."""
        entries = []
        for streamed in files:
            self._check_cancel()
            compress = not has_extension(streamed.path, self._extensions)
            ids, sizes = self._stream(streamed.stream, compress)
            size = sum(sizes)
            self._progress.planned(1, size)
            entries.append(
                Entry(streamed.path, streamed.mode, size, ms_of(streamed.modified_utc), _ids(ids))
            )
            self._count_done(size)
        self._packer.flush()
        spool.extend(sort_entries(entries))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # Phase 1: walk, cache, chunk + hash -------------------------------------------------

    def _submitted_batches(
        self, found: Iterator[FoundFile], cache: FilesCache | None
    ) -> Iterator[_Batch]:
        while True:
            batch = _Batch()
            group: list[_File] = []
            group_bytes = 0
            batch_bytes = 0
            for each in found:
                self._check_cancel()
                self._progress.planned(1, each.size)
                item = self._prepared(each, cache)
                batch.files.append(item)
                if not item.cached and each.link_target is None and each.size:
                    group.append(item)
                    group_bytes += each.size
                    batch_bytes += each.size
                    if len(group) >= self._task_files or group_bytes >= self._task_bytes:
                        self._submit_chunking(group)
                        group, group_bytes = [], 0
                if len(batch.files) >= self._batch_files or batch_bytes >= self._batch_bytes:
                    break
            if group:
                self._submit_chunking(group)
            if not batch.files:
                return
            yield batch

    def _prepared(self, found: FoundFile, cache: FilesCache | None) -> _File:
        facts = FileFacts(found.size, found.mtime_ns, found.inode, found.ctime_ns)
        item = _File(found, facts=facts)
        if found.link_target is not None:
            item.chunk_ids, item.sizes = self._chunk_bytes(found.link_target)
        elif cache is not None and found.size:
            hit = cache.lookup(found.path, facts)
            if hit is not None:
                item.chunk_ids, item.sizes, item.cached = hit.chunk_ids, hit.sizes, True
        return item

    def _submit_chunking(self, group: list[_File]) -> None:
        paths = [item.found.full_path for item in group]
        future = self._submit(_worker.chunk_files, self._params, self._storage.id_key, paths)
        for index, item in enumerate(group):
            item.future, item.index = future, index

    def _chunk_bytes(self, data: bytes) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
        chunker = Chunker(self._params)
        key = self._storage.id_key
        chunks = [bytes(chunk) for chunk in chunker.chunks_of_bytes(data)]
        return tuple(blake3(c, key=key).digest() for c in chunks), tuple(len(c) for c in chunks)

    # Phase 2: missing, pieces, packs ----------------------------------------------------

    def _finish_batch(self, batch: _Batch, spool: EntrySpool, cache: FilesCache | None) -> None:
        for item in batch.files:
            self._collect_chunking(item)
        missing = self._missing(
            [chunk_id for item in batch.files if not item.skipped for chunk_id in item.chunk_ids]
        )
        tasks = self._piece_tasks(batch, missing)
        results = self._ordered_results(tasks)
        failed: set[int] = set()
        lost: set[bytes] = set()  # chunks a failed file was to send for later files too
        pending = next(results, None)
        for position, item in enumerate(batch.files):
            self._check_cancel()
            while pending is not None and pending[0] == position:
                pieces = pending[1]
                if pieces is None:
                    failed.add(position)
                elif position not in failed:
                    for chunk_id, codec, piece in pieces:
                        self._packer.add(chunk_id, codec, piece)
                pending = next(results, None)
            if position in failed:
                self._reread(item)
                lost.update(i for i in batch.claims.get(position, ()) if i not in self._packer.sent)
            elif lost and not lost.isdisjoint(item.chunk_ids):
                self._reread(item, changed=False)  # sends what the failed file did not
            if not item.skipped:
                self._record(item, spool, cache)

    def _collect_chunking(self, item: _File) -> None:
        if item.future is None:
            return
        result = item.future.result()[item.index]
        item.future = None
        if result.error is not None or result.facts is None:
            self._warn(f"{item.found.path}: not backed up: {result.error}")
            item.skipped = True
            return
        self.stats.files_read += 1
        item.chunk_ids = _ids(result.chunk_ids)
        item.sizes = result.sizes
        item.facts = FileFacts(*result.facts)
        if result.changed:
            item.changed = True
            self._warn(f"{item.found.path}: changed while it was read; backed up as read")

    def _missing(self, chunk_ids: list[bytes]) -> set[bytes]:
        wanted = [i for i in dict.fromkeys(chunk_ids) if i not in self._packer.sent]
        missing: set[bytes] = set()
        for start in range(0, len(wanted), MISSING_BATCH_IDS):
            missing.update(self._uploader.missing(wanted[start : start + MISSING_BATCH_IDS]))
        self.stats.chunks += len(wanted)
        self.stats.missing_chunks += len(missing)
        return missing

    def _piece_tasks(self, batch: _Batch, missing: set[bytes]) -> Iterator[_Task]:
        """Tasks making the missing chunks' pieces (each chunk once), in file order; small
        files share a task, a large file's ranges are split over several."""
        claimed: set[bytes] = set()
        files: list[tuple[str, list[tuple[int, int, bytes]], bool]] = []
        positions: list[int] = []
        task_bytes = 0
        for position, item in enumerate(batch.files):
            ranges = [] if item.skipped else self._wanted(item, missing, claimed)
            if not ranges:
                continue
            batch.claims[position] = [chunk_id for _, _, chunk_id in ranges]
            compress = not has_extension(item.found.path, self._extensions)
            if item.found.link_target is not None:
                if files:  # results must come in file order
                    yield positions, self._piece_submitter(files)
                    files, positions, task_bytes = [], [], 0
                yield [position], _done([_link_pieces(item.found.link_target, ranges, compress)])
                continue
            for group in _grouped(ranges, self._task_bytes):
                files.append((item.found.full_path, group, compress))
                positions.append(position)
                task_bytes += sum(size for _, size, _ in group)
                if task_bytes >= self._task_bytes or len(files) >= self._task_files:
                    yield positions, self._piece_submitter(files)
                    files, positions, task_bytes = [], [], 0
        if files:
            yield positions, self._piece_submitter(files)

    @staticmethod
    def _wanted(
        item: _File, missing: set[bytes], claimed: set[bytes]
    ) -> list[tuple[int, int, bytes]]:
        ranges = []
        offset = 0
        for chunk_id, size in zip(item.chunk_ids, item.sizes, strict=True):
            if chunk_id in missing and chunk_id not in claimed:
                claimed.add(chunk_id)
                ranges.append((offset, size, chunk_id))
            offset += size
        return ranges

    def _piece_submitter(
        self, files: list[tuple[str, list[tuple[int, int, bytes]], bool]]
    ) -> Callable[[], Future[list[list[_worker.Piece] | None]]]:
        key = self._storage.id_key
        return lambda: self._submit(_worker.pieces_of_files, key, files)

    def _ordered_results(
        self, tasks: Iterator[_Task]
    ) -> Iterator[tuple[int, list[_worker.Piece] | None]]:
        """Each file's pieces in file order, with at most ``window`` tasks in flight."""
        flight: deque[tuple[list[int], Future[list[list[_worker.Piece] | None]]]] = deque()
        for positions, submit in tasks:
            flight.append((positions, submit()))
            if len(flight) >= self._window:
                done_positions, future = flight.popleft()
                yield from zip(done_positions, future.result(), strict=True)
        while flight:
            done_positions, future = flight.popleft()
            yield from zip(done_positions, future.result(), strict=True)

    def _reread(self, item: _File, *, changed: bool = True) -> None:
        """Read a file once more, here, as it is: its bytes changed since its chunking
        (``changed``), or a chunk it shares with such a file was not sent."""
        compress = not has_extension(item.found.path, self._extensions)
        try:
            fd = _worker.open_regular(item.found.full_path)
            with os.fdopen(fd, "rb", buffering=0) as raw:
                ids, sizes = self._stream(raw, compress)
                info = os.fstat(raw.fileno())
        except OSError as error:
            self._warn(f"{item.found.path}: not backed up: {_worker.describe(error)}")
            item.skipped = True
            return
        item.chunk_ids, item.sizes = ids, sizes
        item.facts = FileFacts(sum(sizes), info.st_mtime_ns, info.st_ino, info.st_ctime_ns)
        if changed and not item.changed:
            self._warn(f"{item.found.path}: changed while it was read; backed up as read")
        item.changed = item.changed or changed

    def _record(self, item: _File, spool: EntrySpool, cache: FilesCache | None) -> None:
        found, facts = item.found, item.facts
        assert facts is not None
        size = sum(item.sizes)
        spool.add(
            Entry(found.path, found.mode, size, clamped_ms(facts.mtime_ns), _ids(item.chunk_ids))
        )
        if (
            cache is not None
            and found.link_target is None
            and size
            and not item.changed
            and facts.mtime_ns < self._started_ns - self._racy_ns
        ):
            cache.record(found.path, facts, item.chunk_ids, item.sizes)
        self._count_done(size)

    # Streams (dumps, and files read again) ----------------------------------------------

    def _stream(
        self, stream: BinaryIO | io.RawIOBase, compress: bool
    ) -> tuple[tuple[bytes, ...], tuple[int, ...]]:
        """Chunk, hash and send what ``stream`` yields, a window of chunks at a time."""
        chunker = Chunker(self._params)
        key = self._storage.id_key
        ids: list[bytes] = []
        sizes: list[int] = []
        window: list[tuple[bytes, bytes]] = []
        window_bytes = 0
        for chunk in chunker.chunks_of_stream(stream):  # type: ignore[arg-type]
            chunk_id = blake3(chunk, key=key).digest()
            ids.append(chunk_id)
            sizes.append(len(chunk))
            window.append((chunk_id, chunk))
            window_bytes += len(chunk)
            if window_bytes >= self._task_bytes * 4:
                self._send_window(window, compress)
                window, window_bytes = [], 0
                self._check_cancel()
        self._send_window(window, compress)
        return tuple(ids), tuple(sizes)

    def _send_window(self, window: list[tuple[bytes, bytes]], compress: bool) -> None:
        if not window:
            return
        missing = self._missing([chunk_id for chunk_id, _ in window])
        for chunk_id, chunk in window:
            if chunk_id in missing and chunk_id not in self._packer.sent:
                piece = make_piece(chunk, compress)
                self._packer.add(chunk_id, int(piece.codec), piece.data)

    # Plumbing ---------------------------------------------------------------------------

    def _submit(self, function: Callable[..., _R], *args: Any) -> Future[_R]:
        """``function(*args)`` in a worker process; in this one when there is one core or no
        process can be started (a sandbox, a locked-down service account)."""
        if self._workers > 1 and not self._inline:
            try:
                if self._pool is None:
                    self._pool = ProcessPoolExecutor(self._workers, mp_context=_context())
                return self._pool.submit(function, *args)
            except (OSError, BrokenProcessPool) as error:
                if self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                self._inline = True
                self._warn(f"worker processes cannot start ({error}); working in one process")
        future: Future[_R] = Future()
        future.set_result(function(*args))
        return future

    def _count_done(self, size: int) -> None:
        self.stats.files += 1
        self.stats.bytes += size
        self._progress.done(1, size)

    def _check_cancel(self) -> None:
        if self._cancel.is_set():
            raise Cancelled("the run was cancelled")


def _context() -> multiprocessing.context.BaseContext:
    # Not fork: the agent has threads (check-in, progress), and a child forked while one of
    # them holds a lock deadlocks. forkserver forks from a clean single-threaded process.
    if sys.platform.startswith("linux"):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["cleverfox.agent.backup._worker"])
        return context
    return multiprocessing.get_context("spawn")


def _ids(raw: bytes | Sequence[bytes]) -> tuple[ChunkId, ...]:
    if isinstance(raw, bytes):
        return tuple(ChunkId(raw[i : i + 32]) for i in range(0, len(raw), 32))
    return tuple(ChunkId(bytes(i)) for i in raw)


def _grouped(
    ranges: list[tuple[int, int, bytes]], limit: int
) -> Iterator[list[tuple[int, int, bytes]]]:
    group: list[tuple[int, int, bytes]] = []
    total = 0
    for each in ranges:
        group.append(each)
        total += each[1]
        if total >= limit:
            yield group
            group, total = [], 0
    if group:
        yield group


def _link_pieces(
    target: bytes, ranges: list[tuple[int, int, bytes]], compress: bool
) -> list[_worker.Piece]:
    pieces = []
    for offset, size, chunk_id in ranges:
        piece = make_piece(target[offset : offset + size], compress)
        pieces.append((chunk_id, int(piece.codec), piece.data))
    return pieces


def _done(
    pieces: list[list[_worker.Piece] | None],
) -> Callable[[], Future[list[list[_worker.Piece] | None]]]:
    def submit() -> Future[list[list[_worker.Piece] | None]]:
        future: Future[list[list[_worker.Piece] | None]] = Future()
        future.set_result(pieces)
        return future

    return submit
