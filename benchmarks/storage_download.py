"""Downloads (issue 10): a ~1 GiB backup file through HTTPS against ``cat`` of its packs.

A real server (the production runner, SQLite) serves a backup file committed the way the
upload endpoints commit it — files chunked with the real parameters (FastCDC, 1 MiB
average), pieces sealed into 64 MiB packs in the server's storage directory, indexed, the
sealed manifest written and its row inserted. Half the bytes are random (a NoCompress
extension: stored in the ZIP), half compressible text (deflated pieces, spliced into the
ZIP as they are). Measured:

- the ZIP downloaded through the download call's signed URL over HTTPS (httpx, streamed to
  nowhere), its wall time and throughput, against ``cat`` of the same packs (the floor: the
  bytes read from disk once, no decryption, no TLS);
- the server's resident memory before and its peak (``VmHWM``) after, to show that memory
  does not grow with the file.

``python -m benchmarks.storage_download [--mib 1024]`` runs it alone and prints the
section; ``make bench`` runs it as the ``downloads`` suite. Files are generated, written and
removed in a temporary data directory; the benchmark process holds one 64 MiB file at a
time.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.measure import Options
from benchmarks.servers import UVICORN, Partner, RunningServer, new_partner, running, sqlite_engine
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import load_or_create_secret
from cleverfox.server.models import LogItem, StorageManifest
from cleverfox.server.storage.index import SqlChunkIndex
from cleverfox.server.storage.keys import keys_for
from cleverfox.storage.backends.local import LocalBackend
from cleverfox.storage.chunking import Chunker
from cleverfox.storage.ids import chunk_id
from cleverfox.storage.index import facts_of
from cleverfox.storage.manifest import Entry, digest, sort_entries
from cleverfox.storage.manifest_stream import ManifestHeader, ManifestWriter
from cleverfox.storage.packs import PackWriter, new_pack_name
from cleverfox.storage.pieces import make_piece
from cleverfox.storage.resolution import Resolver, resolve_entries
from cleverfox.storage.sealing import CompanySealer

FILE_MIB = 64
PACK_BYTES = 64 << 20
DEFAULT_MIB = 1280
SMALL_MIB = 128
NO_COMPRESS = ".bin"
LARGE_PLAN = 3
WORDS = [b"backup", b"chunk", b"restore", b"storage", b"deflate", b"manifest", b"pack", b"zip"]


@dataclass(frozen=True)
class Stored:
    """The committed backup file: its Log Item, archive size and pack names."""

    log_item_id: int
    archive_size: int
    packs: list[str]


def run(options: Options, mib: int = DEFAULT_MIB) -> str:
    """The suite's Markdown section (``benchmarks.run``): a ``SMALL_MIB`` download first,
    then the ``mib`` one, the server's peak memory read after each."""
    del options  # one download is measured, not a load: the shared options do not apply
    with sqlite_engine() as engine, running(UVICORN, engine) as server:
        partner = new_partner(engine)
        with _client(server, partner) as client:
            small = commit_backup(server, partner, client, SMALL_MIB)
            stored = commit_backup(server, partner, client, mib)
            before = _memory(server.process.pid)
            download(client, small.log_item_id, server)
            after_small = _memory(server.process.pid)
            started = time.monotonic()
            received = download(client, stored.log_item_id, server)
            download_seconds = time.monotonic() - started
            after = _memory(server.process.pid)
        packs = [engine.data_dir / "storage" / name for name in stored.packs]
        cat_seconds = _cat(packs)
        pack_bytes = sum(path.stat().st_size for path in packs)
    if received != stored.archive_size:
        raise RuntimeError(f"downloaded {received} bytes of {stored.archive_size}")
    memory = (before, after_small, after)
    return _report(mib, stored, small, pack_bytes, download_seconds, cat_seconds, memory)


