"""The backup suite's results and their Markdown: a table per step, then the issue's targets.

Ratios are CleverFox's against the baselines of the same run: wall time over restic's, bytes
stored over borg's (zstd,3). A tool that could not run (not installed, the agent not built
yet) or failed part-way is a row that says so; the report is written whatever happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import report

MIB = 1 << 20
CLEVERFOX, RESTIC, BORG = "CleverFox", "restic", "borg"
FIRST, UNCHANGED, CHANGED, RESTORE = "first", "unchanged", "changed", "restore"
BACKUP_STEPS = (FIRST, UNCHANGED, CHANGED)
STEPS = (*BACKUP_STEPS, RESTORE)
STEP_TITLES = {
    FIRST: "First backup",
    UNCHANGED: "Unchanged re-run",
    CHANGED: "5 % of files changed",
    RESTORE: "Full restore into an empty folder",
}
TIME_TARGETS = {FIRST: 0.7, UNCHANGED: 0.5, CHANGED: 0.6, RESTORE: 0.65}  # × restic's
STORED_TARGET = 1.10  # × borg zstd,3, after the last backup
AGENT_RSS_TARGET = 100 * MIB


@dataclass(frozen=True)
class Step:
    """One measured step of one tool. Bytes stored: the repository after the step; uploaded:
    what the step added (``None`` where it means nothing, as for a restore)."""

    name: str
    seconds: float
    cpu_seconds: float
    peak_rss: int
    server_cpu_seconds: float | None = None
    server_peak_rss: int | None = None
    stored: int | None = None
    uploaded: int | None = None


@dataclass(frozen=True)
class ToolRun:
    """A tool's steps in order, and what stopped it when it did not do them all."""

    tool: str
    version: str
    commands: tuple[str, ...]
    steps: tuple[Step, ...] = ()
    problem: str | None = None  # "not available: …" or "failed at …: …"
    restore_check: str | None = None  # restored files and bytes against the corpus

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)


@dataclass(frozen=True)
class Setting:
    """What every tool ran on: the corpus, its change, and whether caches were dropped."""

    corpus: str  # "N files, X MiB at PATH (make_corpus.py --scale F)"
    change: str  # modify_corpus.py's summary line
    cold: bool
    warm_asked: bool = False  # --warm


def section(setting: Setting, runs: Sequence[ToolRun]) -> str:
    """The suite's Markdown: the setting, the tools, a table per step, the targets."""
    parts = [_setting(setting), _tools(runs)]
    parts += [_step_table(name, runs) for name in STEPS]
    parts.append(_targets(runs))
    return "\n\n".join(parts) + "\n"


def _setting(setting: Setting) -> str:
    if setting.cold:
        cache = "the page cache was dropped before every timed step (cold: every tool reads "
        cache += "from disk, its own program files included)"
    elif setting.warm_asked:
        cache = "the page cache was kept (`--warm`): every step ran warm"
    else:
        cache = "the page cache could not be dropped (not root): every step ran warm"
    return (
        f"Corpus: {setting.corpus}, copied afresh to the same path for each tool. Change: "
        f"`modify_corpus.py` in place on that copy ({setting.change}). Each step is one "
        f"process measured whole; {cache}. CPU: user + system seconds of the process tree "
        "(the larger of `wait4`'s and the sum over its processes sampled from `/proc`, "
        "which sees a forkserver's workers; the server's from `/proc`), steadier than "
        "wall time on a shared machine. Peak RSS, sampled from `/proc` every 0.1 s: the "
        "larger of the kernel's high-water mark (`VmHWM`) of one process and the largest sum "
        "of `VmRSS` over the process tree; the server's mark is reset at each step. Stored: "
        "the repository's files (apparent size; CleverFox: the server's `storage/` and its "
        "database). Uploaded: restic and borg, the repository's growth in the step; CleverFox, the "
        "Log's BytesUploaded."
    )


def _tools(runs: Sequence[ToolRun]) -> str:
    lines = ["Tools and command lines:", ""]
    for run in runs:
        version = f" ({run.version})" if run.version else ""
        commands = "; ".join(f"`{command}`" for command in run.commands)
        lines.append(f"- **{run.tool}**{version}: {commands}")
        if run.problem:
            lines.append(f"  - {run.problem}")
    return "\n".join(lines)


