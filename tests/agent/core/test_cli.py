"""``cleverfox agent …`` as a user runs it: real processes against the real server over
HTTPS, their exit codes (0 ok, 1 a run failed, 2 usage/config, 3 server) and one-line
errors, and ``agent --help`` importing nothing heavy."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cleverfox.agent.core.lock import DataFolderLock
from tests.agent.core.conftest import due_job
from tests.cli.test_lazy_commands import among, imported
from tests.support.server import Partner, ServerProcess

WRONG_PIN = "00" * 32

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLEVERFOX_", "XDG_"))}
    (tmp_path / "cfg").mkdir()
    return {
        **clean,
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_DATA_HOME": str(tmp_path / "share"),
    }


@pytest.fixture
def cli(environment: dict[str, str]) -> Cli:
    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cleverfox", "agent", *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
            check=False,
        )

    return run


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "agent.toml"


@pytest.fixture
def enrolled(
    cli: Cli, server: ServerProcess, device: dict[str, Any], config: Path, tmp_path: Path
) -> Path:
    done = cli(
        "enrol",
        device["AgentDownloadUrl"],
        "--fingerprint",
        server.fingerprint,
        "--config",
        str(config),
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert done.returncode == 0, done.stderr
    return config


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


def test_enrol_from_the_download_url_writes_a_private_pinned_config(
    enrolled: Path, server: ServerProcess, device: dict[str, Any], tmp_path: Path
) -> None:
    written = tomllib.loads(enrolled.read_text())

    assert stat.S_IMODE(enrolled.stat().st_mode) == 0o600
    assert written["device_id"] == device["DeviceId"]
    assert written["api_key"] == device["ApiKey"]
    assert written["fingerprint"] == server.fingerprint.replace(":", "").lower()
    assert written["data_folder"] == str(tmp_path / "data")


@pytest.mark.skipif(os.geteuid() == 0, reason="as root the defaults are /etc and /var/lib")
def test_enrol_with_server_and_key_uses_the_default_config_place(
    cli: Cli, server: ServerProcess, device: dict[str, Any], tmp_path: Path
) -> None:
    done = cli(
        "enrol",
        "--server",
        server.url,
        "--fingerprint",
        server.fingerprint,
        "--key",
        device["ApiKey"],
    )

    assert done.returncode == 0, done.stderr
    default = tmp_path / "cfg" / "cleverfox" / "agent.toml"
    assert f"device {device['DeviceId']}" in done.stdout and str(default) in done.stdout
    data = tomllib.loads(default.read_text())["data_folder"]
    assert data == str(tmp_path / "share" / "cleverfox" / "agent")


def test_enrol_with_server_and_key(
    cli: Cli, server: ServerProcess, device: dict[str, Any], config: Path, tmp_path: Path
) -> None:
    done = cli(
        "enrol",
        "--server",
        server.url,
        "--fingerprint",
        server.fingerprint,
        "--key",
        device["ApiKey"],
        "--config",
        str(config),
        "--data-dir",
        str(tmp_path / "d"),
    )

    assert done.returncode == 0, done.stderr
    assert f"enrolled as device {device['DeviceId']} (FileServer)" in done.stdout
    assert tomllib.loads(config.read_text())["device_id"] == device["DeviceId"]


def test_enrol_with_a_wrong_pin_exits_3_and_writes_nothing(
    cli: Cli, server: ServerProcess, device: dict[str, Any], config: Path
) -> None:
    done = cli(
        "enrol",
        "--server",
        server.url,
        "--fingerprint",
        WRONG_PIN,
        "--key",
        device["ApiKey"],
        "--config",
        str(config),
    )

    assert done.returncode == 3
    assert "pinned" in one_error_line(done)
    assert not config.exists()


def test_enrol_with_a_revoked_key_exits_3(cli: Cli, server: ServerProcess, config: Path) -> None:
    done = cli(
        "enrol",
        "--server",
        server.url,
        "--fingerprint",
        server.fingerprint,
        "--key",
        "cfd_nope",
        "--config",
        str(config),
    )

    assert done.returncode == 3
    assert "refused the device key" in one_error_line(done)


@pytest.mark.parametrize(
    "args",
    [
        ("enrol",),
        ("enrol", "https://x/agent/config/1.a", "--key", "k"),
        ("enrol", "--server", "https://x", "--key", "k", "--fingerprint", "nothex"),
        ("enrol", "--server", "http://x", "--key", "k"),
        ("backup", "zero"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: Cli, config: Path, args: tuple[str, ...]) -> None:
    done = cli(*args, "--config", str(config))

    assert done.returncode == 2, done.stderr
    one_error_line(done)


def test_a_command_without_config_says_to_enrol(cli: Cli, config: Path) -> None:
    done = cli("status", "--config", str(config))

    assert done.returncode == 2
    assert "cleverfox agent enrol" in one_error_line(done)


def test_status_reports_jobs_and_the_last_runs(
    cli: Cli, enrolled: Path, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device)
    assert cli("once", "--config", str(enrolled)).returncode == 1  # see test_once_…

    done = cli("status", "--json", "--config", str(enrolled))

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["Server"] == {"Reachable": True, "Error": None}
    assert report["Config"]["DeviceId"] == device["DeviceId"]
    assert device["ApiKey"] not in done.stdout
    assert report["LastCheckInUtc"].endswith("Z")
    assert [j["JobId"] for j in report["Jobs"]] == [job["JobId"]]
    assert report["Jobs"][0]["NextRunUtc"].endswith("Z")
    assert [(r["JobId"], r["Status"]) for r in report["LastRuns"]] == [(job["JobId"], "Failed")]
    text = cli("status", "--config", str(enrolled))
    assert text.returncode == 0 and "(reachable)" in text.stdout and "Failed" in text.stdout


def test_status_with_the_server_down_exits_3_but_reports(cli: Cli, enrolled: Path) -> None:
    text = enrolled.read_text()
    enrolled.write_text(
        re.sub(r'server_url = "https://127.0.0.1:\d+"', 'server_url = "https://127.0.0.1:9"', text)
    )

    done = cli("status", "--json", "--config", str(enrolled))

    assert done.returncode == 3
    report = json.loads(done.stdout)
    assert report["Server"]["Reachable"] is False and "unreachable" in report["Server"]["Error"]


def test_once_with_nothing_due_exits_0(cli: Cli, enrolled: Path) -> None:
    done = cli("once", "--config", str(enrolled))

    assert done.returncode == 0, done.stderr
    assert "nothing is due" in done.stdout


def test_once_exits_1_when_a_run_failed_and_says_why(
    cli: Cli, enrolled: Path, partner: Partner, device: dict[str, Any]
) -> None:
    # A job that keeps no copies at all fails whichever backup part is installed.
    job = due_job(partner, device, CloudKeepLast=0, LocalKeepLast=0)

    done = cli("once", "--json", "--config", str(enrolled))

    assert done.returncode == 1, done.stderr
    (result,) = json.loads(done.stdout)
    assert (result["JobId"], result["Status"]) == (job["JobId"], "Failed")
    assert result["Messages"] and result["Messages"][0].startswith("Item 0: ")
    log = partner.client.get(f"/api/logs/{result['LogId']}").json()["data"]
    assert log["JobStatus"] == "Failed"


def test_backup_of_an_unknown_job_exits_2(cli: Cli, enrolled: Path) -> None:
    done = cli("backup", "999999999", "--config", str(enrolled))

    assert done.returncode == 2
    assert "not an active job" in one_error_line(done)


def test_a_second_agent_is_refused_while_one_holds_the_data_folder(
    cli: Cli, enrolled: Path, tmp_path: Path
) -> None:
    with DataFolderLock(tmp_path / "data"):
        done = cli("once", "--config", str(enrolled))

    assert done.returncode == 1
    assert "another agent is running" in one_error_line(done)


def test_the_log_file_never_holds_the_key(
    cli: Cli, enrolled: Path, partner: Partner, device: dict[str, Any], tmp_path: Path
) -> None:
    due_job(partner, device, CloudKeepLast=0, LocalKeepLast=0)
    cli("once", "--config", str(enrolled))

    text = (tmp_path / "data" / "agent.log").read_text()
    assert "run " in text and device["ApiKey"] not in text


def test_the_agent_help_imports_neither_the_server_nor_the_agent(
    environment: dict[str, str],
) -> None:
    modules, out = imported(environment, "agent", "--help")

    assert (
        among(
            modules,
            ("cleverfox.server", "cleverfox.agent", "cleverfox.client", "httpx", "sqlalchemy"),
        )
        == []
    )
    for name in (
        "enrol",
        "install-service",
        "run",
        "once",
        "backup",
        "status",
        "restore",
        "copies",
    ):
        assert f"  {name} " in out


def test_the_root_help_lists_the_agent(environment: dict[str, str]) -> None:
    modules, out = imported(environment, "--help")

    assert "  agent " in out
    assert among(modules, ("cleverfox.cli.agent", "cleverfox.agent")) == []


def test_install_service_prints_what_it_would_install(cli: Cli, enrolled: Path) -> None:
    printed = cli("install-service", "--print", "--platform", "linux", "--config", str(enrolled))
    review = cli("install-service", "--platform", "darwin", "--config", str(enrolled))

    assert printed.returncode == 0, printed.stderr
    assert f"agent run --config {enrolled}" in printed.stdout and printed.stdout.startswith(
        "[Unit]"
    )
    assert review.returncode == 0 and "would be written to /Library/LaunchDaemons/" in review.stdout
    refused = cli("install-service", "--enable", "--platform", "win32", "--config", str(enrolled))
    assert refused.returncode == 2
    one_error_line(refused)


def test_run_is_a_service_that_runs_due_jobs_and_stops_on_sigterm(
    environment: dict[str, str], enrolled: Path, partner: Partner, device: dict[str, Any]
) -> None:
    job = due_job(partner, device, CloudKeepLast=0, LocalKeepLast=0)
    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cleverfox",
            "agent",
            "run",
            "--grace",
            "5",
            "--config",
            str(enrolled),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 60
        logs: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not logs:
            found = partner.client.get("/api/logs", params={"JobId": job["JobId"]}).json()["data"]
            logs = [log for log in found if log["JobStatus"] == "Failed"]
            time.sleep(0.5)
        assert logs, "the service did not run the due job"
        service.send_signal(signal.SIGTERM)
        assert service.wait(30) == 0, service.stderr.read() if service.stderr else ""
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