def commit_backup(
    server: RunningServer, partner: Partner, client: httpx.Client, mib: int
) -> Stored:
    """A Completed run whose backup file holds ``mib`` MiB in ``FILE_MIB`` MiB files."""
    device, job, log, item_id = _run(client, partner.company_id)
    settings = server.engine.settings
    backend = LocalBackend(settings.data_dir / "storage")
    secret = load_or_create_secret(settings.secret_key_path)
    db = Database(settings.resolved_database_url, pool_size=1)
    company = partner.company_id
    try:
        with db.writing() as session:
            keys = keys_for(session, secret, company)
        sealer = CompanySealer(keys.data_key, company)
        entries: list[Entry] = []
        packs: list[str] = []
        writer = PackWriter(sealer, new_pack_name(company))
        chunker = Chunker()
        for number, content in enumerate(_files(mib)):
            path = f"data/file-{number:03d}{NO_COMPRESS if number % 4 else '.txt'}"
            ids = []
            for chunk in chunker.chunks_of_bytes(content):
                cid = chunk_id(keys.id_key, chunk)
                piece = make_piece(chunk, not path.endswith(NO_COMPRESS))
                writer.add(cid, facts_of(piece.codec, len(piece.data), chunk), piece.data)
                ids.append(cid)
                if writer.size >= PACK_BYTES:
                    packs.append(_store_pack(db, backend, company, writer))
                    writer = PackWriter(sealer, new_pack_name(company))
            entries.append(
                Entry(path, stat.S_IFREG | 0o644, len(content), 1_700_000_000_000, tuple(ids))
            )
        if len(writer):
            packs.append(_store_pack(db, backend, company, writer))
        archive_size = _store_manifest(db, backend, sealer, entries, device, job, log, item_id)
    finally:
        db.dispose()
    return Stored(item_id, archive_size, packs)


def download(client: httpx.Client, item_id: int, server: RunningServer) -> int:
    """Bytes of the ZIP received through the download call's URL."""
    offered = client.get(f"/api/logitems/{item_id}/downloadbackupfile")
    offered.raise_for_status()
    url = offered.json()["data"]["Url"]
    received = 0
    # Loopback to the server's self-signed certificate: nothing to verify against.
    anonymous = httpx.Client(verify=False, timeout=120)  # noqa: S501
    with anonymous, anonymous.stream("GET", url) as response:
        response.raise_for_status()
        for part in response.iter_raw(1 << 20):
            received += len(part)
    return received


def _client(server: RunningServer, partner: Partner) -> httpx.Client:
    auth = (partner.api_key, "")
    return httpx.Client(base_url=server.url, auth=auth, verify=False, timeout=60)  # noqa: S501


def _created(response: httpx.Response) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    data: dict[str, Any] = response.json()["data"]
    return data


def _run(
    client: httpx.Client, company_id: int
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], int]:
    """A device, job and job item made through the API, and a finished run of them."""
    sub = _created(
        client.post("/api/subscriptions", json={"CompanyId": company_id, "PlanId": LARGE_PLAN})
    )
    device = _created(
        client.post(
            "/api/devices",
            json={
                "CompanyId": company_id,
                "SubscriptionId": sub["SubscriptionId"],
                "Name": "Bench",
                "TimeZoneId": "UTC",
            },
        )
    )
    job = _created(
        client.post(
            "/api/jobs",
            json={
                "DeviceId": device["DeviceId"],
                "Name": "Bench",
                "Frequency": "Daily",
                "NextRunOn": "2030-01-01T00:00:00",
                "LateAfter": 60,
                "Every": 1,
                "CloudKeepLast": 7,
                "LocalKeepLast": 1,
            },
        )
    )
    item = _created(
        client.post(
            "/api/jobitems",
            json={
                "JobId": job["JobId"],
                "Name": "Data",
                "BackupTypeId": 1,
                "BaseFolder": "/data",
                "SearchPatterns": "*.*",
                "NoCompressExtensions": NO_COMPRESS,
            },
        )
    )
    agent = httpx.Client(
        base_url=str(client.base_url),
        auth=(device["ApiKey"], ""),
        verify=False,  # noqa: S501
        timeout=60,
    )
    with agent:
        log = _created(agent.post("/api/agent/logs", json={"JobId": job["JobId"]}))
        finish = {
            "JobStatus": "Completed",
            "LogItems": [{"JobItemId": item["JobItemId"], "BackupFileName": "bench.zip"}],
        }
        done = _created(agent.put(f"/api/agent/logs/{log['LogId']}", json=finish))
    return device, job, log, done["LogItems"][0]["LogItemId"]


