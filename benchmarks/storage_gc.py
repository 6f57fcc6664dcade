"""GC of a large index while uploads run: how long a pass takes, and what it costs uploads.

``python -m benchmarks.storage_gc [--chunks 1000000] [--garbage 0.1] [--seconds 20]
[--database-url postgresql+psycopg://…]``

A fresh database (SQLite in a temporary folder unless ``--database-url`` names an empty
PostgreSQL database) is seeded through SQL with ``--chunks`` chunk rows of one company in
packs of 64, a ``--garbage`` share of them unreferenced for longer than the grace (spread
over every pack, so none falls below the rewrite threshold: the pass is the expiry of
100,000 rows out of 1,000,000 plus the pack survey), and tiny stand-in pack blobs in a local
backend. Then:

1. **baseline**: an uploader thread commits for ``--seconds`` as the server's write path
   does — index a pack of 16 new chunks (``SqlChunkIndex.add_pack``) and reference them,
   one transaction each — and every commit's latency is kept;
2. **during GC**: the same uploader, while a ``GarbageCollector`` pass runs to its end.

Reported: the pass's wall time and rows deleted, and the uploads' p50 / p99 in both phases
with the p99 ratio (issue 10's target: during-GC p99 within 20 % of baseline, i.e. ≤ 1.2).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, update

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.migrate import upgrade
from cleverfox.server.models import StorageChunk, StorageCompany, StoragePack
from cleverfox.server.storage.gc import GarbageCollector, GcReport
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import wrap
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.ids import ChunkId
from cleverfox.storage.index import PackEntry
from cleverfox.storage.packs import new_pack_name
from cleverfox.storage.pieces import Codec
from cleverfox.storage.sealing import CompanyKeys

COMPANY = 1
PER_PACK = 64
PIECE = 1 << 20
GRACE = timedelta(hours=24)


def seed(
    db: Database, backend: LocalBackend, secret: ServerSecret, chunks: int, garbage: float
) -> None:
    old = utcnow() - 2 * GRACE
    every = max(1, round(1 / garbage)) if garbage else 0
    with db.writing() as session:
        session.add(
            StorageCompany(company_id=COMPANY, wrapped_keys=wrap(secret, CompanyKeys.generate()))
        )
    number = 0
    while number < chunks:
        with db.writing() as session:
            packs, rows = [], []
            counts: list[int] = []
            while len(counts) < 200 and number + sum(counts) < chunks:
                counts.append(min(PER_PACK, chunks - number - sum(counts)))
            for count in counts:
                name = new_pack_name(COMPANY)
                backend.put(name, b"pack")
                packs.append(
                    {
                        "company_id": COMPANY,
                        "name": name,
                        "size_bytes": count * PIECE,
                        "chunk_count": count,
                        "added_on": old,
                    }
                )
            statement = insert(StoragePack).returning(StoragePack.id)
            ids = session.execute(statement, packs).scalars().all()
            for pack_id, count in zip(ids, counts, strict=True):
                for slot in range(count):
                    dead = bool(every) and number % every == 0
                    rows.append(
                        {
                            "company_id": COMPANY,
                            "chunk_id": os.urandom(32),
                            "pack_id": pack_id,
                            "offset": 8 + slot * PIECE,
                            "stored_length": PIECE,
                            "codec": 1,
                            "size": PIECE,
                            "crc32": 0,
                            "refs": 0 if dead else 1,
                            "unreferenced_since": old if dead else None,
                            "added_on": old,
                        }
                    )
                    number += 1
            session.execute(insert(StorageChunk), rows)
    with db.writing() as session:
        session.execute(
            update(StorageCompany)
            .where(StorageCompany.company_id == COMPANY)
            .values(chunk_count=chunks, stored_bytes=chunks * PIECE)
        )


def commit_once(db: Database) -> float:
    """One upload's database work: index a pack of 16 new chunks and reference them."""
    entries = [
        PackEntry(ChunkId(os.urandom(32)), 8 + n * PIECE, PIECE, Codec.DEFLATE, PIECE, 0)
        for n in range(16)
    ]
    start = time.perf_counter()
    with db.writing() as session:
        SqlChunkIndex(session, COMPANY).add_pack(new_pack_name(COMPANY), entries)
        session.execute(
            update(StorageChunk)
            .where(
                StorageChunk.company_id == COMPANY,
                StorageChunk.chunk_id.in_([bytes(e.chunk_id) for e in entries]),
            )
            .values(refs=StorageChunk.refs + 1, unreferenced_since=None)
        )
    return time.perf_counter() - start


def uploads_until(db: Database, stop: threading.Event, latencies: list[float]) -> None:
    while not stop.is_set():
        latencies.append(commit_once(db))
        time.sleep(0.005)  # an agent between its requests


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--garbage", type=float, default=0.1)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        url = options.database_url or f"sqlite:///{Path(root) / 'gc.db'}"
        db = Database(url, pool_size=4)
        upgrade(db.engine)
        backend = LocalBackend(Path(root) / "storage")
        secret = ServerSecret(os.urandom(32))
        started = time.perf_counter()
        seed(db, backend, secret, options.chunks, options.garbage)
        print(
            f"seeded {options.chunks} chunks on {db.engine.dialect.name} "
            f"in {time.perf_counter() - started:.0f} s"
        )
        baseline: list[float] = []
        stop = threading.Event()
        uploader = threading.Thread(target=uploads_until, args=(db, stop, baseline))
        uploader.start()
        time.sleep(options.seconds)
        stop.set()
        uploader.join()
        during: list[float] = []
        stop = threading.Event()
        uploader = threading.Thread(target=uploads_until, args=(db, stop, during))
        uploader.start()
        collector = GarbageCollector(db, backend, secret, grace=GRACE)
        started = time.perf_counter()
        report: GcReport = collector.collect(utcnow())
        took = time.perf_counter() - started
        stop.set()
        uploader.join()
        db.dispose()
    print(
        f"GC pass: {took:.1f} s, {report.chunks_deleted} chunks deleted, "
        f"{report.packs_rewritten} packs rewritten"
    )
    for name, values in (("baseline", baseline), ("during GC", during)):
        print(
            f"uploads {name}: {len(values)} commits, "
            f"p50 {statistics.median(values) * 1000:.1f} ms, "
            f"p99 {percentile(values, 0.99) * 1000:.1f} ms"
        )
    ratio = percentile(during, 0.99) / percentile(baseline, 0.99)
    print(f"p99 during GC / baseline: {ratio:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
