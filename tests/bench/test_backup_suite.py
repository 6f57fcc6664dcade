"""The backup suite without the long run: its options, what it measures of a real process and
a real folder, a tool that is missing, and restic and borg on a tiny corpus."""

from __future__ import annotations

import os
import random
import shutil
import sys
from pathlib import Path

import pytest
from benchmarks import backup_cleverfox, backup_suite, load, run
from benchmarks.backup_measure import StepFailed, folder_size, run_measured
from benchmarks.backup_report import BORG, MIB, RESTIC, STEPS
from benchmarks.backup_tools import Borg, Restic, Tool, Workspace
from benchmarks.measure import Options
from benchmarks.servers import REPO_ROOT

from cleverfox.client import Client
from tests.support.server import Partner, ServerProcess

pytestmark = pytest.mark.sqlite_only  # no database: once is enough

SCRIPTS = backup_suite.find_scripts(REPO_ROOT)


# ---- options ---------------------------------------------------------------------------


def test_backup_options_reach_the_suite() -> None:
    args = run._parser().parse_args(
        ["--suite", "backup", "--scale", "0.05", "--corpus", "/tmp/c", "--tools", "Restic,borg"]
    )
    assert (args.suite, args.scale, args.corpus, args.tools) == (
        "backup",
        0.05,
        Path("/tmp/c"),
        ("restic", "borg"),
    )
    assert "backup" in run.ALL and run.SUITES["backup"] == "benchmarks.backup_suite:run"


