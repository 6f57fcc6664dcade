"""Listing 100,000 Logs through the SDK's iterator against raw httpx doing the same paging.

``python -m benchmarks.sdk_listing`` (or ``python -m benchmarks.run --suite sdk``) starts the
production server stack on SQLite, gives a partner one real company, subscription, device,
job and job item, and seeds 100,000 Logs of that job (one Log Item each) by bulk SQL insert
into the server's database. Then, from this process:

- **SDK**: ``client.logs.list(limit=N)`` — BeforeId pages of 1,000, each decoded into typed
  ``Log`` models (embedded Company, Device, Subscription, Plan, Job and Log Items; date-times
  aware in the device's zone; enums; unknown attributes kept).
- **raw httpx**: an ``httpx.Client`` asking for the same pages (``PageSize=1000``,
  ``BeforeId``) and yielding the dicts of ``response.json()["data"]``.

Both pin the same certificate and consume every object as it comes. Records/s is the best of
``--rounds`` interleaved runs of 100,000 (the rounds absorb the shared machine's noise).
Peak client memory is ``tracemalloc``'s peak while listing 10,000, 50,000 and 100,000 (a
separate pass: tracing slows Python down): flat means one page at a time is held, whatever
the count. Target (issue 4): the SDK within 20% of raw httpx.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert

from benchmarks import report
from benchmarks.servers import UVICORN, Engine, new_partner, running, sqlite_engine
from cleverfox.client import Client, Job, ssl_context
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.tls import ensure_certificate
from cleverfox.server.models import Log, LogItem

SIZES = (10_000, 50_000, 100_000)
PAGE_SIZE = 1000
SEED_BATCH = 5000
TARGET_RATIO = 0.8  # the SDK's records/s at least 80% of raw httpx's


@dataclass(frozen=True)
class Target:
    """Where to list from, as whom: the server over HTTPS (its certificate pinned), or
    ``replay``'s recorded pages in memory (``pages`` set)."""

    url: str
    api_key: str
    fingerprint: str
    pages: dict[str | None, bytes] | None = None

    def transport(self) -> httpx.BaseTransport:
        if self.pages is None:
            return httpx.HTTPTransport(verify=ssl_context(fingerprint=self.fingerprint))
        pages = self.pages

        def answer(request: httpx.Request) -> httpx.Response:
            body = pages[request.url.params.get("BeforeId")]
            return httpx.Response(200, content=body, headers={"Content-Type": JSON})

        return httpx.MockTransport(answer)


JSON = "application/json"
Listing = Callable[[Target, int], Iterator[Any]]


def sdk_listing(target: Target, count: int) -> Iterator[Any]:
    """The SDK's iterator: typed Logs, BeforeId pages of 1,000."""
    with Client(target.url, target.api_key, transport=target.transport()) as client:
        yield from client.logs.list(limit=count, page_size=PAGE_SIZE)


def raw_listing(target: Target, count: int, seen: list[bytes] | None = None) -> Iterator[Any]:
    """What a partner would write without the SDK: the same pages, as dicts (``seen``
    collects each page's bytes, for ``replay``)."""
    auth = (target.api_key, "")
    with httpx.Client(base_url=target.url, auth=auth, transport=target.transport()) as client:
        params: dict[str, int] = {"PageSize": PAGE_SIZE}
        left = count
        while left > 0:
            response = client.get("/api/logs", params=params).raise_for_status()
            if seen is not None:
                seen.append(response.content)
            page = response.json()
            rows = page["data"][:left]
            yield from rows
            left -= len(rows)
            if not page["has_more"] or not rows:
                return
            params["BeforeId"] = rows[-1]["LogId"]


LISTINGS: dict[str, Listing] = {"SDK iterator": sdk_listing, "raw httpx": raw_listing}


def consume(listing: Iterator[Any]) -> int:
    """Take every object as it comes (as a loop over the listing would); the count."""
    count = 0
    for _ in listing:
        count += 1
    return count


@dataclass(frozen=True)
class Rate:
    """One listing: records per second of wall time, and this process's CPU per record."""

    per_second: float
    cpu_us: float


def rate_of(listing: Listing, target: Target, count: int) -> Rate:
    wall, cpu = time.perf_counter(), time.process_time()
    listed = consume(listing(target, count))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if listed != count:
        raise RuntimeError(f"listed {listed} of {count}")
    return Rate(listed / wall, cpu / listed * 1e6)