def _files(mib: int) -> Iterator[bytes]:
    """``mib`` MiB of content in files of ``FILE_MIB`` MiB: three random, then one text."""
    generator = random.Random(10)
    for number in range(max(1, mib // FILE_MIB)):
        size = FILE_MIB << 20
        if number % 4:
            yield os.urandom(size)
            continue
        words = b" ".join(generator.choice(WORDS) for _ in range(4096)) + b"\n"
        yield (words * (size // len(words) + 1))[:size]


def _store_pack(db: Database, backend: LocalBackend, company: int, writer: PackWriter) -> str:
    """Write the pack (data), then index it (one transaction): the commit order."""
    pack = writer.finish()
    backend.put(pack.name, pack.data)
    with db.writing() as session:
        SqlChunkIndex(session, company).add_pack(pack.name, pack.entries)
    return pack.name


def _store_manifest(
    db: Database,
    backend: LocalBackend,
    sealer: CompanySealer,
    entries: list[Entry],
    device: dict[str, Any],
    job: dict[str, Any],
    log: dict[str, Any],
    item_id: int,
) -> int:
    """Resolve and seal the manifest, write it, then its row: the commit point."""
    company = device["CompanyId"]
    extensions = (NO_COMPRESS,)
    ordered = sort_entries(entries)
    header = ManifestHeader(digest(ordered, "UTC", extensions), "UTC", extensions)
    out = io.BytesIO()
    writer = ManifestWriter(sealer, header, out.write)
    resolver = Resolver("UTC", extensions)
    with db.writing() as session:
        index = SqlChunkIndex(session, company)
        for resolved in resolve_entries(resolver, ordered, index.facts):
            writer.add(resolved)
        totals = resolver.totals()
        archive_digest = writer.finish(totals)
        blob_name = f"manifests/{company}/{secrets.token_hex(16)}"
        backend.put(blob_name, out.getvalue())
        session.add(
            StorageManifest(
                company_id=company,
                device_id=device["DeviceId"],
                job_id=job["JobId"],
                log_id=log["LogId"],
                log_item_id=item_id,
                blob_name=blob_name,
                digest=header.digest,
                archive_digest=archive_digest,
                archive_size=totals.archive_size,
                list_size=totals.list_size,
                entry_count=totals.entry_count,
                plain_bytes=totals.logical_bytes,
                stored_bytes=0,
                chunk_count=0,
            )
        )
        session.get_one(LogItem, item_id).backup_file_size = totals.archive_size
    return totals.archive_size


def _cat(packs: list[Path]) -> float:
    started = time.monotonic()
    subprocess.run(["cat", *map(str, packs)], stdout=subprocess.DEVNULL, check=True)  # noqa: S603, S607
    return time.monotonic() - started


def _memory(pid: int) -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of the server process, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) * 1024
    return fields["VmRSS"], fields["VmHWM"]


def _report(
    mib: int,
    stored: Stored,
    small: Stored,
    pack_bytes: int,
    download_seconds: float,
    cat_seconds: float,
    memory: tuple[tuple[int, int], ...],
) -> str:
    mb = 1 << 20
    files = max(1, mib // FILE_MIB)
    zip_rate = stored.archive_size / mb / download_seconds
    cat_rate = pack_bytes / mb / cat_seconds
    (rss, peak), (_, peak_small), (_, peak_large) = memory
    rows = [
        "| measure | value |",
        "|---|---|",
        f"| content | {mib} MiB in {files} files (3 in 4 random: stored; 1 in 4 text: deflated) |",
        f"| ZIP size (Content-Length) | {stored.archive_size / mb:,.0f} MiB |",
        f"| packs | {len(stored.packs)}, {pack_bytes / mb:,.0f} MiB |",
        f"| download over HTTPS | {download_seconds:.2f} s, {zip_rate:,.0f} MiB/s |",
        f"| `cat` of the packs | {cat_seconds:.2f} s, {cat_rate:,.0f} MiB/s |",
        f"| download / cat (time) | {download_seconds / cat_seconds:.1f}x |",
        f"| server RSS before any download (peak so far) | {rss / mb:,.0f} MiB "
        f"({peak / mb:,.0f}) |",
        f"| server peak RSS after a {small.archive_size / mb:,.0f} MiB download | "
        f"{peak_small / mb:,.0f} MiB ({(peak_small - peak) / mb:+,.0f}) |",
        f"| server peak RSS after the {stored.archive_size / mb:,.0f} MiB download | "
        f"{peak_large / mb:,.0f} MiB ({(peak_large - peak) / mb:+,.0f}) |",
    ]
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mib", type=int, default=DEFAULT_MIB, help="content size (MiB)")
    args = parser.parse_args()
    options: Any = None
    print(run(options, args.mib))


if __name__ == "__main__":
    main()
