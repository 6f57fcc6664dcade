"""The pipeline's edges on real files: codecs, changing and vanishing files, cancel, dumps."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cleverfox.agent.backup import _worker, back_up_item
from cleverfox.agent.backup.files_cache import FilesCache
from cleverfox.agent.backup.local_store import LocalStore
from cleverfox.agent.backup.patterns import rules_of
from cleverfox.agent.backup.pipeline import Pipeline
from cleverfox.agent.backup.restore import restore
from cleverfox.agent.backup.spool import EntrySpool
from cleverfox.agent.backup.walk import FoundFile, walk
from cleverfox.agent.model import StreamedFile
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.pieces import Codec
from tests.agent.backup.support import STORAGE, Counting, Progress, context, make_tree, tree_of

AS_ROOT = hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0


def text(size: int) -> bytes:
    return b"".join(b"line %d of a compressible text\n" % i for i in range(size // 30))[:size]


def test_no_compress_extensions_are_sent_plain_the_rest_deflated(tmp_path: Path) -> None:
    base = tmp_path / "source"
    # Different texts: a chunk shared by both would be sent once, in the first file's codec.
    make_tree(base, {"photo.JPG": text(50_000), "notes.txt": text(50_000).upper()})
    store = LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key)
    uploader = Counting(store)
    ctx = context(tmp_path, base, uploader=uploader, item={"NoCompressExtensions": "*.jpg"})
    assert back_up_item(ctx).ok
    entries = {e.path: e for e in uploader.commits[0]}
    photo = store.facts([ChunkId(i) for i in entries["photo.JPG"].chunk_ids])
    notes = store.facts([ChunkId(i) for i in entries["notes.txt"].chunk_ids])
    assert {f.codec for f in photo.values()} == {Codec.PLAIN}
    assert {f.codec for f in notes.values()} == {Codec.DEFLATE}


def test_a_file_that_keeps_changing_is_backed_up_as_read_with_a_warning(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {"growing.log": text(3_000_000), "steady.txt": b"steady"})
    stop = threading.Event()

    def append() -> None:
        with open(base / "growing.log", "ab", buffering=0) as out:
            while not stop.is_set():
                out.write(b"more lines\n" * 8)
                time.sleep(0.0002)

    writer = threading.Thread(target=append)
    writer.start()
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    try:
        result = back_up_item(context(tmp_path, base, uploader=uploader))
    finally:
        stop.set()
        writer.join()
    assert result.ok, result.errors
    assert result.warnings == ["growing.log: changed while it was read; backed up as read"]
    restored = tmp_path / "restored"
    restore(uploader, 1001, restored, id_key=STORAGE.id_key)
    read = (restored / "growing.log").read_bytes()
    assert len(read) >= 3_000_000
    assert (base / "growing.log").read_bytes().startswith(read)
    # A changing file is not cached: the next run reads it again.
    assert back_up_item(context(tmp_path, base, uploader=uploader, log_id=2)).warnings == []


def test_a_file_that_vanishes_after_the_walk_is_a_warning(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {"a.txt": b"a", "gone.txt": b"soon gone", "z.txt": b"z"})
    store = LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key)
    warnings: list[str] = []

    def vanishing() -> Iterator[FoundFile]:
        for found in walk(
            str(base), rules_of({}, str(base)), include_subfolders=True, warn=warnings.append
        ):
            if found.path == "gone.txt":
                (base / "gone.txt").unlink()
            yield found

    with (
        EntrySpool(tmp_path) as spool,
        Pipeline(
            STORAGE, store, extensions=(), progress=Progress(), warn=warnings.append
        ) as pipeline,
    ):
        pipeline.back_up_files(vanishing(), spool, None)
        assert [e.path for e in spool.entries()] == ["a.txt", "z.txt"]
    assert warnings == ["gone.txt: not backed up: it vanished"]


@pytest.mark.skipif(AS_ROOT, reason="root reads every file")
def test_an_unreadable_file_is_a_warning(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {"locked.txt": b"secret", "open.txt": b"open"})
    (base / "locked.txt").chmod(0)
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    result = back_up_item(context(tmp_path, base, uploader=uploader))
    assert result.ok
    # (Where no worker process can start, a warning says so too.)
    assert "locked.txt: not backed up: permission denied" in result.warnings
    assert all(w.startswith(("locked.txt", "worker processes")) for w in result.warnings)
    assert [e.path for e in uploader.commits[0]] == ["open.txt"]


def test_a_cancelled_run_fails_the_item_and_keeps_the_old_cache(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {f"f{i}": text(5000 + i) for i in range(20)})
    uploader = Counting(LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key))
    ctx = context(tmp_path, base, uploader=uploader)
    ctx.cancel.set()
    result = back_up_item(ctx)
    assert not result.ok
    assert result.errors == ["the run was cancelled"]
    assert uploader.commits == []


def test_chunks_storage_lost_are_read_and_sent_again(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {"a.txt": text(40_000), "b.bin": bytes(range(256)) * 300})
    first = Counting(LocalStore(tmp_path / "cloud-1", id_key=STORAGE.id_key))
    assert back_up_item(context(tmp_path, base, uploader=first)).ok
    # Same files cache, but a storage that has none of the chunks (collected since).
    second = Counting(LocalStore(tmp_path / "cloud-2", id_key=STORAGE.id_key))
    result = back_up_item(context(tmp_path, base, uploader=second, log_id=2))
    assert result.ok, result.errors
    assert len(second.reported) == len(set(first.reported))
    restore(second, 1002, tmp_path / "restored", id_key=STORAGE.id_key)
    assert tree_of(tmp_path / "restored") == tree_of(base)


def test_streamed_files_of_a_dump_go_through_the_same_chunks(tmp_path: Path) -> None:
    database = sqlite3.connect(tmp_path / "app.db")
    database.execute("CREATE TABLE t (x TEXT)")
    database.executemany("INSERT INTO t VALUES (?)", [(f"row {i}" * 20,) for i in range(3000)])
    database.commit()
    copy = sqlite3.connect(tmp_path / "copy.db")
    database.backup(copy)  # the online backup API: a consistent copy of a database in use
    copy.close()
    dumped = (tmp_path / "copy.db").read_bytes()
    when = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    files = [
        StreamedFile("schema.sql", io.BytesIO(b"CREATE TABLE t (x TEXT);\n"), when),
        StreamedFile("app.db", io.BytesIO(dumped), when),
    ]
    store = LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key)
    with (
        EntrySpool(tmp_path) as spool,
        Pipeline(STORAGE, store, extensions=(), progress=Progress(), warn=print) as pipeline,
    ):
        pipeline.back_up_streams(files, spool)
        entries = list(spool.entries())
    assert [e.path for e in entries] == ["app.db", "schema.sql"]
    assert entries[0].size == len(dumped)
    plain = b"".join(piece for _, _, piece in _plain(store, entries[0].chunk_ids))
    assert plain == dumped


def _plain(store: LocalStore, ids: tuple[bytes, ...]) -> Iterator[tuple[bytes, int, bytes]]:
    from cleverfox.storage.pieces import plain_form

    for chunk_id, codec, piece in store.read_chunks(ids):
        yield chunk_id, codec, plain_form(codec, piece)


def test_an_unchanged_file_is_neither_read_nor_hashed(tmp_path: Path) -> None:
    base = tmp_path / "source"
    make_tree(base, {f"d/f{i}.txt": text(3000 + i) for i in range(40)})
    store = LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key)

    def once() -> tuple[int, int]:
        rules = rules_of({}, str(base))
        with (
            FilesCache(tmp_path / "state", 1, STORAGE) as cache,
            EntrySpool(tmp_path) as spool,
            Pipeline(STORAGE, store, extensions=(), progress=Progress(), warn=print) as pipeline,
        ):
            found = walk(str(base), rules, include_subfolders=True, warn=print)
            pipeline.back_up_files(found, spool, cache)
            cache.commit()
            return pipeline.stats.files_read, spool.count

    assert once() == (40, 40)
    assert once() == (0, 40)
    (base / "d" / "f7.txt").write_bytes(b"changed")
    assert once() == (1, 40)


def test_a_chunk_a_changed_file_was_to_send_for_a_later_one_is_still_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = tmp_path / "source"
    shared = text(20_000)
    make_tree(base, {"a.txt": shared, "b.txt": shared})
    real = _worker.pieces_of

    def changing(id_key: bytes, path: str, *args: Any) -> Any:
        if path.endswith("a.txt"):  # a.txt changes between its chunking and its pieces
            Path(path).write_bytes(b"something else entirely")
            return None
        return real(id_key, path, *args)

    monkeypatch.setattr(_worker, "pieces_of", changing)
    store = LocalStore(tmp_path / "cloud", id_key=STORAGE.id_key)
    warnings: list[str] = []
    with (
        EntrySpool(tmp_path) as spool,
        Pipeline(  # one worker: in this process, where the patch applies
            STORAGE, store, extensions=(), progress=Progress(), warn=warnings.append, workers=1
        ) as pipeline,
    ):
        found = walk(str(base), rules_of({}, str(base)), include_subfolders=True, warn=print)
        pipeline.back_up_files(found, spool, None)
        entries = list(spool.entries())
    assert warnings == ["a.txt: changed while it was read; backed up as read"]
    assert entries[0].size == len(b"something else entirely")
    assert store.missing([i for e in entries for i in e.chunk_ids]) == []
