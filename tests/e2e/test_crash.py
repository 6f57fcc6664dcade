"""``kill -9`` of a real agent mid-upload: the next start finishes the cut-off run as
Failed ("interrupted"), and the next run completes, reusing the chunks already stored."""

from __future__ import annotations

import json
import os
import random
import signal
import time
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

from tests.contract._fixtures_devices import created
from tests.e2e.conftest import (
    AgentCli,
    MakeJob,
    download,
    listed,
    log_of,
    logs_of_job,
    read_tree,
)
from tests.support.server import Partner

MiB = 1 << 20
# The agent sends packs of at most 16 MiB: 64 MiB of random bytes make several, so the
# first one is stored well before the run could finish.
TREE_FILES, FILE_BYTES = 64, MiB


def stored_bytes(partner: Partner, device: dict[str, Any]) -> int:
    subscription = created(partner.client.get(f"/api/subscriptions/{device['SubscriptionId']}"))
    return int(subscription["StorageUsedBytes"])


def test_kill_9_mid_upload_then_the_next_start_finishes_it_and_reuses_chunks(
    agent: AgentCli,
    file_job: MakeJob,
    partner: Partner,
    device: dict[str, Any],
    tree_root: Path,
) -> None:
    rng = random.Random(5)
    for n in range(TREE_FILES):
        (tree_root / f"part-{n:02d}.bin").write_bytes(rng.randbytes(FILE_BYTES))
    tree = read_tree(tree_root)
    job = file_job(tree_root)

    # Its own process group: the kill takes the agent and its worker processes at once, as
    # a power loss or systemd's kill of the service's cgroup does.
    process = agent.popen("backup", str(job["JobId"]), "--json", new_session=True)
    deadline = time.monotonic() + 240
    while (used := stored_bytes(partner, device)) == 0:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no pack was stored"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()
    [cut] = logs_of_job_running(partner, job["JobId"])
    assert used < TREE_FILES * FILE_BYTES * 0.75, "the run was almost done: no test of reuse"

    done = agent.ok("backup", str(job["JobId"]), "--json")
    [run] = json.loads(done.stdout)
    assert run["Status"] == "Completed", run
    interrupted = log_of(partner, cut["LogId"])
    assert interrupted["JobStatus"] == "Failed"
    assert "interrupted" in interrupted["ErrorMessages"]
    total = TREE_FILES * FILE_BYTES
    assert run["BytesUploaded"] <= total - used * 0.9, (run, used)

    [item] = log_of(partner, run["LogId"])["LogItems"]
    with zipfile.ZipFile(BytesIO(download(partner, item["LogItemId"]))) as opened:
        assert {name: opened.read(name) for name in opened.namelist()} == tree
    statuses = sorted(log["JobStatus"] for log in logs_of_job(partner, job["JobId"]))
    assert statuses == ["Completed", "Failed"]


def logs_of_job_running(partner: Partner, job_id: int) -> list[dict[str, Any]]:
    return listed(partner.client.get("/api/logs", params={"JobId": job_id, "JobStatus": "Running"}))
