"""``python -m benchmarks.run``: run benchmark suites and write their results document.

``make bench`` runs ``python -m benchmarks.run --output docs/benchmarks.md``, which runs the
suites of ``all``: ``api`` and ``stacks`` (issue 2), ``logs`` (issue 3, ``benchmarks.logs``),
``sdk`` (issue 4), ``startup`` (issue 9) and ``backup`` (issue 11: the agent against restic and
borg; ``--scale``, ``--corpus``, ``--tools`` and ``--warm`` are its options). ``profile``
(py-spy) runs only when asked for. Each suite rewrites only its own section of the output
(see ``benchmarks.report``), headed by the date, the command and the machine.

Adding a suite: write a module with ``run(options: Options) -> str`` returning its Markdown
section, and name it in ``SUITES``. Suites are imported only when they run, so one suite's
imports cannot break another.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from benchmarks import load, report
from benchmarks.measure import Options

Suite = Callable[[Options], str]

SUITES: dict[str, str | None] = {
    "api": "benchmarks.api_suite:run",
    "stacks": "benchmarks.stacks_suite:run",
    "logs": "benchmarks.logs:run",  # issue 3: 1,000,000 Logs over 10,000 devices, check-ins
    "sdk": "benchmarks.sdk_listing:run",  # issue 4: 100,000 Logs through the SDK vs raw httpx
    "profile": "benchmarks.profile_suite:run",
    "startup": "benchmarks.startup_suite:run",  # issue 9: the command line's start-up
    "downloads": "benchmarks.storage_download:run",  # issue 10: a 1 GiB download vs cat
    "presenters": "benchmarks.presenters_suite:run",  # issue 9: one presenter per resource
    "backup": "benchmarks.backup_suite:run",  # issue 11: agent vs restic and borg
}
ALL = ("api", "stacks", "logs", "sdk", "startup", "downloads", "presenters", "backup")
TITLES = {
    "api": "API: companies against the ceiling (issue 2)",
    "stacks": "Server stacks (issue 2)",
    "logs": "Logs and agent check-ins (issue 3)",
    "sdk": "SDK: listing Logs (issue 4)",
    "profile": "Profile of GET one company",
    "startup": "Command line start-up (issue 9)",
    "downloads": "Storage: downloading a backup file (issue 10)",
    "presenters": "Presenters: pages of 100 with their embedded objects (issue 9)",
    "backup": "Backup: the agent against restic and borg (issue 11)",
}
TOOLS = ("cleverfox", "restic", "borg")  # the backup suite's, in the order they run
CLIENTS = {
    "sdk": "none: this process is the client measured",
    "startup": "none: each command is a process started and timed whole",
    "downloads": "httpx, one streamed download",
    "presenters": "none: measured in process, on the server's database",
    "backup": "none: each backup tool is a process started and measured whole",
}  # suites that bring their own


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    generator = load.choose(args.loadgen)
    options = Options(
        seconds=args.seconds,
        rounds=args.rounds,
        warmup=args.warmup,
        postgres_url=args.postgres_url,
        engines=tuple(args.engines.split(",")),
        generator=generator,
        scale=args.scale,
        corpus=args.corpus,
        tools=args.tools,
        warm=args.warm,
    )
    names = ALL if args.suite == "all" else (args.suite,)
    command = ["python", "-m", "benchmarks.run", *(sys.argv[1:] if argv is None else argv)]
    for name in names:
        _run_suite(name, options, command, args.output)
    return 0


def _run_suite(name: str, options: Options, command: list[str], output: Path | None) -> None:
    where = SUITES[name]
    if where is None:
        print(f"suite {name}: not written yet, skipped", flush=True)
        return
    suite = _load(where)
    facts = report.run_facts(command, CLIENTS.get(name, options.generator.name))
    started = time.monotonic()
    body = suite(options)
    elapsed = f"- Suite wall time: {time.monotonic() - started:.0f} s"
    section = f"## {TITLES[name]}\n\n{facts}\n{elapsed}\n\n{body}"
    if output is None:
        print(section)
    else:
        report.replace_section(output, name, section)
        print(f"suite {name}: written to {output}", flush=True)


def _load(where: str) -> Suite:
    module, _, function = where.partition(":")
    return cast(Suite, getattr(importlib.import_module(module), function))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--suite", choices=(*SUITES, "all"), default="all")
    parser.add_argument("--output", type=Path, help="results document (default: print)")
    parser.add_argument("--seconds", type=float, default=2.0, help="one measured slice")
    parser.add_argument("--rounds", type=int, default=3, help="slices per cell, interleaved")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up per cell")
    parser.add_argument(
        "--engines", default="sqlite,postgresql", help="comma list for the api suite"
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432",
        help="PostgreSQL server; a database cleverfox_bench_<random> is made and dropped",
    )
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when installed (apt-get install wrk), else benchmarks.loadgen",
    )
    backup = parser.add_argument_group("backup suite")
    backup.add_argument(
        "--scale", type=_scale, default=1.0, help="corpus size (1: ~1 GiB, 0.05: a quick run)"
    )
    backup.add_argument(
        "--corpus",
        type=Path,
        help="keep the corpus here: built when missing, reused as it is when present",
    )
    backup.add_argument(
        "--tools",
        type=_tools,
        default=("cleverfox", "restic", "borg"),
        help="comma list of cleverfox, restic, borg (default: all three)",
    )
    backup.add_argument(
        "--warm",
        action="store_true",
        help="keep the page cache between steps (default: drop it before each, when root)",
    )
    return parser


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.001 <= value <= 10:
        raise argparse.ArgumentTypeError(f"scale must be between 0.001 and 10, not {text}")
    return value


def _tools(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip().lower() for name in text.split(",") if name.strip()))
    unknown = [name for name in names if name not in TOOLS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown tool {', '.join(unknown) or '(none given)'}; choose from {', '.join(TOOLS)}"
        )
    return names


if __name__ == "__main__":
    sys.exit(main())
