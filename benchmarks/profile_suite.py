"""Where a request's time goes: py-spy samples of the server under load.

``py-spy record --gil`` samples only the thread holding the GIL, so the shares below are the
server's CPU, not threads waiting for work. The server is the production stack on SQLite;
the load is 8 keep-alive clients. py-spy is not a project dependency:
``.venv/bin/pip install py-spy`` (it needs ptrace, e.g. root).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import report, servers
from benchmarks.load import Target
from benchmarks.measure import CEILING, GET_ONE, Options, targets

CONNECTIONS = 8
SAMPLE_RATE = 250
TOP = 12
LAYERS = (
    ("cleverfox/", "CleverFox code"),
    ("sqlalchemy/", "SQLAlchemy"),
    ("fastapi/", "FastAPI + Starlette"),
    ("starlette/", "FastAPI + Starlette"),
    ("pydantic", "FastAPI + Starlette"),
    ("uvicorn/", "uvicorn + TLS + HTTP"),
    ("ssl.py", "uvicorn + TLS + HTTP"),
    ("asyncio/", "event loop"),
    ("anyio/", "thread hand-offs (anyio, threading, queue)"),
    ("threading.py", "thread hand-offs (anyio, threading, queue)"),
    ("queue.py", "thread hand-offs (anyio, threading, queue)"),
    ("concurrent/", "thread hand-offs (anyio, threading, queue)"),
)


@dataclass
class Profile:
    """Samples per frame: where the CPU was (self) and what was on the stack (inclusive)."""

    total: int = 0
    own: Counter[str] = field(default_factory=Counter)
    inclusive: Counter[str] = field(default_factory=Counter)
    layers: Counter[str] = field(default_factory=Counter)


def py_spy() -> str | None:
    beside_python = Path(sys.executable).parent / "py-spy"
    return str(beside_python) if beside_python.exists() else shutil.which("py-spy")


def run(options: Options) -> str:
    """Profile the ceiling and GET one company; the Markdown section of the results."""
    executable = py_spy()
    if executable is None:
        raise SystemExit("profile suite: py-spy not found (.venv/bin/pip install py-spy)")
    profiles: dict[str, Profile] = {}
    with servers.sqlite_engine() as engine, servers.running(servers.UVICORN, engine) as server:
        partner = servers.new_partner(engine)
        for name in (CEILING, GET_ONE):
            print(f"profile suite: {name}", flush=True)
            profiles[name] = _profile(executable, options, server, name, targets(partner)[name])
    return _section(profiles)


def _profile(
    executable: str, options: Options, server: servers.RunningServer, name: str, target: Target
) -> Profile:
    with tempfile.TemporaryDirectory(prefix="cleverfox_pyspy_") as tmp:
        output = Path(tmp) / "samples.txt"
        seconds = max(1, round(options.seconds * options.rounds))
        options.generator.measure(server.url, target, CONNECTIONS, options.warmup)  # warm-up
        command = [executable, "record", "--gil", "--nonblocking", "-f", "raw"]
        command += ["-r", str(SAMPLE_RATE), "-d", str(seconds)]
        command += ["-o", str(output), "-p", str(server.process.pid)]
        sampler = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        measured = options.generator.measure(server.url, target, CONNECTIONS, seconds)
        sampler.wait(timeout=seconds + 60)
        print(f"  {name}: {measured.requests_per_second:.0f} req/s while sampled", flush=True)
        return _read(output)


def _read(path: Path) -> Profile:
    profile = Profile()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [_frame(text) for text in stack.split(";")]
        profile.total += int(count)
        profile.own[frames[-1]] += int(count)
        profile.layers[_layer(frames[-1])] += int(count)
        for frame in set(frames):
            profile.inclusive[frame] += int(count)
    return profile


def _frame(text: str) -> str:
    """``func (path:line)`` without the line number."""
    name, _, where = text.partition(" (")
    return f"{name} ({where.rpartition(':')[0] or where.rstrip(')')})"


def _is_request_code(frame: str) -> bool:
    """Our frames that a request passes through (not the runner under the event loop)."""
    return "cleverfox/" in frame and "cleverfox/server/runner.py" not in frame


def _layer(frame: str) -> str:
    for marker, layer in LAYERS:
        if marker in frame:
            return layer
    return "other (interpreter, C extensions)"


def _section(profiles: dict[str, Profile]) -> str:
    ceiling, get_one = profiles[CEILING], profiles[GET_ONE]
    ours = Counter({f: n for f, n in get_one.inclusive.items() if _is_request_code(f)})
    return "\n\n".join(
        [
            f"py-spy `record --gil` at {SAMPLE_RATE} Hz, {CONNECTIONS} clients, SQLite, "
            "production stack. Shares are of the samples in which the server held the GIL.",
            "#### CPU by layer (self time of the innermost Python frame)",
            _layer_table(ceiling, get_one),
            "#### GET one company: CleverFox frames, inclusive",
            _frame_table(ours, get_one.total),
            "#### GET one company: hottest frames, self time",
            _frame_table(get_one.own, get_one.total),
        ]
    )


def _layer_table(ceiling: Profile, get_one: Profile) -> str:
    layers = sorted(set(ceiling.layers) | set(get_one.layers), key=lambda k: -get_one.layers[k])
    rows = [
        (
            layer,
            _share(ceiling.layers[layer], ceiling.total),
            _share(get_one.layers[layer], get_one.total),
        )
        for layer in layers
    ]
    return report.table(("Layer", "Ceiling", "GET one company"), rows)


def _frame_table(counts: Counter[str], total: int) -> str:
    rows = [(f"`{frame}`", _share(n, total)) for frame, n in counts.most_common(TOP)]
    return report.table(("Frame", "Share of samples"), rows)


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "n/a"
