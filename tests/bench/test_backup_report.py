"""The backup suite's Markdown from sample numbers: ratios to restic and borg, the targets,
and the rows of tools that could not run."""

from __future__ import annotations

from benchmarks.backup_report import (
    BORG,
    CLEVERFOX,
    MIB,
    RESTIC,
    Setting,
    Step,
    ToolRun,
    section,
)

SETTING = Setting("3,010 files, 228 MiB at `/tmp/x/corpus`", "files=3010 modified=150", cold=True)


def _run(tool: str, seconds: tuple[float, float, float, float], stored: int, rss: int) -> ToolRun:
    first, unchanged, changed, restore = seconds
    steps = (
        Step("first", first, first / 2, rss, 3.0, 200 * MIB, stored, stored),
        Step("unchanged", unchanged, unchanged / 2, rss, 0.5, 150 * MIB, stored, 0),
        Step("changed", changed, changed / 2, rss, 1.0, 150 * MIB, stored + MIB, MIB),
        Step("restore", restore, restore / 2, rss, 2.5, 120 * MIB, stored + MIB, None),
    )
    return ToolRun(tool, f"{tool} 1.0", (f"{tool} backup CORPUS",), steps, None, "match")


def _table_row(text: str, title: str, tool: str) -> list[str]:
    """The cells of ``tool``'s row in the table under ``### title``."""
    table = text.split(f"### {title}\n\n", 1)[1].split("\n\n", 1)[0]
    row = next(line for line in table.splitlines() if line.startswith(f"| {tool} "))
    return [cell.strip() for cell in row.strip("|").split("|")]


RESTIC_RUN = _run(RESTIC, (10.0, 2.0, 4.0, 8.0), 100 * MIB, 90 * MIB)
BORG_RUN = _run(BORG, (12.0, 2.5, 5.0, 9.0), 80 * MIB, 110 * MIB)


def test_ratios_are_against_restic_for_time_and_borg_for_stored() -> None:
    ours = _run(CLEVERFOX, (5.0, 1.5, 2.0, 5.0), 84 * MIB, 60 * MIB)
    text = section(SETTING, [ours, RESTIC_RUN, BORG_RUN])

    first = _table_row(text, "First backup", CLEVERFOX)
    assert first[:3] == [CLEVERFOX, "5.0", "0.50"]
    assert first[3:7] == ["2.5", "60.0", "3.0", "200.0"]  # CPU s, RSS MiB: agent, server
    assert first[7:] == ["84.0", "84.0", "1.05"]  # uploaded, stored, stored / borg
    assert _table_row(text, "First backup", BORG)[2] == "1.20"
    assert _table_row(text, "First backup", RESTIC)[2] == "1.00"
    assert _table_row(text, "Full restore into an empty folder", CLEVERFOX)[2] == "0.62"
    assert "/ restic (target ≤ 0.70)" in text
    assert "stored / borg (target ≤ 1.10)" in text


def test_targets_say_met_and_missed() -> None:
    ours = _run(CLEVERFOX, (5.0, 1.5, 2.0, 5.0), 84 * MIB, 120 * MIB)
    text = section(SETTING, [ours, RESTIC_RUN, BORG_RUN])
    targets = text.split("### Targets (issue 11)", 1)[1]

    assert "| First backup: wall / restic | ≤ 0.70 | 0.50 | met |" in targets
    # 1.5 / 2.0 = 0.75 against ≤ 0.50
    assert "| Unchanged re-run: wall / restic | ≤ 0.50 | 0.75 | missed |" in targets
    # after the change: (84 + 1) / (80 + 1) MiB
    assert "| Stored after the last backup / borg zstd,3 | ≤ 1.10 | 1.05 | met |" in targets
    assert "| Agent peak RSS, MiB (any step) | ≤ 100.00 | 120.00 | missed |" in targets
    assert "not measured in full" not in text


def test_a_tool_not_available_is_a_row_that_says_so() -> None:
    missing = ToolRun(CLEVERFOX, "", ("cleverfox agent backup JOB_ID",), problem="not available: x")
    text = section(SETTING, [missing, RESTIC_RUN, BORG_RUN])

    assert _table_row(text, "First backup", CLEVERFOX) == [CLEVERFOX, *["n/a"] * 9]
    assert _table_row(text, "Full restore into an empty folder", CLEVERFOX) == [
        CLEVERFOX,
        *["n/a"] * 6,
    ]
    assert "| First backup: wall / restic | ≤ 0.70 | not measured | — |" in text
    assert "CleverFox was not measured in full: not available: x." in text
    assert "  - not available: x" in text  # under the tool's command lines


def test_a_failure_part_way_keeps_the_steps_done() -> None:
    partial = ToolRun(
        RESTIC,
        "restic 0.14.0",
        ("restic backup CORPUS",),
        RESTIC_RUN.steps[:1],
        problem="failed at unchanged re-run: restic exited 1: boom",
    )
    text = section(SETTING, [partial])

    assert _table_row(text, "First backup", RESTIC)[:3] == [RESTIC, "10.0", "1.00"]
    assert _table_row(text, "Unchanged re-run", RESTIC)[1] == "n/a"
    assert "failed at unchanged re-run: restic exited 1: boom" in text
    assert "CleverFox was not measured in full: not in --tools." in text


def test_warm_runs_are_stated() -> None:
    not_root = Setting("a corpus", "a change", cold=False)
    assert "could not be dropped (not root): every step ran warm" in section(not_root, [])
    asked = Setting("a corpus", "a change", cold=False, warm_asked=True)
    assert "the page cache was kept (`--warm`): every step ran warm" in section(asked, [])
    assert "the page cache was dropped before every timed step" in section(SETTING, [RESTIC_RUN])