def test_backup_options_default_to_every_tool_on_the_full_corpus() -> None:
    args = run._parser().parse_args(["--suite", "backup"])
    assert (args.scale, args.corpus, args.tools, args.warm) == (
        1.0,
        None,
        ("cleverfox", "restic", "borg"),
        False,
    )
    assert run._parser().parse_args(["--suite", "backup", "--warm"]).warm is True


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        (["--scale", "fast"], "not a number: 'fast'"),
        (["--scale", "0"], "scale must be between 0.001 and 10, not 0"),
        (["--scale", "nan"], "scale must be between"),
        (["--tools", "restic,tar"], "unknown tool tar; choose from cleverfox, restic, borg"),
        (["--tools", ","], "unknown tool (none given)"),
    ],
)
def test_bad_backup_options_are_one_clear_line(
    argument: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run._parser().parse_args(["--suite", "backup", *argument])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


# ---- measuring -------------------------------------------------------------------------


def test_peak_rss_of_a_real_process(tmp_path: Path) -> None:
    grow = (
        "b = bytearray(96 << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(0.5)"
    )
    measured = run_measured(
        [sys.executable, "-c", grow], environment=dict(os.environ), log=tmp_path / "grow.log"
    )
    assert 96 * MIB <= measured.peak_rss < 200 * MIB
    assert 0.5 <= measured.seconds < 30
    assert 0 < measured.cpu_seconds < measured.seconds  # it slept most of the time


def test_cpu_counts_the_children_a_tool_waits_for(tmp_path: Path) -> None:
    spin = "import time; end = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])"
    measured = run_measured(
        [sys.executable, "-c", parent], environment=dict(os.environ), log=tmp_path / "cpu.log"
    )
    assert measured.cpu_seconds >= 0.4


def test_peak_rss_counts_the_worker_processes_of_a_tool(tmp_path: Path) -> None:
    # Two children of 64 MiB each, alive at once: the tree's sum, not one process's peak.
    child = "b = bytearray(64 << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(1)"
    parent = (
        "import subprocess, sys\n"
        f"ps = [subprocess.Popen([sys.executable, '-c', {child!r}]) for _ in range(2)]\n"
        "[p.wait() for p in ps]\n"
    )
    measured = run_measured(
        [sys.executable, "-c", parent], environment=dict(os.environ), log=tmp_path / "tree.log"
    )
    assert measured.peak_rss >= 128 * MIB


def test_a_failing_command_is_a_step_failure_with_its_last_line(tmp_path: Path) -> None:
    failing = "import sys; print('working'); sys.exit('repository is locked')"
    with pytest.raises(StepFailed, match=r"exited 1: repository is locked$"):
        run_measured(
            [sys.executable, "-c", failing], environment=dict(os.environ), log=tmp_path / "f.log"
        )
    assert (tmp_path / "f.log").read_text() == "working\n"


def test_folder_size_counts_regular_files_not_links(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_bytes(b"x" * 5000)
    (tmp_path / "two").write_bytes(b"y" * 10)
    (tmp_path / "link").symlink_to(tmp_path / "two")
    size = folder_size(tmp_path, tmp_path / "missing")
    assert (size.files, size.apparent) == (2, 5010)
    assert size.allocated >= 4096


def test_restore_check_compares_files_and_bytes(tmp_path: Path) -> None:
    corpus, restored = tmp_path / "corpus", tmp_path / "restored" / "deep"
    for root in (corpus, restored):
        root.mkdir(parents=True)
        (root / "f").write_bytes(b"abc")
    assert backup_suite.restore_check(corpus, tmp_path / "restored").endswith("(match)")
    (restored / "f").write_bytes(b"ab")
    assert backup_suite.restore_check(corpus, tmp_path / "restored").endswith("(DIFFER)")


def test_scripts_are_found_in_the_nearest_shared_bench_above(tmp_path: Path) -> None:
    bench = tmp_path / "shared" / "bench"
    bench.mkdir(parents=True)
    repo = tmp_path / "wt" / "branch"
    repo.mkdir(parents=True)
    (bench / "make_corpus.py").write_text("")
    assert backup_suite.find_scripts(repo) != bench  # modify_corpus.py is missing
    (bench / "modify_corpus.py").write_text("")
    assert backup_suite.find_scripts(repo) == bench


# ---- tools that are missing ------------------------------------------------------------


def test_a_tool_not_installed_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert Restic().missing() == (
        "`restic` is not installed (`make bench` installs Debian's `restic`)"
    )
    assert Borg().missing() == (
        "`borg` is not installed (`make bench` installs Debian's `borgbackup`)"
    )


def _fake_cleverfox(tmp_path: Path, known: str) -> tuple[str, ...]:
    """A ``cleverfox`` whose ``agent`` group knows only the subcommands in ``known``."""
    script = tmp_path / "cleverfox"
    script.write_text(
        "import sys\n"
        f"known = {known.split()!r}\n"
        "args = sys.argv[1:-1]  # the last one is --help\n"
        "ok = args[:1] == ['agent'] and (len(args) == 1 or args[1] in known)\n"
        "sys.exit(0 if ok else 2)\n"
    )
    return (sys.executable, str(script))


def test_cleverfox_is_not_available_without_the_agent_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_cleverfox, "cleverfox_command", lambda: ("/nonexistent/cleverfox",))
    assert backup_cleverfox.CleverFox().missing() == (
        "`cleverfox agent` is not available in this build yet"
    )
    fake = _fake_cleverfox(tmp_path, "enrol backup")
    monkeypatch.setattr(backup_cleverfox, "cleverfox_command", lambda: fake)
    assert backup_cleverfox.CleverFox().missing() == (
        "`cleverfox agent restore` is not available in this build yet"
    )
    fake = _fake_cleverfox(tmp_path, "enrol backup restore")
    monkeypatch.setattr(backup_cleverfox, "cleverfox_command", lambda: fake)
    assert backup_cleverfox.CleverFox().missing() is None


def test_a_missing_tool_is_reported_and_nothing_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    work = Workspace(tmp_path, tmp_path / "corpus", cold=False)
    result, change = backup_suite.run_tool(Restic(), work, tmp_path / "pristine", tmp_path)
    assert result.problem and result.problem.startswith("not available: `restic`")
    assert (result.steps, change) == ((), "")
    assert not work.corpus.exists()


# ---- restic and borg on a tiny corpus --------------------------------------------------


def _tiny_corpus(path: Path) -> None:
    rng = random.Random(1)
    for number in range(40):
        folder = path / f"d{number % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{number}.bin").write_bytes(rng.randbytes(rng.randrange(1, 40_000)))
        (folder / f"f{number}.txt").write_text(f"line {number}\n" * rng.randrange(1, 2000))


