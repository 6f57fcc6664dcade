"""The service definitions: what ``install-service --print`` shows for each platform (this
machine cannot run launchd or Task Scheduler, so the generated text is what is tested)."""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PurePath, PureWindowsPath

import pytest

from cleverfox.agent.core.service_files import run_command, service_file

CONFIG = PurePath("/etc/cleverfox/agent.toml")
DATA = PurePath("/var/lib/cleverfox/agent")
TASK = "{http://schemas.microsoft.com/windows/2004/02/mit/task}"


def test_the_systemd_unit_runs_the_agent_at_low_priority_and_stops_gracefully() -> None:
    unit = service_file("linux", "/opt/cf/bin/python", CONFIG, DATA, grace_seconds=60)

    assert unit.path == PurePath("/etc/systemd/system/cleverfox-agent.service")
    lines = unit.text.splitlines()
    assert (
        "ExecStart=/opt/cf/bin/python -m cleverfox agent run --config /etc/cleverfox/agent.toml"
        in lines
    )
    for expected in (
        "Restart=on-failure",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=90",
        "Nice=10",
        "WantedBy=multi-user.target",
    ):
        assert expected in lines
    assert unit.enable[-1] == ("systemctl", "enable", "--now", "cleverfox-agent.service")


def test_the_systemd_unit_quotes_paths_with_spaces() -> None:
    unit = service_file("linux", "/opt/my python/bin/python", PurePath("/etc/c f/agent.toml"), DATA)

    assert (
        "ExecStart='/opt/my python/bin/python' -m cleverfox agent run "
        "--config '/etc/c f/agent.toml'" in unit.text
    )


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze here: the text is checked line by line above")
    path = tmp_path / "cleverfox-agent.service"
    path.write_text(service_file("linux", sys.executable, CONFIG, DATA).text)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(path)], capture_output=True, text=True, check=False
    )
    assert "cleverfox-agent.service:" not in done.stderr, done.stderr


def test_the_launchd_plist_is_a_valid_property_list() -> None:
    plist = service_file(
        "darwin",
        "/usr/local/bin/python3",
        PurePath("/Library/Application Support/CleverFox/agent.toml"),
        PurePath("/Library/Application Support/CleverFox/data"),
    )

    assert plist.path == PurePath("/Library/LaunchDaemons/com.cleverfox.agent.plist")
    parsed = plistlib.loads(plist.text.encode())
    assert parsed["Label"] == "com.cleverfox.agent"
    assert parsed["ProgramArguments"] == run_command(
        "/usr/local/bin/python3", PurePath("/Library/Application Support/CleverFox/agent.toml")
    )
    assert (
        parsed["KeepAlive"] is True
        and parsed["RunAtLoad"] is True
        and parsed["LowPriorityIO"] is True
    )
    assert plist.enable == (("launchctl", "bootstrap", "system", str(plist.path)),)


def test_the_launchd_plist_escapes_xml() -> None:
    plist = service_file("darwin", "/opt/a&b/python", CONFIG, DATA)

    assert plistlib.loads(plist.text.encode())["ProgramArguments"][0] == "/opt/a&b/python"


def test_the_windows_task_runs_at_boot_as_system_and_restarts() -> None:
    python = r"C:\Program Files\Python311\python.exe"
    config = PureWindowsPath(r"C:\ProgramData\CleverFox\agent.toml")
    task = service_file("win32", python, config, PureWindowsPath(r"C:\ProgramData\CleverFox\data"))

    root = ET.fromstring(task.text.replace('encoding="UTF-16"', ""))
    assert root.find(f"{TASK}Triggers/{TASK}BootTrigger") is not None
    assert root.findtext(f"{TASK}Principals/{TASK}Principal/{TASK}UserId") == "S-1-5-18"
    assert root.findtext(f"{TASK}Settings/{TASK}ExecutionTimeLimit") == "PT0S"
    assert root.find(f"{TASK}Settings/{TASK}RestartOnFailure") is not None
    assert root.findtext(f"{TASK}Actions/{TASK}Exec/{TASK}Command") == python
    arguments = root.findtext(f"{TASK}Actions/{TASK}Exec/{TASK}Arguments")
    assert arguments == r"-m cleverfox agent run --config C:\ProgramData\CleverFox\agent.toml"
    assert task.enable[0][:5] == ("schtasks", "/Create", "/TN", "CleverFox Backup agent", "/XML")


def test_systemd_specifiers_in_paths_are_escaped() -> None:
    unit = service_file("linux", "/opt/100%/python", PurePath("/etc/$HOME/agent.toml"), DATA)

    assert (
        "ExecStart=/opt/100%%/python -m cleverfox agent run --config '/etc/$$HOME/agent.toml'"
        in unit.text
    )
