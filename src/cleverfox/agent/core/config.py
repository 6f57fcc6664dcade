"""The agent's configuration file: which server, which certificate, which device, which key.

TOML, written by ``cleverfox agent enrol`` (0600, to a temporary name and renamed), read by
every other command. Its default place depends on the platform (:func:`default_locations`):

- Linux and other POSIX: ``$XDG_CONFIG_HOME/cleverfox/agent.toml`` (``~/.config/…``), data
  in ``$XDG_DATA_HOME/cleverfox/agent`` (``~/.local/share/…``); as root
  ``/etc/cleverfox/agent.toml`` and ``/var/lib/cleverfox/agent``.
- macOS: ``~/Library/Application Support/CleverFox/agent.toml`` and its ``data`` folder
  (as root under ``/Library/Application Support/CleverFox/``).
- Windows: ``%PROGRAMDATA%\\CleverFox\\agent.toml`` and ``%PROGRAMDATA%\\CleverFox\\data``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath

from cleverfox.agent.core.errors import ConfigError
from cleverfox.agent.core.files import write_private

CONFIG_NAME = "agent.toml"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Locations:
    """Where the config file and the data folder are by default."""

    config_file: PurePath
    data_folder: PurePath


def default_locations(
    platform: str, environment: Mapping[str, str], home: PurePath, is_root: bool
) -> Locations:
    """The defaults for ``platform`` (``sys.platform``) given the environment, the user's
    home and whether the process runs as root (POSIX) — passed in, so every platform's
    answer can be computed and tested anywhere."""
    if platform.startswith("win"):
        shared = PureWindowsPath(environment.get("PROGRAMDATA") or r"C:\ProgramData")
        return Locations(shared / "CleverFox" / CONFIG_NAME, shared / "CleverFox" / "data")
    if platform == "darwin":
        root = PurePath("/") if is_root else home
        base = root / "Library" / "Application Support" / "CleverFox"
        return Locations(base / CONFIG_NAME, base / "data")
    if is_root:
        return Locations(
            PurePath("/etc/cleverfox") / CONFIG_NAME, PurePath("/var/lib/cleverfox/agent")
        )
    config_home = _absolute(environment.get("XDG_CONFIG_HOME")) or home / ".config"
    data_home = _absolute(environment.get("XDG_DATA_HOME")) or home / ".local" / "share"
    return Locations(config_home / "cleverfox" / CONFIG_NAME, data_home / "cleverfox" / "agent")


def _absolute(value: str | None) -> PurePath | None:
    """An XDG variable counts only when it is an absolute path (the XDG spec's rule)."""
    if value and PurePath(value).is_absolute():
        return PurePath(value)
    return None


@dataclass(frozen=True)
class AgentSettings:
    """An enrolled agent: the server, the pinned certificate (None: the system's trust), the
    device and its key, and the data folder (state, files cache, log)."""

    server_url: str
    fingerprint: str | None
    device_id: int
    api_key: str
    data_folder: Path

    def __repr__(self) -> str:  # the key never reaches a log through a repr
        return f"AgentSettings({self.server_url!r}, device {self.device_id}, {self.data_folder})"


def save(settings: AgentSettings, path: Path) -> None:
    """Write the config file (0600, atomically)."""
    lines = [
        "# CleverFox Backup agent (written by `cleverfox agent enrol`; it holds the device key)",
        f"format_version = {FORMAT_VERSION}",
        f"server_url = {_string(settings.server_url)}",
        f"device_id = {settings.device_id}",
        f"api_key = {_string(settings.api_key)}",
        f"data_folder = {_string(str(settings.data_folder))}",
    ]
    if settings.fingerprint is not None:
        lines.append(f"fingerprint = {_string(settings.fingerprint)}")
    write_private(path, ("\n".join(lines) + "\n").encode())


def _string(value: str) -> str:
    # A JSON string is a TOML basic string: same quotes, same escapes (\uXXXX included).
    return json.dumps(value, ensure_ascii=False)


def load(path: Path) -> AgentSettings:
    """The settings in ``path``; ConfigError saying what is wrong (never a traceback)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no agent configuration at {path}: run `cleverfox agent enrol` first"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return _settings_of(document, path)


def _settings_of(document: Mapping[str, object], path: Path) -> AgentSettings:
    def text(name: str, required: bool = True) -> str | None:
        value = document.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: {name} must be a non-empty string")
        return value

    device_id = document.get("device_id")
    if isinstance(device_id, bool) or not isinstance(device_id, int) or device_id <= 0:
        raise ConfigError(f"{path}: device_id must be a positive integer")
    if document.get("format_version", FORMAT_VERSION) != FORMAT_VERSION:
        raise ConfigError(f"{path}: format_version {document.get('format_version')} is not known")
    return AgentSettings(
        server_url=str(text("server_url")),
        fingerprint=text("fingerprint", required=False),
        device_id=device_id,
        api_key=str(text("api_key")),
        data_folder=Path(str(text("data_folder"))),
    )