def replay(target: Target, count: int) -> Target:
    """The pages of a ``count`` listing fetched once, to be served again from memory: both
    clients then decode the very same bytes with no server in the way."""
    seen: list[bytes] = []
    consume(raw_listing(target, count, seen))
    pages: dict[str | None, bytes] = {None: seen[0]}
    for body, following in itertools.pairwise(seen):
        last = httpx.Response(200, content=body).json()["data"][-1]["LogId"]
        pages[str(last)] = following
    return Target(target.url, target.api_key, target.fingerprint, pages)


def peak_memory(listing: Listing, target: Target, count: int) -> int:
    """tracemalloc's peak (bytes) over listing ``count`` objects."""
    gc.collect()
    tracemalloc.start()
    try:
        consume(listing(target, count))
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# ---- the server and its data ----------------------------------------------------------------


def provision(client: Client, partner_id: int) -> Job:
    """A real company → subscription → device → job → job item for the Logs to describe."""
    company = client.companies.create(partner_id=partner_id, plan_type_id=1, name="Bench Ltd")
    subscription = client.subscriptions.create(company_id=company.id, plan_id=3)
    device = client.devices.create(
        company_id=company.id,
        subscription_id=subscription.id,
        name="FILESRV01",
        time_zone_id="W. Europe Standard Time",
    )
    job = client.jobs.create(
        device_id=device.id,
        name="Nightly",
        frequency="Daily",
        every=1,
        late_after=60,
        next_run_on=datetime(2030, 1, 1, 2, 0),
        cloud_keep_last=30,
        local_keep_last=7,
    )
    client.job_items.create(
        job_id=job.id,
        backup_type_id=1,
        name="Shares",
        base_folder="D:\\Shares",
        search_patterns="*.*",
        include_sub_folders=True,
    )
    return client.jobs.get(job.id)


def seed_logs(engine: Engine, partner_id: int, job: Job, count: int) -> None:
    """``count`` finished runs of ``job`` (every tenth Failed), one Log Item each, inserted
    in bulk into the server's database; oldest first, one an hour."""
    assert job.device is not None
    db = Database(engine.settings.resolved_database_url, pool_size=1)
    try:
        for first in range(1, count + 1, SEED_BATCH):
            numbers = range(first, min(first + SEED_BATCH, count + 1))
            with db.writing() as session:
                session.execute(insert(Log), [_log_row(n, partner_id, job) for n in numbers])
                session.execute(insert(LogItem), [_item_row(n, partner_id, job) for n in numbers])
    finally:
        db.dispose()


def _log_row(number: int, partner_id: int, job: Job) -> dict[str, object]:
    device = job.device
    assert device is not None
    started = datetime(2020, 1, 1) + timedelta(hours=number)
    failed = number % 10 == 0
    return {
        "id": number,
        "partner_id": partner_id,
        "company_id": device.company_id,
        "device_id": device.id,
        "job_id": job.id,
        "subscription_id": device.subscription_id,
        "plan_id": 3,
        "time_zone_id": device.time_zone_id,
        "iana_time_zone_id": device.iana_time_zone_id,
        "name": job.name,
        "archive_folder": "D:\\CleverFox\\Archive",
        "upload_folder": f"bench/{job.id}",
        "frequency": "Daily",
        "next_run_on": started,
        "late_after": 60,
        "local_keep_last": 7,
        "cloud_keep_last": 30,
        "job_started_on": started,
        "job_completed_on": started + timedelta(minutes=12),
        "started_utc": started,
        "job_status": "Failed" if failed else "Completed",
        "error_messages": "Access denied: D:\\Shares\\HR" if failed else None,
        "trigger": "Schedule",
        "duration_seconds": 720,
        "bytes_uploaded": 52_428_800 + number,
        "added_on": started + timedelta(minutes=12),
    }


def _item_row(number: int, partner_id: int, job: Job) -> dict[str, object]:
    device = job.device
    assert device is not None
    item = job.job_items[0]
    return {
        "id": number,
        "log_id": number,
        "partner_id": partner_id,
        "company_id": device.company_id,
        "device_id": device.id,
        "job_id": job.id,
        "job_item_id": item.id,
        "name": item.name,
        "engine_id": "FILE",
        "base_folder": item.base_folder,
        "include_sub_folders": True,
        "search_patterns": "*.*",
        "backup_folder": f"bench/{job.id}/{number}",
        "backup_file_name": f"{number}.cfx",
        "backup_file_size": 52_428_800 + number,
        "backup_list_name": f"{number}.lst",
        "backup_list_size": 40_960,
        "backup_list_count": 1200,
        "added_on": datetime(2020, 1, 1) + timedelta(hours=number, minutes=12),
    }


# ---- the run ----------------------------------------------------------------------------------


