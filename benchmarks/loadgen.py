"""``python -m benchmarks.loadgen``: a small closed-loop HTTP/1.1 load generator over TLS.

The fallback for machines without ``wrk``. ``--connections`` keep-alive connections each send
one request, read the whole response (Content-Length or chunked) and send the next, for
``--seconds``. The certificate is not verified (the server's is self-signed). Prints one line
``CFBENCH {json}`` in the format ``benchmarks.load`` reads, latencies in microseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

RESULT_PREFIX = "CFBENCH "
READ_TIMEOUT_SECONDS = 10.0


@dataclass
class Tally:
    latencies_us: list[int] = field(default_factory=list)
    transport_errors: int = 0
    failed_responses: int = 0


def main() -> None:
    options = _parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # plain asyncio still works, only slower
        pass
    started = time.perf_counter()
    tally = asyncio.run(_drive(options))
    duration_us = int((time.perf_counter() - started) * 1e6)
    print(RESULT_PREFIX + json.dumps(_summary(tally, duration_us)), flush=True)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", default="")
    return parser.parse_args()


async def _drive(options: argparse.Namespace) -> Tally:
    url = urlsplit(options.url)
    request = _request_bytes(options, url.netloc, url.path + (f"?{url.query}" if url.query else ""))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    deadline = time.perf_counter() + options.seconds
    tally = Tally()
    host, port = url.hostname or "127.0.0.1", url.port or 443
    clients = [
        _client(host, port, context, request, deadline, tally) for _ in range(options.connections)
    ]
    await asyncio.gather(*clients)
    return tally


def _request_bytes(options: argparse.Namespace, host: str, target: str) -> bytes:
    body: bytes = str(options.body).encode()
    lines = [f"{options.method} {target} HTTP/1.1", f"Host: {host}", *options.header]
    if body or options.method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _client(
    host: str,
    port: int,
    context: ssl.SSLContext,
    request: bytes,
    deadline: float,
    tally: Tally,
) -> None:
    while time.perf_counter() < deadline:
        try:
            reader, writer = await asyncio.open_connection(host, port, ssl=context)
        except OSError:
            tally.transport_errors += 1
            await asyncio.sleep(0.01)
            continue
        try:
            await _requests(reader, writer, request, deadline, tally)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            tally.transport_errors += 1
        finally:
            writer.close()


async def _requests(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    request: bytes,
    deadline: float,
    tally: Tally,
) -> None:
    """Requests on one connection until the deadline or until the server closes it."""
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        writer.write(request)
        status, keep_alive = await asyncio.wait_for(_response(reader), READ_TIMEOUT_SECONDS)
        tally.latencies_us.append(int((time.perf_counter() - started) * 1e6))
        if status >= 400:
            tally.failed_responses += 1
        if not keep_alive:
            return


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; its status and whether the connection stays open."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        await _read_chunked(reader)
    else:
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() != "close"


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        await reader.readexactly(size + 2)
        if size == 0:
            return


def _summary(tally: Tally, duration_us: int) -> dict[str, int]:
    latencies = sorted(tally.latencies_us) or [0]
    return {
        "requests": len(tally.latencies_us),
        "duration_us": duration_us,
        "p50_us": _percentile(latencies, 50),
        "p99_us": _percentile(latencies, 99),
        "transport_errors": tally.transport_errors,
        "failed_responses": tally.failed_responses,
    }


def _percentile(ordered: list[int], percent: float) -> int:
    index = min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


if __name__ == "__main__":
    main()
