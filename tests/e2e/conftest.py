"""The end-to-end suite (agent.md §4): the session's real server process over HTTPS, real
``cleverfox agent`` processes enrolled with the CLI, real folder trees and databases.

Everything a user would do goes through a public surface: the partner API (companies,
devices, jobs, logs, downloads) and the agent's command line. Trees are small (a few MiB)
so the suite stays within minutes on two cores.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from cleverfox.server.kit.datetimes import utcnow
from tests.contract._fixtures_devices import create_device, created, wall
from tests.support.server import Partner, ServerProcess

FILE_TYPE = 1


@dataclass
class AgentCli:
    """One enrolled agent: its config file, data folder and environment."""

    config: Path
    data_dir: Path
    environment: dict[str, str]

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "cleverfox", "agent", *args, "--config", str(self.config)]

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """``cleverfox agent ARGS --config …``, waited for (exit code not checked)."""
        return subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            env=self.environment,
            timeout=timeout,
            check=False,
        )

    def ok(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """As :meth:`run`, asserting exit 0 and no traceback."""
        done = self.run(*args, timeout=timeout)
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def popen(self, *args: str, new_session: bool = False) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.environment,
            start_new_session=new_session,
        )


def clean_environment(home: Path) -> dict[str, str]:
    """The test's environment without CLEVERFOX_* settings, config folders under ``home``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVERFOX_", "XDG_"))}
    return {
        **clean,
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "XDG_DATA_HOME": str(home / "share"),
    }


@pytest.fixture
def device(partner: Partner) -> dict[str, Any]:
    return create_device(partner)


@pytest.fixture
def agent(server: ServerProcess, device: dict[str, Any], tmp_path: Path) -> AgentCli:
    """An agent enrolled for ``device`` exactly as agent.md §1 says (``--server``,
    ``--fingerprint``, ``--key``), as a subprocess."""
    made = AgentCli(
        tmp_path / "agent.toml", tmp_path / "agent-data", clean_environment(tmp_path / "home")
    )
    made.ok(
        "enrol",
        "--server",
        server.url,
        "--fingerprint",
        server.fingerprint,
        "--key",
        device["ApiKey"],
        "--data-dir",
        str(made.data_dir),
    )
    return made


MakeJob = Callable[..., dict[str, Any]]


@pytest.fixture
def file_job(partner: Partner, device: dict[str, Any]) -> MakeJob:
    """``file_job(folder, **job_overrides)``: a job of ``device`` with one File item backing
    up ``folder`` (all files, subfolders included), not due for a day unless overridden."""

    def make(folder: Path, item: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "DeviceId": device["DeviceId"],
            "Name": "Folder",
            "Frequency": "Daily",
            "NextRunOn": wall(utcnow() + timedelta(days=1)),
            "LateAfter": 60,
            "Every": 1,
            "CloudKeepLast": 7,
            "LocalKeepLast": 0,
            **overrides,
        }
        job = created(partner.client.post("/api/jobs", json=body))
        item_body: dict[str, Any] = {
            "JobId": job["JobId"],
            "Name": "Files",
            "BackupTypeId": FILE_TYPE,
            "BaseFolder": str(folder),
            "SearchPatterns": "*",
            "IncludeSubFolders": True,
            **(item or {}),
        }
        job["JobItems"] = [created(partner.client.post("/api/jobitems", json=item_body))]
        return job

    return make


# --- trees --------------------------------------------------------------------------------


def make_tree(root: Path, files: int = 60, seed: int = 7, big: int = 0) -> dict[str, bytes]:
    """A folder tree of ``files`` files in nested folders (text and random content, a few
    KiB to ~200 KiB each, plus ``big`` random files of 1.5 MiB); returns path → content."""
    rng = random.Random(seed)
    made: dict[str, bytes] = {}
    words = [bytes(rng.choice(b"abcdefghij klmnop") for _ in range(7)) for _ in range(200)]
    for n in range(files):
        folder = Path(f"dir{n % 4}") / (f"sub{n % 3}" if n % 2 else "")
        name = f"file-{n:03d}" + (".txt" if n % 3 else ".bin")
        if n % 3:
            size = rng.randrange(2_000, 120_000)
            content = b" ".join(rng.choice(words) for _ in range(size // 8))
        else:
            content = rng.randbytes(rng.randrange(1_000, 200_000))
        made[str(folder / name)] = content
    for n in range(big):
        made[f"big/blob-{n}.dat"] = rng.randbytes(1_500_000)
    for relative, content in made.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return made


def change_some(root: Path, tree: dict[str, bytes], share: float = 0.05) -> int:
    """Rewrite 4 KiB in the middle of ``share`` of the files; returns the bytes changed."""
    names = sorted(tree)[:: max(1, round(1 / share))]
    changed = 0
    for name in names:
        content = bytearray(tree[name])
        middle = len(content) // 2
        patch = random.Random(name).randbytes(min(4096, len(content)))
        content[middle : middle + len(patch)] = patch
        tree[name] = bytes(content)
        (root / name).write_bytes(tree[name])
        changed += len(patch)
    return changed


def read_tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root``: relative POSIX path → content."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


# --- the partner's view -------------------------------------------------------------------


def log_of(partner: Partner, log_id: int) -> dict[str, Any]:
    return created(partner.client.get(f"/api/logs/{log_id}"))


def logs_of_job(partner: Partner, job_id: int) -> list[dict[str, Any]]:
    return listed(partner.client.get("/api/logs", params={"JobId": job_id, "PageSize": 100}))


def listed(response: httpx.Response) -> list[dict[str, Any]]:
    """A list answer's ``data``."""
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def download(partner: Partner, log_item_id: int, kind: str = "backupfile") -> bytes:
    """The backup file (or list) fetched through the Log Item's signed ``Url``, no key."""
    item = created(partner.client.get(f"/api/logitems/{log_item_id}/download{kind}"))
    answer = httpx.get(item["Url"], verify=False, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.content


@pytest.fixture
def tree_root(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    root.mkdir()
    return root