@dataclass
class Results:
    served: dict[str, Rate]  # over HTTPS from the server, once each
    replayed: dict[str, list[Rate]]  # from recorded pages, every round
    peaks: dict[str, dict[int, int]]  # tracemalloc peak bytes by count, replayed


def measure(target: Target, count: int, rounds: int) -> Results:
    results = Results({}, {name: [] for name in LISTINGS}, {name: {} for name in LISTINGS})
    for name, listing in LISTINGS.items():
        results.served[name] = rate_of(listing, target, count)
        print(f"  served:   {name:12} {_rate_text(results.served[name])}", flush=True)
    recorded = replay(target, count)
    for round_number in range(1, rounds + 1):
        for name, listing in LISTINGS.items():
            results.replayed[name].append(rate_of(listing, recorded, count))
            text = _rate_text(results.replayed[name][-1])
            print(f"  replayed: {name:12} round {round_number}: {text}", flush=True)
    for name, listing in LISTINGS.items():
        for size in [size for size in SIZES if size <= count] or [count]:
            results.peaks[name][size] = peak_memory(listing, recorded, size)
            print(
                f"  {name:12} peak {results.peaks[name][size] / 2**20:6.1f} MiB at {size:,}",
                flush=True,
            )
    return results


def _rate_text(rate: Rate) -> str:
    return f"{rate.per_second:9,.0f} records/s, {rate.cpu_us:6.1f} µs CPU/record"


def render(results: Results, count: int, rounds: int) -> str:
    best = {
        name: max(rates, key=lambda r: r.per_second) for name, rates in results.replayed.items()
    }
    ratio = best["SDK iterator"].per_second / best["raw httpx"].per_second
    served = results.served
    served_ratio = served["SDK iterator"].per_second / served["raw httpx"].per_second
    sizes = sorted(next(iter(results.peaks.values())))
    rows = [
        [
            name,
            f"{results.served[name].per_second:,.0f}",
            f"{results.served[name].cpu_us:.0f}",
            f"{best[name].per_second:,.0f}",
            f"{best[name].cpu_us:.0f}",
            *(f"{results.peaks[name][s] / 2**20:.1f}" for s in sizes),
        ]
        for name in LISTINGS
    ]
    header = [
        "client",
        "served records/s",
        "served µs CPU/record",
        "replayed records/s",
        "replayed µs CPU/record",
        *(f"peak MiB at {s:,}" for s in sizes),
    ]
    verdict = "met" if min(ratio, served_ratio) >= TARGET_RATIO else "missed"
    return (
        f"Listing {count:,} Logs (one Log Item each, embedded Company, Device, Subscription, "
        f"Plan and Job expanded) in pages of {PAGE_SIZE:,}. *Served*: from the production "
        "server stack on SQLite over HTTPS, once per client. *Replayed*: the same pages "
        f"recorded once and served from memory (no server in the way), best of {rounds} "
        "interleaved rounds. CPU is this process's (the client's) per record. Peak memory: "
        "tracemalloc while listing, replayed.\n\n"
        f"{report.table(header, rows)}\n\n"
        f"SDK / raw httpx records/s: **{served_ratio:.0%}** served, **{ratio:.0%}** replayed "
        f"(target ≥ {TARGET_RATIO:.0%}: {verdict}).\n"
    )


def run(options: object = None, *, count: int = SIZES[-1], rounds: int = 3) -> str:
    """The Markdown section (``benchmarks.run`` calls this with its options)."""
    rounds = int(getattr(options, "rounds", rounds))
    with sqlite_engine() as engine, running(UVICORN, engine) as server:
        partner = new_partner(engine)
        fingerprint = ensure_certificate(engine.settings).fingerprint_sha256
        target = Target(server.url, partner.api_key, fingerprint)
        with Client(target.url, target.api_key, fingerprint=fingerprint) as client:
            job = provision(client, partner.partner_id)
        started = time.perf_counter()
        seed_logs(engine, partner.partner_id, job, count)
        print(f"  seeded {count:,} logs in {time.perf_counter() - started:.1f} s", flush=True)
        return render(measure(target, count, rounds), count, rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sdk_listing", description=__doc__)
    parser.add_argument("--logs", type=int, default=SIZES[-1], help="how many Logs to list")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, help="results document (default: print)")
    args = parser.parse_args(argv)
    body = run(count=args.logs, rounds=args.rounds)
    command = ["python", "-m", "benchmarks.sdk_listing", *(sys.argv[1:] if argv is None else argv)]
    facts = report.run_facts(command, "none: this process is the client measured")
    section = f"## SDK: listing Logs (issue 4)\n\n{facts}\n\n{body}"
    if args.output is None:
        print(section)
    else:
        report.replace_section(args.output, "sdk", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
