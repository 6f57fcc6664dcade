"""Choosing the server stack by measuring: one app, one database, several ways to serve it.

Every stack serves ``benchmarks.ceiling_app`` over TLS from the same SQLite data directory
(the engine does not change what the stack costs; SQLite keeps the run short). Before any
load, each stack's TLS floor is checked: a stack that completes a TLS 1.1 handshake is not a
candidate whatever its speed.
"""

from __future__ import annotations

from contextlib import ExitStack

from benchmarks import report, servers
from benchmarks.measure import (
    CEILING,
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

STACKS = (servers.UVICORN, servers.UVICORN_2W, servers.GRANIAN, servers.HYPERCORN)
REQUESTS = (CEILING, GET_ONE)
STACK_CONCURRENCY = (1, 32)  # the extremes; four stacks at three levels would not fit ~2 min


def run(options: Options) -> str:
    """Measure each stack of ``STACKS``; the Markdown section of the results.

    All stacks run at once, and their cells are interleaved round by round, so each sees the
    same background load.
    """
    available = [s for s in STACKS if servers.installed(s)]
    skipped = [s for s in STACKS if s not in available]
    with servers.sqlite_engine() as engine, ExitStack() as stack:
        started = [stack.enter_context(servers.running(s, engine)) for s in available]
        partner = servers.new_partner(engine)
        chosen = {name: targets(partner)[name] for name in REQUESTS}
        tls = {server.stack.name: servers.accepted_tls_versions(server.port) for server in started}
        jobs = [
            Job(server, name, target, connections)
            for connections in STACK_CONCURRENCY
            for server in started
            for name, target in chosen.items()
        ]
        print(f"stacks suite: {len(jobs)} cells on {', '.join(tls)}", flush=True)
        cells = measure(options, jobs)
    results = []
    for server in started:
        mine = [c for j, c in zip(jobs, cells, strict=True) if j.server is server]
        results.append((server.stack, tls[server.stack.name], mine))
    notes = [
        f"`{s.name}` skipped: {s.server} is not installed in this environment" for s in skipped
    ]
    return "\n\n".join([*notes, _section(results)])


def _section(results: list[tuple[servers.Stack, dict[str, bool], list[Cell]]]) -> str:
    stacks = "\n".join(f"- `{stack.name}`: {stack.description}" for stack, _, _ in results)
    return "\n\n".join(
        [
            "Stacks (all serve the same app from one SQLite database, rate limits off; they run "
            "side by side and their cells are interleaved round by round):",
            stacks,
            _tls_table(results),
            _speed_table(results),
        ]
    )


def _tls_table(results: list[tuple[servers.Stack, dict[str, bool], list[Cell]]]) -> str:
    def answer(accepted: bool) -> str:
        return "accepted" if accepted else "refused"

    rows = [
        (stack.name, answer(tls["TLSv1.1"]), answer(tls["TLSv1.2"]), answer(tls["TLSv1.3"]))
        for stack, tls, _ in results
    ]
    return report.table(("Stack", "TLS 1.1", "TLS 1.2", "TLS 1.3"), rows)


def _speed_table(results: list[tuple[servers.Stack, dict[str, bool], list[Cell]]]) -> str:
    rows = []
    for stack, _, cells in results:
        for connections in STACK_CONCURRENCY:
            at = {c.request: c for c in cells if c.connections == connections}
            ceiling, get_one = at[CEILING], at[GET_ONE]
            rows.append(
                (
                    stack.name,
                    connections,
                    f"{ceiling.measurement.requests_per_second:.0f}",
                    f"{get_one.measurement.requests_per_second:.0f}",
                    f"{get_one.measurement.p50_ms:.2f}",
                    f"{get_one.measurement.p99_ms:.2f}",
                    fmt_cpu(ceiling.server_cpu_ms),
                    fmt_cpu(get_one.server_cpu_ms),
                    fmt_ratio(ratio(get_one, ceiling)),
                    fmt_ratio(cost_ratio(get_one, ceiling)),
                    sum(c.measurement.errors for c in at.values()),
                )
            )
    header = (
        "Stack",
        "Clients",
        "Ceiling req/s",
        "GET one req/s",
        "GET one p50 ms",
        "GET one p99 ms",
        "Ceiling CPU ms/req",
        "GET one CPU ms/req",
        "Ratio (req/s)",
        "Ratio (CPU/req)",
        "Errors",
    )
    return report.table(header, rows)
