"""Start-up of the ``cleverfox`` command line against ``import cleverfox.client`` (issue 9).

Each command is a fresh process, timed whole (interpreter start, imports, work, exit):

- ``python -c "import cleverfox.client"``: the floor, what any SDK script pays;
- ``cleverfox --help``: the root alone (it imports no command);
- ``cleverfox companies list --help``: a partner's command, start-up isolated (its module
  and the SDK imported, its help printed, no network);
- ``cleverfox companies list``: the same command listing the partner's one company from a
  real server (production stack, SQLite, TLS pinned by fingerprint) started by the suite:
  start-up plus one HTTPS request.

Timed by hyperfine (``-N``: no shell in between) when it is installed, else by this
process, ``RUNS`` times each after ``WARMUP`` runs; medians are reported, with each
command's median over the floor's.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.measure import Options
from benchmarks.servers import UVICORN, new_partner, running, sqlite_engine
from cleverfox.server.kit.tls import ensure_certificate

RUNS = 15
WARMUP = 2
FLOOR = "import cleverfox.client"


@dataclass(frozen=True)
class Timing:
    """One command's wall-clock seconds over its runs."""

    label: str
    command: tuple[str, ...]
    median: float
    low: float
    high: float
    runs: int


def run(options: Options) -> str:
    """Time the commands of the module docstring; the Markdown section of the results."""
    del options  # fixed run counts: a process start is not a load slice
    cleverfox = _installed_command()
    commands = {
        FLOOR: (sys.executable, "-c", "import cleverfox.client"),
        "cleverfox --help": (*cleverfox, "--help"),
        "cleverfox companies list --help": (*cleverfox, "companies", "list", "--help"),
        "cleverfox companies list (real server)": (*cleverfox, "companies", "list"),
    }
    with sqlite_engine() as engine, running(UVICORN, engine) as server:
        partner = new_partner(engine)
        environment = _environment(
            CLEVERFOX_URL=server.url,
            CLEVERFOX_API_KEY=partner.api_key,
            CLEVERFOX_FINGERPRINT=ensure_certificate(engine.settings).fingerprint_sha256,
        )
        _check(commands, environment)
        hyperfine = shutil.which("hyperfine")
        timings = (
            _with_hyperfine(hyperfine, commands, environment)
            if hyperfine
            else [_by_hand(label, command, environment) for label, command in commands.items()]
        )
    return _section(timings, "hyperfine -N" if hyperfine else "this process (perf_counter)")


def _installed_command() -> tuple[str, ...]:
    """The ``cleverfox`` script of this environment (what a person runs), else ``-m``."""
    script = Path(sys.executable).with_name("cleverfox")
    return (str(script),) if script.exists() else (sys.executable, "-m", "cleverfox")


def _environment(**connection: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}
    environment.pop("COLUMNS", None)
    environment["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="cleverfox_bench_xdg_")
    environment.update(connection)
    return environment


def _check(commands: Mapping[str, Sequence[str]], environment: dict[str, str]) -> None:
    """Each command works once before it is timed (a failing one would time its error)."""
    for label, command in commands.items():
        done = subprocess.run(  # noqa: S603 - our own fixed command lines
            command, capture_output=True, text=True, env=environment, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{label} failed ({done.returncode}): {done.stderr}")


def _with_hyperfine(
    hyperfine: str, commands: Mapping[str, Sequence[str]], environment: dict[str, str]
) -> list[Timing]:
    with tempfile.TemporaryDirectory(prefix="cleverfox_bench_") as tmp:
        exported = Path(tmp) / "startup.json"
        args = [hyperfine, "-N", "--warmup", str(WARMUP), "--runs", str(RUNS), "--style", "basic"]
        args += ["--export-json", str(exported)]
        for label, command in commands.items():
            args += ["--command-name", label, shlex.join(command)]
        subprocess.run(args, env=environment, check=True, timeout=1800)  # noqa: S603
        results = json.loads(exported.read_text())["results"]
    return [
        Timing(label, tuple(command), r["median"], r["min"], r["max"], len(r["times"]))
        for (label, command), r in zip(commands.items(), results, strict=True)
    ]


def _by_hand(label: str, command: Sequence[str], environment: dict[str, str]) -> Timing:
    times: list[float] = []
    for number in range(WARMUP + RUNS):
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 - our own fixed command lines
            command, capture_output=True, env=environment, timeout=120, check=True
        )
        if number >= WARMUP:
            times.append(time.perf_counter() - started)
    return Timing(label, tuple(command), statistics.median(times), min(times), max(times), RUNS)


def _section(timings: Sequence[Timing], timer: str) -> str:
    floor = next(t for t in timings if t.label == FLOOR).median
    rows = [
        (
            f"`{t.label}`",
            f"{t.median * 1000:,.0f}",
            f"{t.low * 1000:,.0f}–{t.high * 1000:,.0f}",
            t.runs,
            f"{t.median / floor:.2f}",
        )
        for t in timings
    ]
    header = ("command (a fresh process each run)", "median ms", "min–max ms", "runs", "/ floor")
    return (
        f'Timed by {timer}, {WARMUP} warm-up runs each. The floor is `python -c "{FLOOR}"`. '
        "`companies list --help` isolates start-up (imports, no network); `companies list` "
        "adds one HTTPS request to a real server (production stack, SQLite, pinned "
        "certificate) started by the suite.\n\n" + report.table(header, rows)
    )
