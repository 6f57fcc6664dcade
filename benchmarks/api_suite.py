"""Issue 2's benchmark: companies over TLS on each engine, against the ceiling of the same run.

For each engine one production-stack server (uvicorn + uvloop + httptools, one process, rate
limits off) serves a partner with 120+ companies. At 1, 8 and 32 keep-alive clients, the
ceiling runs right before GET one company in every round, so the ratio compares neighbours in
time on a machine whose background load drifts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack

from benchmarks import report, servers
from benchmarks.measure import (
    CEILING,
    CONCURRENCY,
    GET_ONE,
    Cell,
    Job,
    Options,
    cost_ratio,
    fmt_cpu,
    fmt_ratio,
    measure,
    ratio,
    targets,
)

SEED_COMPANIES = 120
TARGET_RATIO = 0.5


def run(options: Options) -> str:
    """Measure every engine in ``options.engines``; the Markdown section of the results.

    The engines' servers run side by side and their cells are interleaved, so both engines
    see the same background load.
    """
    skipped: list[str] = []
    with ExitStack() as stack:
        running: dict[str, tuple[servers.RunningServer, servers.Partner]] = {}
        for name, engine in _engines(options, skipped):
            ready = stack.enter_context(engine)
            server = stack.enter_context(servers.running(servers.UVICORN, ready))
            partner = servers.new_partner(ready)
            servers.seed_companies(server, partner, SEED_COMPANIES)
            running[name] = (server, partner)
        jobs = [
            (name, Job(server, request, target, connections))
            for connections in CONCURRENCY
            for name, (server, partner) in running.items()
            for request, target in targets(partner).items()
        ]
        print(f"api suite: {len(jobs)} cells on {', '.join(running)}", flush=True)
        cells = measure(options, [job for _, job in jobs])
    results: dict[str, list[Cell]] = {name: [] for name in running}
    for (name, _), cell in zip(jobs, cells, strict=True):
        results[name].append(cell)
    return _section(results, skipped)


def _engines(
    options: Options, skipped: list[str]
) -> Iterator[tuple[str, AbstractContextManager[servers.Engine]]]:
    if "sqlite" in options.engines:
        yield "SQLite", servers.sqlite_engine()
    if "postgresql" in options.engines:
        if servers.postgres_reachable(options.postgres_url):
            yield "PostgreSQL", servers.postgres_engine(options.postgres_url)
        else:
            skipped.append(f"PostgreSQL skipped: nothing answers at {options.postgres_url}")


def _section(results: dict[str, list[Cell]], skipped: list[str]) -> str:
    parts = [
        "Server: the production runner (`cleverfox.server.runner.serve`: uvicorn + uvloop + "
        "httptools, TLS, 1 process) with `--rate-limit 0`, serving `benchmarks.ceiling_app` "
        f"(the real app plus `GET /bench/ceiling`). The partner has {SEED_COMPANIES + 1} "
        "companies; POST adds more as it runs. Each cell: a warm-up, then slices of a fixed "
        "duration, one per round, interleaved with every other cell (both engines' servers "
        "run side by side). N keep-alive connections each send their next request when the "
        "last is answered. req/s and CPU/request total all slices; p50 is the median slice's, "
        "p99 the worst slice's.",
        *skipped,
    ]
    for engine, cells in results.items():
        parts += [f"### {engine}", _cells_table(cells)]
    if results:
        parts += ["### GET one company / ceiling (target >= 50%, no errors)", _ratio_table(results)]
    return "\n\n".join(parts)


def _cells_table(cells: list[Cell]) -> str:
    rows = [
        (
            cell.request,
            cell.connections,
            f"{cell.measurement.requests_per_second:.0f}",
            f"{cell.measurement.p50_ms:.2f}",
            f"{cell.measurement.p99_ms:.2f}",
            cell.measurement.errors,
            fmt_cpu(cell.server_cpu_ms),
        )
        for cell in sorted(cells, key=lambda c: (c.request, c.connections))
    ]
    header = ("Request", "Clients", "req/s", "p50 ms", "p99 ms", "Errors", "Server CPU ms/req")
    return report.table(header, rows)


def _ratio_table(results: dict[str, list[Cell]]) -> str:
    rows = []
    for engine, cells in results.items():
        for connections in CONCURRENCY:
            at = {c.request: c for c in cells if c.connections == connections}
            get_one, ceiling = at[GET_ONE], at[CEILING]
            met = ratio(get_one, ceiling) >= TARGET_RATIO
            rows.append(
                (
                    engine,
                    connections,
                    f"{ceiling.measurement.requests_per_second:.0f}",
                    f"{get_one.measurement.requests_per_second:.0f}",
                    fmt_ratio(ratio(get_one, ceiling)),
                    fmt_ratio(cost_ratio(get_one, ceiling)),
                    "yes" if met else "no",
                    sum(c.measurement.errors for c in at.values()),
                )
            )
    header = (
        "Engine",
        "Clients",
        "Ceiling req/s",
        "GET one req/s",
        "Ratio (req/s)",
        "Ratio (CPU/req)",
        "Target met",
        "Errors (all 4 requests)",
    )
    return report.table(header, rows) + (
        "\n\n*Ratio (CPU/req)* is the ceiling's server CPU per request divided by GET one "
        "company's: the same ratio measured in a way the machine's other load hardly moves."
    )
