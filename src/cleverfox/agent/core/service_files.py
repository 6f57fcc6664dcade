"""The files that make ``cleverfox agent run`` a service, one per platform.

- Linux: a systemd unit (``/etc/systemd/system/cleverfox-agent.service``), low CPU and I/O
  priority, restarted on failure, stopped with SIGTERM and given the grace period.
- macOS: a launchd daemon (``/Library/LaunchDaemons/com.cleverfox.agent.plist``), kept alive,
  low-priority I/O.
- Windows: a Task Scheduler task run at start-up as SYSTEM and restarted on failure (its XML
  and the ``schtasks`` line that registers it). Not ``sc.exe create``: a service must answer
  the Service Control Manager, which a Python process does not without a wrapper such as
  pywin32's, so ``sc.exe start`` would time out (error 1053).

Every text is built here from the command line to run, so ``install-service --print`` shows
exactly what would be installed.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from xml.sax.saxutils import escape

from cleverfox.agent.core.files import write_private

SERVICE_NAME = "cleverfox-agent"
LAUNCHD_LABEL = "com.cleverfox.agent"
WINDOWS_TASK = "CleverFox Backup agent"
DESCRIPTION = "CleverFox Backup agent"


@dataclass(frozen=True)
class ServiceFile:
    """A service definition: where it goes, its text, and how to enable it."""

    platform: str
    path: PurePath
    text: str
    enable: tuple[tuple[str, ...], ...]


def run_command(python: str, config: PurePath) -> list[str]:
    """The service's command line: this Python running ``cleverfox agent run``."""
    return [python, "-m", "cleverfox", "agent", "run", "--config", str(config)]


def systemd_unit(command: Sequence[str], grace_seconds: int) -> str:
    """A systemd unit for ``command``."""
    return "\n".join(
        [
            "[Unit]",
            f"Description={DESCRIPTION}",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=simple",
            f"ExecStart={_systemd_escaped(shlex.join(command))}",
            "Restart=on-failure",
            "RestartSec=30",
            "KillSignal=SIGTERM",
            f"TimeoutStopSec={grace_seconds + 30}",
            "Nice=10",
            "IOSchedulingClass=best-effort",
            "IOSchedulingPriority=7",
            "UMask=0077",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def _systemd_escaped(line: str) -> str:
    """systemd expands ``%`` specifiers and ``$`` variables in ExecStart; a path keeps them."""
    return line.replace("%", "%%").replace("$", "$$")


def launchd_plist(command: Sequence[str], log_folder: PurePath) -> str:
    """A launchd daemon definition for ``command``."""
    arguments = "\n".join(f"        <string>{escape(part)}</string>" for part in command)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{LAUNCHD_LABEL}</string>
    <key>ProgramArguments</key>
    <array>
{arguments}
    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>KeepAlive</key>
    <true/>
    <key>ProcessType</key>
    <string>Background</string>
    <key>LowPriorityIO</key>
    <true/>
    <key>Nice</key>
    <integer>10</integer>
    <key>ExitTimeOut</key>
    <integer>90</integer>
    <key>StandardErrorPath</key>
    <string>{escape(str(log_folder / "service.err"))}</string>
</dict>
</plist>
"""


def windows_task(command: Sequence[str]) -> str:
    """A Task Scheduler task (XML) that runs ``command`` at boot as SYSTEM."""
    program, *arguments = command
    args = subprocess.list2cmdline(arguments)
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo>
    <Description>{DESCRIPTION}</Description>
  </RegistrationInfo>
  <Triggers>
    <BootTrigger>
      <Enabled>true</Enabled>
    </BootTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      <UserId>S-1-5-18</UserId>
      <RunLevel>HighestAvailable</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>999</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(program)}</Command>
      <Arguments>{escape(args)}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def service_file(
    platform: str, python: str, config: PurePath, data_folder: PurePath, grace_seconds: int = 60
) -> ServiceFile:
    """The service definition for ``platform`` (``sys.platform``)."""
    command = run_command(python, config)
    if platform.startswith("win"):
        path = PurePath(data_folder) / "cleverfox-agent-task.xml"
        register = ("schtasks", "/Create", "/TN", WINDOWS_TASK, "/XML", str(path), "/F")
        return ServiceFile(
            "windows",
            path,
            windows_task(command),
            (register, ("schtasks", "/Run", "/TN", WINDOWS_TASK)),
        )
    if platform == "darwin":
        path = PurePath("/Library/LaunchDaemons") / f"{LAUNCHD_LABEL}.plist"
        load = ("launchctl", "bootstrap", "system", str(path))
        return ServiceFile("macos", path, launchd_plist(command, data_folder), (load,))
    path = PurePath("/etc/systemd/system") / f"{SERVICE_NAME}.service"
    enable = (
        ("systemctl", "daemon-reload"),
        ("systemctl", "enable", "--now", f"{SERVICE_NAME}.service"),
    )
    return ServiceFile("linux", path, systemd_unit(command, grace_seconds), enable)


def install(service: ServiceFile) -> None:
    """Write the file and run its enabling commands (administrators only: not in tests).
    Raises OSError or ``subprocess.CalledProcessError`` with the tool's message."""
    write_private(
        Path(service.path),
        service.text.encode("utf-16" if service.platform == "windows" else "utf-8"),
    )
    Path(service.path).chmod(0o644)
    for command in service.enable:
        subprocess.run(list(command), check=True, capture_output=True, text=True)  # noqa: S603 - our own fixed commands
