"""Closed-loop load over many different requests: the logs suite's client.

``benchmarks.load`` repeats one request; the logs suite needs each request to be another
device's page, or another device's check-in under its own key. ``drive`` takes a list of
requests and sends them round-robin over N keep-alive TLS connections for a fixed time,
recording every latency:

- with ``wrk`` (one thread, in its own process): a Lua script holds the requests, each made
  once with ``wrk.format``;
- without it, an asyncio ``httpx`` client in this process (costlier per request, and on the
  server's cores: the report names which one ran).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from benchmarks.load import (
    RESULT_PREFIX,
    WRK_DONE,
    LoadGenerator,
    Measurement,
    Target,
    Wrk,
    lua_string,
    run_generator,
)


def drive(
    generator: LoadGenerator,
    base_url: str,
    requests: Sequence[Target],
    *,
    connections: int,
    seconds: float,
    timeout: float = 10.0,
) -> Measurement:
    """Send ``requests`` in turn over ``connections`` connections for ``seconds``; a request
    unanswered after ``timeout`` seconds counts as an error."""
    if isinstance(generator, Wrk):
        return _wrk(generator.executable, base_url, requests, connections, seconds, timeout)
    return asyncio.run(_python(base_url, requests, connections, seconds, timeout))


# ---- wrk ------------------------------------------------------------------------------------


def _wrk(
    executable: str,
    base_url: str,
    requests: Sequence[Target],
    connections: int,
    seconds: float,
    timeout: float,
) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="cleverfox_wrk_") as tmp:
        script = Path(tmp) / "requests.lua"
        script.write_text(_script(requests))
        command = [
            executable,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={max(1, round(timeout))}s",
            "-s",
            str(script),
            base_url + "/",
        ]
        return run_generator(command, connections, seconds)


def _script(requests: Sequence[Target]) -> str:
    """The Lua script: every request made once in ``init``, then sent in turn."""
    made = ",\n".join(
        "    wrk.format({}, {}, {{{}}}, {})".format(
            lua_string(request.method),
            lua_string(request.path),
            ", ".join(
                f"[ {lua_string(name)} ] = {lua_string(value)}" for name, value in request.headers
            ),
            lua_string(request.body.decode()) if request.body else "nil",
        )
        for request in requests
    )
    return (_WRK_SCRIPT + WRK_DONE).replace("REQUESTS", made).replace("PREFIX", RESULT_PREFIX)


_WRK_SCRIPT = """
local requests, sent = nil, 0

init = function(args)
  requests = {
REQUESTS
  }
end

request = function()
  sent = sent + 1
  return requests[(sent - 1) % #requests + 1]
end

"""


# ---- the fallback: httpx in this process ----------------------------------------------------


async def _python(
    base_url: str,
    requests: Sequence[Target],
    connections: int,
    seconds: float,
    timeout: float,
) -> Measurement:
    latencies: list[float] = []
    errors = {"transport": 0, "status": 0}
    turn = iter(range(1 << 62))
    deadline = time.perf_counter() + seconds
    # The server's certificate is self-signed and this is loopback: nothing to verify against.
    async with httpx.AsyncClient(
        base_url=base_url,
        verify=False,  # noqa: S501
        limits=httpx.Limits(max_connections=connections),
        timeout=timeout,
    ) as client:

        async def one_connection() -> None:
            while time.perf_counter() < deadline:
                await _send(client, requests[next(turn) % len(requests)], latencies, errors)

        began = time.perf_counter()
        await asyncio.gather(*(one_connection() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return _measurement(connections, latencies, elapsed, errors)


def once_each(base_url: str, requests: Sequence[Target], *, timeout: float) -> Measurement:
    """Send every request once, all at the same time, each on its own connection (httpx in
    this process): ``seconds`` is the time until the last answer."""
    return asyncio.run(_once_each(base_url, requests, timeout))


async def _once_each(base_url: str, requests: Sequence[Target], timeout: float) -> Measurement:
    latencies: list[float] = []
    errors = {"transport": 0, "status": 0}
    # The server's certificate is self-signed and this is loopback: nothing to verify against.
    async with httpx.AsyncClient(
        base_url=base_url,
        verify=False,  # noqa: S501
        limits=httpx.Limits(max_connections=len(requests)),
        timeout=timeout,
    ) as client:
        began = time.perf_counter()
        await asyncio.gather(*(_send(client, r, latencies, errors) for r in requests))
        elapsed = time.perf_counter() - began
    return _measurement(len(requests), latencies, elapsed, errors)


async def _send(
    client: httpx.AsyncClient, request: Target, latencies: list[float], errors: dict[str, int]
) -> None:
    """Send ``request``; its latency in ms to ``latencies``, or a transport or status error
    counted in ``errors``."""
    started = time.perf_counter()
    try:
        answer = await client.request(
            request.method,
            request.path,
            headers=dict(request.headers),
            content=request.body or None,
        )
    except httpx.HTTPError:
        errors["transport"] += 1
        return
    latencies.append((time.perf_counter() - started) * 1000)
    errors["status"] += answer.status_code >= 400


def _measurement(
    connections: int, latencies: list[float], seconds: float, errors: dict[str, int]
) -> Measurement:
    ordered = sorted(latencies) or [0.0]
    return Measurement(
        connections=connections,
        requests=len(latencies),
        seconds=seconds,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, max(0, round(0.99 * len(ordered)) - 1))],
        transport_errors=errors["transport"],
        failed_responses=errors["status"],
    )
