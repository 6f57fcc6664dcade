"""Issue 3's benchmark: reading Logs out of 1,000,000, and 1,000 agents checking in.

For each engine in turn (SQLite, then PostgreSQL in a database ``cleverfox_bench_logs_<random>``
dropped afterwards): start the production server stack over TLS with rate limits off (it
migrates the schema), seed the fleet (``benchmarks.logs_fleet``: 10,000 devices, 1,000,000
Logs over two years), then measure over HTTPS, with ``wrk`` sending a different request each
time (``benchmarks.logs_load``):

- **(a)** ``GET /api/logs?DeviceId=…&PageSize=100``, the first page, over 1,000 devices with
  a long history (so every page is full);
- **(b)** the same with ``BeforeId`` set 80% of the way back into that device's history (a
  full page behind it; ids from the seeding);
- **(c)** ``GET /api/logs?CompanyId=…&JobStatus=Failed`` (the default page) over all 100
  companies;

each at 1 client (a request's own latency) and 8 (queueing behind the others on this
two-core machine), a few hundred requests per cell. Target: p99 <= 50 ms. Then, in this
process on the server's database, the same queries' time in ``logs.repository.log_rows`` (the
SQL the indexes serve) and in ``logs.service.read_logs`` with ``log_out`` (all of a page's
queries and its JSON shape, no HTTP), and each query's plan (``EXPLAIN QUERY PLAN`` /
``EXPLAIN ANALYZE``). Last, **(d)** check-ins: 1,000 devices, each with its own key, all
``POST /api/agent/checkin`` at the same moment, each on a new TLS connection — first each
device's first check-in, then a routine one.

``python -m benchmarks.run --suite logs --output docs/benchmarks.md`` runs it alone.
"""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import Connection

from benchmarks import report, servers
from benchmarks.load import Measurement, Target, Wrk
from benchmarks.logs_fleet import Fleet, build
from benchmarks.logs_load import drive, once_each
from benchmarks.measure import Options
from cleverfox.server.devices.presence import online_window
from cleverfox.server.devices.schemas import Presentation
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.listing import ListQuery, parse_list_query
from cleverfox.server.kit.secrets import read_secret
from cleverfox.server.logs import repository, service
from cleverfox.server.logs.schemas import LOG_FILTERS, log_out
from cleverfox.server.models import Device

PAGE_SIZE = 100
TARGET_P99_MS = 50.0
CLIENTS = (1, 8)
REQUESTS_PER_CELL = 300  # aimed at: each cell's duration comes from its warm-up's rate
CELL_SECONDS = (5.0, 20.0)  # shortest, longest measured run of a cell
WARMUP_SECONDS = 2.0
SAMPLES = 1000  # different devices (or all companies) per query
IN_PROCESS_SAMPLES = 60
DEPTH = 0.8  # BeforeId this far back into a device's history
CHECKIN_DEVICES = 1000
CHECKIN_TIMEOUT_SECONDS = 120.0  # 1,000 agents at once queue long on two cores
FIRST_PAGE = "(a) DeviceId, PageSize=100: first page"
DEEP_PAGE = "(b) DeviceId, PageSize=100, BeforeId 80% back"
FAILED = "(c) CompanyId, JobStatus=Failed: first page"
FIRST_CHECKINS = "first check-in of each device"
ROUTINE_CHECKINS = "routine check-in of each device"
SUSTAINED_CHECKINS = "sustained: 1,000 agents for 10 s (wrk)"
SUSTAINED_SECONDS = 10.0
FACTS = {
    "Hostname": "",
    "OsName": "Windows Server 2022",
    "OsVersion": "10.0.20348",
    "AgentVersion": "1.4.2",
}


@dataclass(frozen=True)
class Cell:
    """One query at one concurrency over HTTPS."""

    query: str
    measurement: Measurement
    server_cpu_ms: float | None


@dataclass(frozen=True)
class InProcess:
    """A query's time in this process, milliseconds: the list query alone and the page."""

    query: str
    sql: list[float]
    page: list[float]
    plan: str


@dataclass
class EngineResult:
    engine: str
    fleet: Fleet
    cells: list[Cell] = field(default_factory=list)
    in_process: list[InProcess] = field(default_factory=list)
    checkins: list[Cell] = field(default_factory=list)
    checked_in: int = 0  # devices whose LastApiCheckAt the check-ins set