@pytest.mark.skipif(SCRIPTS is None, reason="no shared/bench/ above the repository")
@pytest.mark.parametrize("tool", [Restic(), Borg()], ids=[RESTIC, BORG])
def test_a_baseline_runs_every_step_and_restores_the_changed_corpus(
    tool: Tool, tmp_path: Path
) -> None:
    if tool.missing():
        pytest.skip(str(tool.missing()))
    assert SCRIPTS is not None
    pristine = tmp_path / "pristine"
    _tiny_corpus(pristine)
    work = Workspace(tmp_path, tmp_path / "corpus", cold=False)

    result, change = backup_suite.run_tool(tool, work, pristine, SCRIPTS)

    assert result.problem is None
    assert [step.name for step in result.steps] == list(STEPS)
    first, unchanged, changed, restore = result.steps
    assert first.stored and first.uploaded and 0 < first.uploaded <= first.stored
    assert unchanged.uploaded is not None and unchanged.uploaded < first.uploaded
    assert changed.stored and changed.stored > first.stored
    assert restore.uploaded is None and all(step.peak_rss > MIB for step in result.steps)
    assert change.startswith("files=80 modified=4 ")
    assert result.restore_check and result.restore_check.endswith("(match)")
    assert not (tmp_path / f"repo-{tool.name}").exists()  # removed after the run
    shutil.rmtree(work.corpus)


# ---- the CleverFox half's setup, against a real server ---------------------------------


def test_the_benchmark_job_is_made_through_the_api(
    server: ServerProcess, partner: Partner, tmp_path: Path
) -> None:
    with Client(server.url, partner.api_key, fingerprint=server.fingerprint) as client:
        device = backup_cleverfox._provision(client, partner.partner_id, tmp_path)

        job = client.jobs.get(device.job_id)
        (item,) = client.job_items.list(job_id=device.job_id)
        made = client.devices.get(device.device_id)
    assert (job.device_id, job.cloud_keep_last, job.local_keep_last) == (device.device_id, 10, 0)
    assert (item.backup_type_id, item.base_folder, item.include_sub_folders) == (
        1,
        str(tmp_path),
        True,
    )
    assert item.search_patterns == "*"
    assert device.api_key == made.api_key and len(device.api_key) > 20


def test_a_corpus_that_cannot_be_built_is_a_sentence(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    options = Options(
        seconds=1,
        rounds=1,
        warmup=0,
        postgres_url="",
        engines=(),
        generator=load.choose("python"),
        corpus=blocked / "corpus",
        tools=("restic",),
    )
    if SCRIPTS is None:
        pytest.skip("no shared/bench/ above the repository")
    text = backup_suite.run(options)
    assert text.startswith(f"Not run: the corpus could not be built at {blocked / 'corpus'}: ")


def test_cpu_counts_workers_nobody_waits_for(tmp_path: Path) -> None:
    # A forkserver's workers are its children, not the tool's: wait4 never sees their CPU.
    script = (
        "import multiprocessing as mp, time\n"
        "def spin(_):\n"
        "    end = time.process_time() + 0.5\n"
        "    while time.process_time() < end: pass\n"
        "if __name__ == '__main__':\n"
        "    with mp.get_context('forkserver').Pool(2) as pool: pool.map(spin, range(2))\n"
    )
    (tmp_path / "workers.py").write_text(script)
    measured = run_measured(
        [sys.executable, str(tmp_path / "workers.py")],
        environment=dict(os.environ),
        log=tmp_path / "workers.log",
    )
    assert measured.cpu_seconds >= 0.8
