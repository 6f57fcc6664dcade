"""A folder tree backed up by a real agent process, changed, backed up again, downloaded
through the Log Item's URL and opened with stock ``unzip`` and bsdtar, and restored."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest

from cleverfox.server.kit.datetimes import utcnow
from tests.contract._fixtures_devices import wall
from tests.e2e.conftest import (
    AgentCli,
    MakeJob,
    change_some,
    download,
    log_of,
    make_tree,
    read_tree,
)
from tests.support.server import Partner

MiB = 1 << 20


def backed_up(agent: AgentCli, job_id: int) -> dict[str, Any]:
    """``agent backup JOB --json``: the one run's report, which must have completed."""
    done = agent.ok("backup", str(job_id), "--json")
    [run] = json.loads(done.stdout)
    assert run["Status"] == "Completed", run
    return dict(run)


def only_item(log: dict[str, Any]) -> dict[str, Any]:
    [item] = log["LogItems"]
    return dict(item)


def unzip_files(archive: Path, names: list[str]) -> dict[str, bytes]:
    """Each name's content as stock ``unzip -p`` prints it."""
    return {
        name: subprocess.run(
            ["unzip", "-p", str(archive), name], capture_output=True, check=True
        ).stdout
        for name in names
    }


def test_a_tree_backed_up_changed_and_backed_up_again(
    agent: AgentCli, file_job: MakeJob, partner: Partner, tree_root: Path, tmp_path: Path
) -> None:
    tree = make_tree(tree_root)
    job = file_job(tree_root)
    first = backed_up(agent, job["JobId"])
    log = log_of(partner, first["LogId"])
    assert log["JobStatus"] == "Completed" and log["Trigger"] == "RunNow"
    item = only_item(log)
    assert item["BackupListCount"] == len(tree)
    total = sum(len(content) for content in tree.values())
    assert first["BytesUploaded"] > total // 4  # text compresses; random bytes do not

    archive = tmp_path / "first.zip"
    archive.write_bytes(download(partner, item["LogItemId"]))
    assert archive.stat().st_size == item["BackupFileSize"]
    tested = subprocess.run(["unzip", "-t", str(archive)], capture_output=True, text=True)
    assert tested.returncode == 0 and "No errors detected" in tested.stdout, tested.stdout
    assert unzip_files(archive, sorted(tree)) == tree

    changed = change_some(tree_root, tree)
    second = backed_up(agent, job["JobId"])
    # Only the chunks around each change travel: a few chunks (≤ ~4 MiB each, most files
    # are one chunk) of the 5 % of files that changed, far from the whole tree.
    assert changed <= second["BytesUploaded"] < total * 0.2, (changed, second, total)
    assert log_of(partner, second["LogId"])["BytesUploaded"] == second["BytesUploaded"]

    unchanged = backed_up(agent, job["JobId"])
    assert unchanged["BytesUploaded"] == 0

    item = only_item(log_of(partner, second["LogId"]))
    latest = download(partner, item["LogItemId"])
    with zipfile.ZipFile(BytesIO(latest)) as opened:
        assert opened.testzip() is None
        assert {name: opened.read(name) for name in opened.namelist()} == tree


@pytest.mark.skipif(shutil.which("bsdtar") is None, reason="no bsdtar on this machine")
def test_the_download_opens_with_bsdtar_and_restore_gives_the_same_bytes(
    agent: AgentCli, file_job: MakeJob, partner: Partner, tree_root: Path, tmp_path: Path
) -> None:
    tree = make_tree(tree_root, files=30, seed=11)
    (tree_root / "empty.txt").write_bytes(b"")
    (tree_root / "photo.jpg").write_bytes(b"\xff\xd8" + bytes(range(256)) * 64)
    tree = read_tree(tree_root)
    job = file_job(tree_root, item={"NoCompressExtensions": "jpg"})
    item = only_item(log_of(partner, backed_up(agent, job["JobId"])["LogId"]))

    archive = tmp_path / "backup.zip"
    archive.write_bytes(download(partner, item["LogItemId"]))
    extracted = tmp_path / "bsdtar"
    extracted.mkdir()
    subprocess.run(["bsdtar", "-xf", str(archive), "-C", str(extracted)], check=True)
    assert read_tree(extracted) == tree

    listing = download(partner, item["LogItemId"], "backuplist").decode()
    assert len(listing.splitlines()) == len(tree) + 1  # a header line, then one per file

    restored = tmp_path / "restored"
    done = agent.ok("restore", str(item["LogItemId"]), "--to", str(restored), "--json")
    assert json.loads(done.stdout)["Files"] == len(tree)
    assert read_tree(restored) == tree

    refused = agent.run("restore", str(item["LogItemId"]), "--to", str(restored))
    assert refused.returncode != 0 and refused.stderr.startswith("error: "), refused.stderr
    assert "Traceback" not in refused.stderr

    some = tmp_path / "some"
    agent.ok("restore", str(item["LogItemId"]), "--to", str(some), "--path", "dir1/*")
    assert read_tree(some) == {k: v for k, v in tree.items() if k.startswith("dir1/")}


def test_once_runs_a_due_job_and_a_run_now_request(
    agent: AgentCli, file_job: MakeJob, partner: Partner, tree_root: Path, tmp_path: Path
) -> None:
    tree = make_tree(tree_root, files=12, seed=3)
    due = file_job(tree_root, NextRunOn=wall(utcnow() - timedelta(minutes=5)), Name="Due")
    later = file_job(tree_root, Name="Later")
    answer = partner.client.post(f"/api/jobs/{later['JobId']}/run", json={})
    assert answer.status_code in (200, 202, 204), answer.text

    done = agent.run("once", "--json")
    assert done.returncode == 0, done.stderr
    runs = {run["JobId"]: run for run in json.loads(done.stdout)}
    assert set(runs) == {due["JobId"], later["JobId"]}
    assert log_of(partner, runs[due["JobId"]]["LogId"])["Trigger"] == "Schedule"
    assert log_of(partner, runs[later["JobId"]]["LogId"])["Trigger"] == "RunNow"
    for run in runs.values():
        item = only_item(log_of(partner, run["LogId"]))
        with zipfile.ZipFile(BytesIO(download(partner, item["LogItemId"]))) as opened:
            assert {name: opened.read(name) for name in opened.namelist()} == tree

    again = agent.run("once", "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == [], again.stdout
