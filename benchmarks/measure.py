"""Benchmark cells: warm-ups, then interleaved fixed-duration slices, with the server's CPU."""

from __future__ import annotations

import base64
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.ceiling_app import CEILING_PATH
from benchmarks.load import LoadGenerator, Measurement, Target
from benchmarks.servers import Partner, RunningServer, company_body, cpu_seconds

CONCURRENCY = (1, 8, 32)
CEILING = "ceiling (GET /bench/ceiling)"
GET_ONE = "GET one company"
GET_PAGE = "GET a page of 100 companies"
POST_ONE = "POST a company"


@dataclass(frozen=True)
class Options:
    """How long each cell runs and against what; shared by every suite."""

    seconds: float  # one measured slice
    rounds: int  # slices per cell, interleaved with the other cells of the suite
    warmup: float
    postgres_url: str
    engines: tuple[str, ...]
    generator: LoadGenerator
    # The backup suite's corpus (issue 11): make_corpus.py --scale, and where to keep it
    # between runs (None: built in a temporary folder and removed); the tools it compares;
    # whether its steps run warm.
    scale: float = 1.0
    corpus: Path | None = None
    tools: tuple[str, ...] = ("cleverfox", "restic", "borg")
    warm: bool = False  # keep the page cache between steps (default: drop it, when root)


@dataclass(frozen=True)
class Job:
    """What one cell measures: a request at a concurrency on a server."""

    server: RunningServer
    request: str
    target: Target
    connections: int


@dataclass(frozen=True)
class Cell:
    """One request at one concurrency on one server, all its slices combined."""

    request: str
    measurement: Measurement
    server_cpu_ms: float | None  # server CPU (all its processes) per request

    @property
    def connections(self) -> int:
        return self.measurement.connections


def targets(partner: Partner) -> dict[str, Target]:
    """The requests of the issue-2 benchmark, as ``partner``; the ceiling needs no key."""
    auth = base64.b64encode(f"{partner.api_key}:".encode()).decode()
    headers = (("Authorization", f"Basic {auth}"),)
    body = json.dumps(company_body(partner, "Benchmark company")).encode()
    return {
        CEILING: Target("GET", CEILING_PATH),
        GET_ONE: Target("GET", f"/api/companies/{partner.company_id}", headers),
        GET_PAGE: Target("GET", "/api/companies?PageSize=100", headers),
        POST_ONE: Target(
            "POST", "/api/companies", (*headers, ("Content-Type", "application/json")), body
        ),
    }


def measure(options: Options, jobs: Sequence[Job]) -> list[Cell]:
    """Warm every job up, then run ``options.rounds`` rounds of one slice per job, in order.

    Interleaving spreads the shared machine's drifting background load over all cells
    alike, so cells measured side by side (the ceiling and GET one company) stay comparable.
    Requests/s and CPU per request are totals over the slices; p50 is the median of the
    slices' p50 and p99 the worst slice's p99.
    """
    for job in jobs:
        if options.warmup > 0:
            options.generator.measure(job.server.url, job.target, job.connections, options.warmup)
    slices: list[list[tuple[Measurement, float | None]]] = [[] for _ in jobs]
    for round_number in range(1, options.rounds + 1):
        print(f"  round {round_number}/{options.rounds}", flush=True)
        for job, taken in zip(jobs, slices, strict=True):
            taken.append(_slice(options, job))
    cells = [_combine(job, taken) for job, taken in zip(jobs, slices, strict=True)]
    for job, cell in zip(jobs, cells, strict=True):
        where = f"{job.server.stack.name}/{job.server.engine.name}"
        print(f"  {where:21} {_summary(cell)}", flush=True)
    return cells


def _slice(options: Options, job: Job) -> tuple[Measurement, float | None]:
    """One measured run and the server CPU seconds it cost (``None`` when unknown)."""
    before = cpu_seconds(job.server.process.pid)
    measurement = options.generator.measure(
        job.server.url, job.target, job.connections, options.seconds
    )
    after = cpu_seconds(job.server.process.pid)
    cpu = None if before is None or after is None else after - before
    return measurement, cpu


def _combine(job: Job, taken: list[tuple[Measurement, float | None]]) -> Cell:
    parts = [m for m, _ in taken]
    cpu = [c for _, c in taken]
    requests = sum(m.requests for m in parts)
    combined = Measurement(
        connections=job.connections,
        requests=requests,
        seconds=sum(m.seconds for m in parts),
        p50_ms=statistics.median(m.p50_ms for m in parts),
        p99_ms=max(m.p99_ms for m in parts),
        transport_errors=sum(m.transport_errors for m in parts),
        failed_responses=sum(m.failed_responses for m in parts),
    )
    cpu_ms = None
    if requests and all(c is not None for c in cpu):
        cpu_ms = sum(c for c in cpu if c is not None) * 1000 / requests
    return Cell(job.request, combined, cpu_ms)


def ratio(part: Cell, whole: Cell) -> float:
    """``part``'s requests/s as a fraction of ``whole``'s."""
    base = whole.measurement.requests_per_second
    return part.measurement.requests_per_second / base if base else 0.0


def cost_ratio(part: Cell, whole: Cell) -> float | None:
    """``whole``'s server CPU per request as a fraction of ``part``'s (noise-resistant)."""
    if part.server_cpu_ms is None or whole.server_cpu_ms is None or not part.server_cpu_ms:
        return None
    return whole.server_cpu_ms / part.server_cpu_ms


def fmt_cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def _summary(cell: Cell) -> str:
    m = cell.measurement
    return (
        f"{cell.request:30} c={cell.connections:<3}{m.requests_per_second:7.0f} req/s"
        f"  p50 {m.p50_ms:7.2f} ms  p99 {m.p99_ms:7.2f} ms  errors {m.errors}"
        f"  cpu/req {fmt_cpu(cell.server_cpu_ms)} ms"
    )
