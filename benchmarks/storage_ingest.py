"""Pack ingest: what verifying, sealing and writing a pack costs next to only writing it.

``python -m benchmarks.storage_ingest [--mib 256] [--pack-mib 32] [--rounds 3] [--dir DIR]``

The bodies are made first, as an agent would send them (1 MiB-average chunks from the
production FastCDC parameters, half compressible text, half random bytes; pieces made with
``make_piece``). Then, single-threaded (one core), each round times:

- **ingest**: per pack body, ``parse_records`` + ``verify_records`` (inflate, size limit,
  keyed BLAKE3 back to the id), ``PackWriter.add`` (AES-256-GCM) + ``finish``, and
  ``LocalBackend.put`` (temp file, fsync, link, directory fsync) — the server's path for
  ``PUT /api/agent/packs`` without HTTP and SQL;
- **write only**: ``LocalBackend.put`` of the same bodies' bytes.

Reported: MiB/s of body bytes for each, by wall time (what a client sees: the fsyncs'
waits count) and by CPU time of this process (what the work costs a core: less moved by
other load on a shared machine), and the ratios ingest / write-only (issue 10's target: at
least 0.5, read on the wall-time ratio). Results and the command are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.chunking import DEFAULT_CHUNKING, Chunker
from cleverfox.storage.ids import chunk_id
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.pieces import make_piece
from cleverfox.storage.records import encode_records, parse_records, verify_records
from cleverfox.storage.sealing import CompanyKeys, CompanySealer

MIB = 1 << 20
WORDS = b"backup server chunk pack seal verify deflate index manifest archive log ".split()


def corpus(total: int, seed: int = 10) -> bytes:
    """Half text-like (compresses about 3:1), half random, interleaved in 4 MiB runs."""
    rng = random.Random(seed)
    parts: list[bytes] = []
    size = 0
    while size < total:
        if len(parts) % 2:
            part = rng.randbytes(4 * MIB)
        else:
            part = b" ".join(rng.choice(WORDS) for _ in range(600_000))[: 4 * MIB]
        parts.append(part)
        size += len(part)
    return b"".join(parts)[:total]


def bodies(keys: CompanyKeys, data: bytes, pack_bytes: int) -> list[bytes]:
    """The upload bodies an agent would send for ``data``, about ``pack_bytes`` each."""
    made, current, size = [], [], 0
    for chunk in Chunker(DEFAULT_CHUNKING).chunks_of_bytes(data):
        piece = make_piece(chunk, True)
        current.append((chunk_id(keys.id_key, chunk), int(piece.codec), piece.data))
        size += len(piece.data)
        if size >= pack_bytes:
            made.append(encode_records(current))
            current, size = [], 0
    if current:
        made.append(encode_records(current))
    return made


def ingest(keys: CompanyKeys, backend: LocalBackend, body: bytes) -> None:
    sealer = CompanySealer(keys.data_key, 1)
    writer = PackWriter(sealer, new_pack_name(1))
    for record in verify_records(parse_records(body), keys.id_key, DEFAULT_CHUNKING.max_bytes):
        writer.add(record.chunk_id, record.facts, record.piece)
    pack = writer.finish()
    backend.put(pack.name, pack.data)


def write_only(backend: LocalBackend, body: bytes) -> None:
    backend.put(new_pack_name(1), body)


def timed(work: Callable[[bytes], None], items: list[bytes]) -> tuple[float, float]:
    """Wall and CPU seconds of this process to do ``work`` on every item."""
    wall, cpu = time.perf_counter(), time.process_time()
    for item in items:
        work(item)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=256, help="data ingested per round")
    parser.add_argument("--pack-mib", type=int, default=32, help="bytes per upload body")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where packs are written")
    options = parser.parse_args()
    keys = CompanyKeys.generate()
    made = bodies(keys, corpus(options.mib * MIB), options.pack_mib * MIB)
    body_mib = sum(len(b) for b in made) / MIB
    print(f"{len(made)} bodies, {body_mib:.0f} MiB of pieces ({options.mib} MiB of data)")
    with tempfile.TemporaryDirectory(dir=options.dir) as root:
        rates: list[tuple[float, float, float, float]] = []
        for number in range(options.rounds):
            backend = LocalBackend(Path(root) / f"round{number}")
            full = timed(partial(ingest, keys, backend), made)
            plain = timed(partial(write_only, backend), made)
            rates.append(
                (body_mib / full[0], body_mib / plain[0], body_mib / full[1], body_mib / plain[1])
            )
            print(f"round {number + 1}: " + _line(rates[-1]))
        medians = tuple(sorted(r[i] for r in rates)[len(rates) // 2] for i in range(4))
        print(f"median ({os.cpu_count()} cpus): " + _line(medians) + " (target: wall ratio >= 0.5)")


def _line(rates: tuple[float, ...]) -> str:
    wall_in, wall_out, cpu_in, cpu_out = rates
    return (
        f"wall: ingest {wall_in:.1f} MiB/s, write only {wall_out:.1f} MiB/s, "
        f"ratio {wall_in / wall_out:.2f}; cpu: ingest {cpu_in:.1f} MiB/s per core, "
        f"write only {cpu_out:.1f}, ratio {cpu_in / cpu_out:.2f}"
    )


if __name__ == "__main__":
    main()