def _step_table(name: str, runs: Sequence[ToolRun]) -> str:
    backup = name in BACKUP_STEPS
    header = [
        "tool",
        "wall s",
        f"/ restic (target ≤ {TIME_TARGETS[name]:.2f})",
        "CPU s",
        "peak RSS MiB",
        "server CPU s",
        "server peak RSS MiB",
    ]
    if backup:
        header += ["uploaded MiB", "stored MiB", f"stored / borg (target ≤ {STORED_TARGET:.2f})"]
    restic, borg = _step_of(runs, RESTIC, name), _step_of(runs, BORG, name)
    rows = [_row(run, run.step(name), restic, borg, backup) for run in runs]
    text = f"### {STEP_TITLES[name]}\n\n" + report.table(header, rows)
    if name == RESTORE:
        checks = [f"{run.tool}: {run.restore_check}" for run in runs if run.restore_check]
        if checks:
            text += "\n\nRestored against the corpus: " + "; ".join(checks) + "."
    return text


def _row(
    run: ToolRun, step: Step | None, restic: Step | None, borg: Step | None, backup: bool
) -> list[str]:
    width = 9 if backup else 6
    if step is None:
        return [run.tool, *(["n/a"] * width)]
    row = [
        run.tool,
        f"{step.seconds:,.1f}",
        _ratio(step.seconds, restic.seconds if restic else None),
        f"{step.cpu_seconds:,.1f}",
        mib(step.peak_rss),
        "n/a" if step.server_cpu_seconds is None else f"{step.server_cpu_seconds:,.1f}",
        mib(step.server_peak_rss),
    ]
    if backup:
        borg_stored = borg.stored if borg else None
        row += [mib(step.uploaded), mib(step.stored), _ratio(step.stored, borg_stored)]
    return row


def _targets(runs: Sequence[ToolRun]) -> str:
    ours = next((run for run in runs if run.tool == CLEVERFOX), None)
    rows = []
    for name in STEPS:
        measured = _ratio_value(runs, name, "seconds", RESTIC)
        rows.append(
            _target_row(f"{STEP_TITLES[name]}: wall / restic", TIME_TARGETS[name], measured)
        )
    stored = _ratio_value(runs, CHANGED, "stored", BORG)
    rows.append(_target_row("Stored after the last backup / borg zstd,3", STORED_TARGET, stored))
    peaks = [step.peak_rss for step in ours.steps] if ours else []
    peak = max(peaks) / MIB if peaks else None
    rows.append(_target_row("Agent peak RSS, MiB (any step)", AGENT_RSS_TARGET / MIB, peak))
    text = "### Targets (issue 11)\n\n" + report.table(
        ("CleverFox", "target", "measured", "met"), rows
    )
    if ours is None or ours.problem:
        reason = ours.problem if ours and ours.problem else "not in --tools"
        text += f"\n\nCleverFox was not measured in full: {reason}."
    return text


def _target_row(label: str, target: float, measured: float | None) -> list[str]:
    if measured is None:
        return [label, f"≤ {target:.2f}", "not measured", "—"]
    met = "met" if measured <= target else "missed"
    return [label, f"≤ {target:.2f}", f"{measured:.2f}", met]


def _ratio_value(runs: Sequence[ToolRun], name: str, field: str, base: str) -> float | None:
    ours, theirs = _step_of(runs, CLEVERFOX, name), _step_of(runs, base, name)
    if ours is None or theirs is None:
        return None
    part, whole = getattr(ours, field), getattr(theirs, field)
    return part / whole if part is not None and whole else None


def _step_of(runs: Sequence[ToolRun], tool: str, name: str) -> Step | None:
    run = next((run for run in runs if run.tool == tool), None)
    return run.step(name) if run else None


def _ratio(part: float | None, whole: float | None) -> str:
    return "n/a" if part is None or not whole else f"{part / whole:.2f}"


def mib(value: int | None) -> str:
    """Bytes as MiB with one decimal; ``n/a`` for none."""
    return "n/a" if value is None else f"{value / MIB:,.1f}"