def run(options: Options) -> str:
    """Seed and measure each engine of ``options.engines`` in turn; the Markdown section."""
    results: list[EngineResult] = []
    notes: list[str] = []
    for name, engine_context in _engines(options, notes):
        with engine_context as engine, servers.running(servers.UVICORN, engine) as server:
            print(f"logs suite: {name}: seeding", flush=True)
            fleet = build(server, engine)
            print(
                f"  seeded {fleet.logs:,} Logs, {fleet.log_items:,} Log Items: {_seconds(fleet)}",
                flush=True,
            )
            results.append(_measure(name, options, server, engine, fleet))
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    notes.append(f"Load average at the end: {load}.")
    return _section(results, notes, options)


def _engines(
    options: Options, notes: list[str]
) -> Iterator[tuple[str, AbstractContextManager[servers.Engine]]]:
    if "sqlite" in options.engines:
        yield "SQLite", servers.sqlite_engine()
    if "postgresql" in options.engines:
        if servers.postgres_reachable(options.postgres_url):
            database = servers.postgres_engine(options.postgres_url, "cleverfox_bench_logs_")
            yield "PostgreSQL", database
        else:
            notes.append(f"PostgreSQL skipped: nothing answers at {options.postgres_url}")


def _measure(
    name: str,
    options: Options,
    server: servers.RunningServer,
    engine: servers.Engine,
    fleet: Fleet,
) -> EngineResult:
    result = EngineResult(name, fleet)
    queries = _queries(fleet)
    queries = {query: requests for query, requests in queries.items() if requests}
    for clients in CLIENTS:
        for query, requests in queries.items():
            result.cells.append(_cell(options, server, query, requests, clients))
    result.in_process = _in_process(engine, fleet, queries)
    result.checkins, result.checked_in = _checkins(options, server, engine, fleet)
    return result


# ---- the queries -----------------------------------------------------------------------------


def _queries(fleet: Fleet) -> dict[str, list[Target]]:
    """The requests of (a), (b) and (c), each list over different devices or companies."""
    rng = random.Random(3)
    auth = (("Authorization", _basic(fleet.partner.api_key)),)
    deep = [d for d, ids in fleet.log_ids.items() if len(ids) * (1 - DEPTH) >= PAGE_SIZE]
    first = rng.sample(sorted(fleet.log_ids), min(SAMPLES, len(fleet.log_ids)))
    deep = rng.sample(deep, min(SAMPLES, len(deep)))
    companies = rng.sample(fleet.company_ids, len(fleet.company_ids))

    def before(device_id: int) -> int:
        ids = fleet.log_ids[device_id]
        return ids[round(len(ids) * (1 - DEPTH))]

    return {
        FIRST_PAGE: [
            Target("GET", f"/api/logs?DeviceId={d}&PageSize={PAGE_SIZE}", auth) for d in first
        ],
        DEEP_PAGE: [
            Target("GET", f"/api/logs?DeviceId={d}&PageSize={PAGE_SIZE}&BeforeId={before(d)}", auth)
            for d in deep
        ],
        FAILED: [
            Target("GET", f"/api/logs?CompanyId={c}&JobStatus=Failed", auth) for c in companies
        ],
    }


def _basic(api_key: str) -> str:
    return "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()


def _cell(
    options: Options,
    server: servers.RunningServer,
    query: str,
    requests: list[Target],
    clients: int,
) -> Cell:
    """A warm-up at this concurrency, then a run sized by the warm-up's rate for
    ``REQUESTS_PER_CELL`` requests (within ``CELL_SECONDS``)."""
    warm = drive(
        options.generator, server.url, requests, connections=clients, seconds=WARMUP_SECONDS
    )
    rate = warm.requests_per_second or 1.0
    seconds = min(max(REQUESTS_PER_CELL / rate * 1.1, CELL_SECONDS[0]), CELL_SECONDS[1])
    before = servers.cpu_seconds(server.process.pid)
    measured = drive(options.generator, server.url, requests, connections=clients, seconds=seconds)
    cell = Cell(
        query, measured, _cpu_ms(before, servers.cpu_seconds(server.process.pid), measured.requests)
    )
    print(f"  {query:48} c={clients:<2} {_summary(measured)}", flush=True)
    return cell


