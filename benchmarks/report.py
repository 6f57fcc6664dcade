"""The results document: facts about a run, tables, and the marked sections suites own.

Each suite writes only its own section, between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->``; everything outside the markers (the analysis people write) is kept,
so running one suite never erases another's results or the prose around them.
"""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sqlite3
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "psycopg",
    "orjson",
)
SKELETON = """# Benchmarks

Run with `make bench` (all suites) or `.venv/bin/python -m benchmarks.run --help`.
Each section below is rewritten by its suite; text outside the marked sections is kept.
"""


def replace_section(path: Path, name: str, body: str) -> None:
    """Put ``body`` between the markers of section ``name`` (appended if it has none yet)."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text() if path.exists() else SKELETON
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join([" --- "] + [" ---: "] * (len(header) - 1)) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def run_facts(command: Sequence[str], load_generator: str, extra: Sequence[str] = ()) -> str:
    """When, how and on what a suite ran, as a bullet list."""
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        f"- Date: {now}",
        f"- Command: `{shlex.join(command)}`",
        f"- Machine: {os.cpu_count()} cores (nproc), {_cpu_model()}, {_memory()}; "
        f"load average at start {load} (a shared machine: other work ran alongside)",
        f"- Python {platform.python_version()} ({sys.implementation.name}), "
        f"SQLite {sqlite3.sqlite_version}; {versions}",
        f"- Load generator: {load_generator}",
        *extra,
    ]
    return "\n".join(lines)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "CPU model unknown"


def _memory() -> str:
    try:
        first = Path("/proc/meminfo").read_text().splitlines()[0]
        return f"{int(first.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except (OSError, IndexError, ValueError):
        return "memory unknown"
