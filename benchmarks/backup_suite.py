"""Issue 11's benchmark: the agent backing up a corpus, against restic and borg in the same run.

The corpus is built by the shared recipe (``shared/bench/make_corpus.py DIR --scale F``, found
in the nearest ``shared/bench/`` above the repository; ~1 GiB in ~50,000 files at scale 1).
For each tool in turn (``--tools``; CleverFox, restic, borg) the pristine corpus is copied to
the same path, and the tool runs four measured steps on it:

1. the first backup;
2. the same backup again, nothing changed;
3. after ``modify_corpus.py PATH 0.05`` changed 5 % of the files in place (the same files,
   the same bytes for every tool: it is seeded), the backup again;
4. a restore of that last backup into an empty folder, checked against the corpus (number
   of files and their bytes).

Each step reports wall time, peak RSS of the tool (and of the server for CleverFox), bytes
uploaded and bytes stored (``benchmarks.backup_measure``, ``benchmarks.backup_report``). A
tool that is missing, or fails, is reported as such and the others still run.

    .venv/bin/python -m benchmarks.run --suite backup --scale 0.05      # a quick run
    .venv/bin/python -m benchmarks.run --suite backup --output docs/benchmarks.md
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import backup_report
from benchmarks.backup_measure import StepFailed, drop_page_cache, folder_size
from benchmarks.backup_report import BACKUP_STEPS, MIB, Setting, Step, ToolRun
from benchmarks.backup_tools import Borg, Restic, Tool, Workspace
from benchmarks.measure import Options
from benchmarks.servers import REPO_ROOT

CHANGED_SHARE = "0.05"
MAKE_CORPUS, MODIFY_CORPUS = "make_corpus.py", "modify_corpus.py"


def run(options: Options) -> str:
    """Measure the tools of ``options.tools`` on one corpus; the Markdown section."""
    scripts = find_scripts(REPO_ROOT)
    if scripts is None:
        return f"Not run: no `shared/bench/{MAKE_CORPUS}` above {REPO_ROOT}.\n"
    with tempfile.TemporaryDirectory(prefix="cleverfox_bench_backup_") as tmp:
        root = Path(tmp)
        try:
            pristine, origin = _pristine(scripts, options, root)
        except (subprocess.CalledProcessError, OSError) as failed:
            return f"Not run: the corpus could not be built at {options.corpus}: {failed}.\n"
        work = Workspace(root, root / "corpus", cold=not options.warm and drop_page_cache())
        change = ""
        runs = []
        for tool in tools(options.tools):
            result, summary = run_tool(tool, work, pristine, scripts)
            change = change or summary
            runs.append(result)
        size = folder_size(pristine)
        corpus = (
            f"{size.files:,} files, {size.apparent / MIB:,.0f} MiB ({origin}) at `{work.corpus}`"
        )
    setting = Setting(corpus, change or "not run", work.cold, options.warm)
    return backup_report.section(setting, runs)


def tools(names: Sequence[str]) -> list[Tool]:
    """The tools named, in the order given."""
    from benchmarks.backup_cleverfox import CleverFox  # imports the server's code: only here

    known: dict[str, Tool] = {"cleverfox": CleverFox(), "restic": Restic(), "borg": Borg()}
    return [known[name] for name in names]


def find_scripts(start: Path) -> Path | None:
    """The nearest ``shared/bench/`` above ``start`` holding the corpus recipes."""
    for folder in (start, *start.parents):
        candidate = folder / "shared" / "bench"
        if (candidate / MAKE_CORPUS).is_file() and (candidate / MODIFY_CORPUS).is_file():
            return candidate
    return None


def _pristine(scripts: Path, options: Options, root: Path) -> tuple[Path, str]:
    """The corpus as built, and where it came from: ``--corpus`` reused when it holds
    files, else built (there, or in the run's folder)."""
    target = options.corpus or root / "pristine"
    if target.is_dir() and any(target.iterdir()):
        print(f"backup: reusing the corpus at {target}", flush=True)
        return target, f"reused from `{target}`"
    print(f"backup: building the corpus at {target} (scale {options.scale:g})", flush=True)
    command = [sys.executable, str(scripts / MAKE_CORPUS), str(target)]
    subprocess.run([*command, "--scale", str(options.scale)], check=True)  # noqa: S603
    return target, f"`{MAKE_CORPUS} --scale {options.scale:g}`"


def run_tool(tool: Tool, work: Workspace, pristine: Path, scripts: Path) -> tuple[ToolRun, str]:
    """All steps of ``tool`` on a fresh copy of the corpus; and the change's summary line."""
    missing = tool.missing()
    if missing:
        print(f"backup: {tool.name} not available: {missing}", flush=True)
        return ToolRun(tool.name, "", tool.commands(), problem=f"not available: {missing}"), ""
    _fresh_copy(pristine, work.corpus)
    steps: list[Step] = []
    change, check, problem, current = "", None, None, "setting up"
    try:
        with tool.session(work) as session:
            for name in BACKUP_STEPS:
                current = backup_report.STEP_TITLES[name].lower()
                if name == backup_report.CHANGED:
                    change = _modify(scripts, work.corpus)
                steps.append(_announce(tool.name, session.backup(name)))
            current = backup_report.STEP_TITLES[backup_report.RESTORE].lower()
            target = work.folder(f"restore-{tool.name}")
            steps.append(_announce(tool.name, session.restore(target)))
            check = restore_check(work.corpus, target)
            shutil.rmtree(target, ignore_errors=True)
    except StepFailed as failure:
        problem = f"failed at {current}: {failure}"
        print(f"backup: {tool.name} {problem}", flush=True)
    run = ToolRun(tool.name, tool.version(), tool.commands(), tuple(steps), problem, check)
    return run, change


def _fresh_copy(pristine: Path, corpus: Path) -> None:
    """The pristine corpus at ``corpus`` again, times kept (a tool sees the files as built)."""
    shutil.rmtree(corpus, ignore_errors=True)
    shutil.copytree(pristine, corpus, symlinks=True)


def _modify(scripts: Path, corpus: Path) -> str:
    done = subprocess.run(  # noqa: S603 - the shared recipe
        [sys.executable, str(scripts / MODIFY_CORPUS), str(corpus), CHANGED_SHARE],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no output)"]
        raise StepFailed(f"{MODIFY_CORPUS} exited {done.returncode}: {lines[-1][:300]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "no summary"


def restore_check(corpus: Path, restored: Path) -> str:
    """Whether ``restored`` holds as many files and bytes as ``corpus``, in words."""
    want, got = folder_size(corpus), folder_size(restored)
    verdict = "match" if (want.files, want.apparent) == (got.files, got.apparent) else "DIFFER"
    return (
        f"{got.files:,} files, {got.apparent:,} bytes against {want.files:,} and "
        f"{want.apparent:,} ({verdict})"
    )


def _announce(tool: str, step: Step) -> Step:
    print(
        f"backup: {tool:9} {step.name:9} {step.seconds:8.1f} s  "
        f"peak {backup_report.mib(step.peak_rss):>8} MiB  "
        f"stored {backup_report.mib(step.stored):>9} MiB",
        flush=True,
    )
    return step
