"""Retention by real runs: CloudKeepLast deletes the older backup files in storage (their Log
Items stay, their downloads answer 404), LocalKeepLast keeps the newest local copies, and
``restore --local`` works with the server out of reach."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.contract._fixtures_devices import events_of
from tests.e2e.conftest import AgentCli, MakeJob, change_some, log_of, make_tree, read_tree
from tests.support.server import Partner, free_port

BACKUP_FILE_DELETED = 62


def run_item(agent: AgentCli, partner: Partner, job_id: int) -> dict[str, Any]:
    """Back the job up; its one Log Item."""
    done = agent.ok("backup", str(job_id), "--json")
    [run] = json.loads(done.stdout)
    assert run["Status"] == "Completed", run
    [item] = log_of(partner, run["LogId"])["LogItems"]
    return dict(item)


def test_cloud_and_local_copies_keep_the_newest_runs(
    agent: AgentCli, file_job: MakeJob, partner: Partner, tree_root: Path, tmp_path: Path
) -> None:
    tree = make_tree(tree_root, files=16, seed=21)
    job = file_job(tree_root, CloudKeepLast=2, LocalKeepLast=2)
    items = []
    for _ in range(3):
        items.append(run_item(agent, partner, job["JobId"]))
        change_some(tree_root, tree, share=0.25)
    first, second, third = (item["LogItemId"] for item in items)

    gone = partner.client.get(f"/api/logitems/{first}/downloadbackupfile")
    assert gone.status_code == 404, gone.text
    assert gone.json()["error"]["code"] == "backup_file_not_available"
    for kept in (second, third):
        assert partner.client.get(f"/api/logitems/{kept}/downloadbackupfile").status_code == 200
    deleted = events_of(partner, EventTypeId=BACKUP_FILE_DELETED)
    assert [event["LogId"] for event in deleted] == [items[0]["LogId"]]

    copies = json.loads(agent.ok("copies", "--json").stdout)
    assert sorted(copy["LogItemId"] for copy in copies) == [second, third]


def test_restore_local_works_with_the_server_out_of_reach(
    agent: AgentCli, file_job: MakeJob, partner: Partner, tree_root: Path, tmp_path: Path
) -> None:
    tree = make_tree(tree_root, files=16, seed=22)
    job = file_job(tree_root, CloudKeepLast=1, LocalKeepLast=1)
    item = run_item(agent, partner, job["JobId"])

    text = agent.config.read_text()
    live = next(line for line in text.splitlines() if line.startswith("server_url"))
    agent.config.write_text(text.replace(live, f'server_url = "https://127.0.0.1:{free_port()}"'))

    offline = agent.run("restore", str(item["LogItemId"]), "--to", str(tmp_path / "cloud"))
    assert offline.returncode == 3 and offline.stderr.startswith("error: "), offline.stderr
    assert "Traceback" not in offline.stderr

    restored = tmp_path / "local"
    agent.ok("restore", str(item["LogItemId"]), "--local", "--to", str(restored))
    assert read_tree(restored) == tree