def _cpu_ms(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or not requests:
        return None
    return (after - before) * 1000 / requests


def _summary(m: Measurement) -> str:
    return (
        f"{m.requests:6} requests {m.requests_per_second:7.1f}/s  p50 {m.p50_ms:8.2f} ms"
        f"  p99 {m.p99_ms:8.2f} ms  errors {m.errors}"
    )


# ---- in this process: the SQL alone, the page without HTTP, the plans ------------------------


def _in_process(
    engine: servers.Engine, fleet: Fleet, queries: dict[str, list[Target]]
) -> list[InProcess]:
    db = Database(engine.settings.resolved_database_url, pool_size=1)
    how = Presentation(
        read_secret(engine.settings.secret_key_path),
        "https://127.0.0.1",
        online_window(engine.settings),
        utcnow(),
    )
    partner_id = fleet.partner.partner_id
    try:
        timings = []
        for name, requests in queries.items():
            sql, page = [], []
            for request in requests[:IN_PROCESS_SAMPLES]:
                query = parse_list_query(_params(request.path), LOG_FILTERS)
                sql.append(_list_query_ms(db, partner_id, query))
                page.append(_page_ms(db, partner_id, query, how))
            plan = _plan(db, partner_id, _params(requests[0].path))
            timings.append(InProcess(name, sql, page, plan))
            print(
                f"  in process: {name:48} list query p50 {_pct(sql, 50):6.2f} "
                f"p99 {_pct(sql, 99):6.2f} ms; page p50 {_pct(page, 50):6.2f} "
                f"p99 {_pct(page, 99):6.2f} ms",
                flush=True,
            )
        return timings
    finally:
        db.dispose()


def _params(path: str) -> list[tuple[str, str]]:
    query = path.partition("?")[2]
    return [(k, v) for k, _, v in (pair.partition("=") for pair in query.split("&"))]


def _list_query_ms(db: Database, partner_id: int, query: ListQuery) -> float:
    with db.connection_snapshot() as connection:
        started = time.perf_counter()
        repository.log_rows(connection, partner_id, query)
        return (time.perf_counter() - started) * 1000


def _page_ms(db: Database, partner_id: int, query: ListQuery, how: Presentation) -> float:
    """As the server answers it: the page's statements in one read transaction, then each
    Log presented."""
    started = time.perf_counter()
    with db.connection_snapshot() as connection:
        views = service.read_logs(connection, partner_id, query, how)[0]
    for view in views:
        log_out(view)
    return (time.perf_counter() - started) * 1000


def _pct(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    if percent == 50:
        return statistics.median(ordered)
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def _plan(db: Database, partner_id: int, params: list[tuple[str, str]]) -> str:
    """The plan of the list query ``repository.log_rows`` sends for ``params``."""
    seen: list[tuple[str, Any]] = []

    def capture(
        _conn: Connection, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and " logs" in statement:
            seen.append((statement, parameters))

    query = parse_list_query(params, LOG_FILTERS)
    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.connection_snapshot() as connection:
            repository.log_rows(connection, partner_id, query)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    explain = "EXPLAIN QUERY PLAN " if db.sqlite else "EXPLAIN (ANALYZE, COSTS OFF) "
    with db.connection_reading() as connection:
        rows = connection.exec_driver_sql(explain + statement, parameters).all()
    if db.sqlite:
        return "\n".join(f"{row[3]}" for row in rows)
    return "\n".join(str(row[0]) for row in rows)


# ---- check-ins --------------------------------------------------------------------------------


def _checkins(
    options: Options, server: servers.RunningServer, engine: servers.Engine, fleet: Fleet
) -> tuple[list[Cell], int]:
    """1,000 devices (the sixth of every ten: spread over all companies), each with its own
    key, all check in at the same moment, each on a new connection (an agent checks in once
    a minute, long after a keep-alive connection closed); then all again. The first is each
    device's first check-in (facts reported: Device Modified; Device Online), the second a
    routine one (no Event). Both from httpx in this process, whose TLS handshakes cost about
    as much CPU as the server's work. Last, with wrk: the same 1,000 devices on 1,000
    connections for ``SUSTAINED_SECONDS``, each check-in with ``Connection: close`` (so on
    a new TLS connection), the server's throughput when the client is not the limit."""
    devices = [d.device_id for d in fleet.devices[5::10]][:CHECKIN_DEVICES]
    requests = [
        Target(
            "POST",
            "/api/agent/checkin",
            (
                ("Authorization", _basic(fleet.api_keys[device])),
                ("Content-Type", "application/json"),
            ),
            json.dumps({**FACTS, "Hostname": f"pc-{device}"}).encode(),
        )
        for device in devices
    ]
    cells = []
    for label in (FIRST_CHECKINS, ROUTINE_CHECKINS):
        before = servers.cpu_seconds(server.process.pid)
        measured = once_each(server.url, requests, timeout=CHECKIN_TIMEOUT_SECONDS)
        cpu = _cpu_ms(before, servers.cpu_seconds(server.process.pid), measured.requests)
        cells.append(Cell(label, measured, cpu))
        print(f"  check-ins, {label:38} {_summary(measured)}", flush=True)
    if isinstance(options.generator, Wrk):
        closing = [replace(r, headers=(*r.headers, ("Connection", "close"))) for r in requests]
        before = servers.cpu_seconds(server.process.pid)
        measured = drive(
            options.generator,
            server.url,
            closing,
            connections=len(closing),
            seconds=SUSTAINED_SECONDS,
            timeout=CHECKIN_TIMEOUT_SECONDS,
        )
        cpu = _cpu_ms(before, servers.cpu_seconds(server.process.pid), measured.requests)
        cells.append(Cell(SUSTAINED_CHECKINS, measured, cpu))
        print(f"  check-ins, {SUSTAINED_CHECKINS:38} {_summary(measured)}", flush=True)
    return cells, _checked_in(engine, devices)


def _checked_in(engine: servers.Engine, devices: list[int]) -> int:
    """How many of ``devices`` have a LastApiCheckAt now (all of them, if all got in)."""
    db = Database(engine.settings.resolved_database_url, pool_size=1)
    try:
        with db.reading() as session:
            stmt = select(func.count()).where(
                Device.id.in_(devices), Device.last_api_check_at.is_not(None)
            )
            return int(session.scalar(stmt) or 0)
    finally:
        db.dispose()


# ---- the section --------------------------------------------------------------------------------


def _seconds(fleet: Fleet) -> str:
    total = sum(fleet.seconds.values())
    parts = ", ".join(f"{name} {value:.0f} s" for name, value in fleet.seconds.items())
    return f"{total:.0f} s ({parts})"


def _section(results: list[EngineResult], notes: list[str], options: Options) -> str:
    client = (
        "wrk, one thread, a different request each time (a Lua script)"
        if isinstance(options.generator, Wrk)
        else "httpx (asyncio) in the suite's own process: wrk is not installed"
    )
    parts = [_intro(results, client), *notes]
    if results:
        parts += [
            "### Over HTTPS (target: p99 <= 50 ms)",
            _http_table(results),
            "### In the server's database, no HTTP",
            _in_process_table(results),
            "### Agent check-ins",
            _checkin_table(results),
            "### Query plans",
            _plans(results),
        ]
    return "\n\n".join(parts)


def _intro(results: list[EngineResult], client: str) -> str:
    lines = [
        "Data per engine (`benchmarks/logs_fleet.py`): one partner, 100 companies, 200 Large "
        "Plan subscriptions, 10,000 devices (100 per company) with one Daily job of two job "
        "items each; 1,000,000 Logs over two years, ids growing with AddedOn; every tenth "
        "device has a long history (~550 Logs), the others ~50. Companies, subscriptions and "
        "one template device, job and finished run are made through the API and the agent's "
        "endpoints; everything else is cloned from their rows in bulk "
        "(`benchmarks/logs_bulk.py`; SQLite: Core `insert()` executemany; PostgreSQL: COPY, "
        "then VACUUM ANALYZE; the secondary indexes of `logs` and `log_items` are created "
        "after the load from the migrations' own definitions, checked identical).",
        "",
        f"Server: the production runner (uvicorn + uvloop + httptools, TLS, 1 process), "
        f"`--rate-limit 0`. Client: {client}. Each cell: a {WARMUP_SECONDS:.0f} s warm-up at "
        f"its concurrency, then a run sized for ~{REQUESTS_PER_CELL} requests "
        f"({CELL_SECONDS[0]:.0f}–{CELL_SECONDS[1]:.0f} s). (a) and (b) go over "
        f"{SAMPLES:,} different long-history devices, (c) over all 100 companies.",
        "",
        "| Engine | Logs | Log Items | Completed / Failed / Missed | Seeding |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for result in results:
        fleet = result.fleet
        statuses = " / ".join(
            f"{fleet.statuses.get(s, 0):,}" for s in ("Completed", "Failed", "Missed")
        )
        lines.append(
            f"| {result.engine} | {fleet.logs:,} | {fleet.log_items:,} | {statuses} "
            f"| {_seconds(fleet)} |"
        )
    return "\n".join(lines)


def _http_table(results: list[EngineResult]) -> str:
    rows = []
    for result in results:
        for cell in result.cells:
            m = cell.measurement
            rows.append(
                (
                    result.engine,
                    cell.query,
                    m.connections,
                    m.requests,
                    f"{m.requests_per_second:.1f}",
                    f"{m.p50_ms:.1f}",
                    f"{m.p99_ms:.1f}",
                    "yes" if m.p99_ms <= TARGET_P99_MS and not m.errors else "**no**",
                    m.errors,
                    _fmt(cell.server_cpu_ms),
                )
            )
    header = (
        "Engine",
        "Query",
        "Clients",
        "Requests",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99 <= 50 ms",
        "Errors",
        "Server CPU ms/req",
    )
    return report.table(header, rows)


def _in_process_table(results: list[EngineResult]) -> str:
    rows = [
        (
            result.engine,
            timing.query,
            len(timing.sql),
            f"{_pct(timing.sql, 50):.2f}",
            f"{_pct(timing.sql, 99):.2f}",
            f"{_pct(timing.page, 50):.2f}",
            f"{_pct(timing.page, 99):.2f}",
        )
        for result in results
        for timing in result.in_process
    ]
    header = (
        "Engine",
        "Query",
        "Samples",
        "List query p50 ms",
        "List query p99 ms",
        "Whole page p50 ms",
        "Whole page p99 ms",
    )
    return report.table(header, rows) + (
        "\n\n*List query*: `logs.repository.log_rows` (the one SELECT the indexes serve, and its "
        "rows). *Whole page*: `logs.service.read_logs` and `log_out` for every Log — the "
        "Log Items and embedded Company, Device, Job, Subscription and Plan queries in one "
        "read transaction, and the JSON shape; what the server adds is authentication, the "
        "thread hand-off, JSON encoding and TLS."
    )


def _checkin_table(results: list[EngineResult]) -> str:
    rows = []
    for result in results:
        for cell in result.checkins:
            m = cell.measurement
            rows.append(
                (
                    result.engine,
                    cell.query,
                    m.requests,
                    f"{m.seconds:.1f}",
                    f"{m.requests_per_second:.1f}",
                    f"{m.p50_ms:,.0f}",
                    f"{m.p99_ms:,.0f}",
                    m.errors,
                    _fmt(cell.server_cpu_ms),
                )
            )
    header = (
        "Engine",
        "1,000 devices at once",
        "Answered",
        "Seconds (to the last)",
        "Check-ins/s",
        "p50 ms",
        "p99 ms",
        "Errors",
        "Server CPU ms/check-in",
    )
    checked = ", ".join(f"{r.engine}: {r.checked_in:,} of {CHECKIN_DEVICES:,}" for r in results)
    return report.table(header, rows) + (
        f"\n\nEach check-in on its own new TLS connection, so its cost includes the "
        f"handshake. The first two rows: all {CHECKIN_DEVICES:,} sent at once from httpx in the "
        "suite's process (whose own TLS handshakes compete for the same two cores); latency "
        "is mostly the queue ahead, p50 about half the time to the last answer. The "
        f"*sustained* row: wrk keeps {CHECKIN_DEVICES:,} connections busy for "
        f"{SUSTAINED_SECONDS:.0f} s, each check-in with `Connection: close` — the server's "
        "own rate; answers still pending when it stops are not counted, so its CPU per "
        "check-in reads high. Devices with LastApiCheckAt set afterwards: "
        f"{checked}."
    )


def _plans(results: list[EngineResult]) -> str:
    parts = []
    for result in results:
        for timing in result.in_process:
            parts.append(f"{result.engine}, {timing.query}:\n\n```\n{timing.plan}\n```")
    return "\n\n".join(parts)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
