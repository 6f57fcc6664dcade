"""Load generators: closed-loop keep-alive HTTP/1.1 clients over TLS, in their own process.

``wrk`` (C, one thread) is preferred: on a two-core machine the generator must not take the
CPU the server needs, and wrk spends far less per request than any Python client. When wrk is
not installed (``apt-get install wrk``), ``benchmarks.loadgen`` — asyncio on uvloop with raw
sockets, no HTTP library — takes its place; the report names the generator used, since
absolute numbers from the two are not comparable (ratios within one run are).

Both print one line ``CFBENCH {json}`` with the run's counts and latency percentiles.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

RESULT_PREFIX = "CFBENCH "
SOCKET_TIMEOUT_SECONDS = 10
SLACK_SECONDS = 60  # how long past its duration a generator may take before it is killed


@dataclass(frozen=True)
class Target:
    """One request to repeat: method, path, headers and body."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class Measurement:
    """What one fixed-duration run at one concurrency saw."""

    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    transport_errors: int  # connect, read, write and timeout errors
    failed_responses: int  # status 400 or higher

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.transport_errors + self.failed_responses


class LoadGenerator(Protocol):
    name: str

    def measure(
        self, base_url: str, target: Target, connections: int, seconds: float
    ) -> Measurement: ...


def choose(preference: str) -> LoadGenerator:
    """``wrk`` when asked for or (``auto``) when installed, else the Python generator."""
    wrk = shutil.which("wrk")
    if preference == "wrk" and wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk), or use --loadgen python")
    if preference in ("wrk", "auto") and wrk is not None:
        return Wrk(wrk)
    if preference == "auto":
        print("wrk not found (apt-get install wrk): using benchmarks.loadgen", flush=True)
    return PythonLoad()


class Wrk:
    """Debian's ``wrk`` with one thread; a Lua script sets the request and prints the result."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.name = f"wrk ({_wrk_version(executable)}), 1 thread"

    def measure(
        self, base_url: str, target: Target, connections: int, seconds: float
    ) -> Measurement:
        with tempfile.TemporaryDirectory(prefix="cleverfox_wrk_") as tmp:
            script = Path(tmp) / "request.lua"
            script.write_text(_wrk_script(target))
            command = [
                self.executable,
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={SOCKET_TIMEOUT_SECONDS}s",
                "-s",
                str(script),
                base_url + target.path,
            ]
            return run_generator(command, connections, seconds)


class PythonLoad:
    """``python -m benchmarks.loadgen``: the fallback when wrk is not installed."""

    name = "benchmarks.loadgen (asyncio + uvloop, raw HTTP/1.1), 1 process"

    def measure(
        self, base_url: str, target: Target, connections: int, seconds: float
    ) -> Measurement:
        command = [
            sys.executable,
            "-m",
            "benchmarks.loadgen",
            "--url",
            base_url + target.path,
            "--method",
            target.method,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
            "--body",
            target.body.decode(),
        ]
        for name, value in target.headers:
            command += ["--header", f"{name}: {value}"]
        return run_generator(command, connections, seconds)


def run_generator(command: list[str], connections: int, seconds: float) -> Measurement:
    """Run a load generator's ``command`` and read the result line it prints."""
    done = subprocess.run(  # noqa: S603 - our own fixed command line
        command,
        capture_output=True,
        text=True,
        timeout=seconds + SLACK_SECONDS,
        cwd=Path(__file__).resolve().parent.parent,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return _measurement(json.loads(line.removeprefix(RESULT_PREFIX)), connections)
    raise RuntimeError(f"load generator failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _measurement(raw: dict[str, float], connections: int) -> Measurement:
    return Measurement(
        connections=connections,
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        transport_errors=int(raw["transport_errors"]),
        failed_responses=int(raw["failed_responses"]),
    )


def _wrk_script(target: Target) -> str:
    lines = [f"wrk.method = {lua_string(target.method)}"]
    lines += [f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in target.headers]
    if target.body:
        lines.append(f"wrk.body = {lua_string(target.body.decode())}")
    lines.append(WRK_DONE.replace("PREFIX", RESULT_PREFIX))
    return "\n".join(lines) + "\n"


def lua_string(text: str) -> str:
    """A Lua long-bracket literal that cannot be closed by ``text``."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'PREFIX{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"transport_errors": %d, "failed_responses": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def _wrk_version(executable: str) -> str:
    done = subprocess.run(  # noqa: S603 - wrk -v prints its version and usage
        [executable, "-v"], capture_output=True, text=True, check=False
    )
    first = (done.stdout or done.stderr).splitlines()[:1]
    return first[0].split(" [")[0] if first else "version unknown"
