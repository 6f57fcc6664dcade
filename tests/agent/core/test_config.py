"""The config file: its default place on each platform, 0600, atomic, and clear errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePath, PureWindowsPath

import pytest

from cleverfox.agent.core.config import AgentSettings, default_locations, load, save
from cleverfox.agent.core.errors import EXIT_CONFIG, ConfigError

HOME = PurePath("/home/ann")


def test_linux_follows_xdg_for_a_user() -> None:
    where = default_locations(
        "linux", {"XDG_CONFIG_HOME": "/cfg", "XDG_DATA_HOME": "/data"}, HOME, False
    )

    assert where.config_file == PurePath("/cfg/cleverfox/agent.toml")
    assert where.data_folder == PurePath("/data/cleverfox/agent")


def test_linux_without_xdg_or_with_a_relative_one_uses_the_home_folder() -> None:
    for environment in ({}, {"XDG_CONFIG_HOME": "relative", "XDG_DATA_HOME": ""}):
        where = default_locations("linux", environment, HOME, False)
        assert where.config_file == HOME / ".config/cleverfox/agent.toml"
        assert where.data_folder == HOME / ".local/share/cleverfox/agent"


def test_linux_as_root_uses_etc_and_var_lib() -> None:
    where = default_locations("linux", {"XDG_CONFIG_HOME": "/cfg"}, PurePath("/root"), True)

    assert where.config_file == PurePath("/etc/cleverfox/agent.toml")
    assert where.data_folder == PurePath("/var/lib/cleverfox/agent")


def test_macos_uses_application_support() -> None:
    user = default_locations("darwin", {}, HOME, False)
    root = default_locations("darwin", {}, PurePath("/var/root"), True)

    assert user.config_file == HOME / "Library/Application Support/CleverFox/agent.toml"
    assert user.data_folder == HOME / "Library/Application Support/CleverFox/data"
    assert root.config_file == PurePath("/Library/Application Support/CleverFox/agent.toml")


def test_windows_uses_programdata() -> None:
    where = default_locations("win32", {"PROGRAMDATA": r"D:\PD"}, HOME, False)
    fallback = default_locations("win32", {}, HOME, False)

    assert where.config_file == PureWindowsPath(r"D:\PD\CleverFox\agent.toml")
    assert where.data_folder == PureWindowsPath(r"D:\PD\CleverFox\data")
    assert fallback.config_file == PureWindowsPath(r"C:\ProgramData\CleverFox\agent.toml")


def settings(tmp_path: Path, **changes: object) -> AgentSettings:
    values: dict[str, object] = {
        "server_url": "https://backup.example:8443",
        "fingerprint": "ab" * 32,
        "device_id": 42,
        "api_key": 'cfd_k"ey\\with\u00e9',
        "data_folder": tmp_path / "data folder",
    }
    values.update(changes)
    return AgentSettings(**values)  # type: ignore[arg-type]


def test_a_saved_config_reads_back_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "agent.toml"
    written = settings(tmp_path)

    save(written, path)

    assert load(path) == written
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["agent.toml"]  # no temporary left


def test_a_config_without_fingerprint_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    save(settings(tmp_path, fingerprint=None), path)

    assert load(path).fingerprint is None


def test_saving_again_replaces_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    save(settings(tmp_path, api_key="a" * 5000), path)
    save(settings(tmp_path, api_key="short"), path)

    assert load(path).api_key == "short"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_key_is_not_in_the_settings_repr(tmp_path: Path) -> None:
    assert "cfd_k" not in repr(settings(tmp_path))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("not toml = = =", "not valid TOML"),
        ('server_url = "https://x"\napi_key = "k"\ndata_folder = "/d"\n', "device_id"),
        (
            'server_url = "https://x"\ndevice_id = 0\napi_key = "k"\ndata_folder = "/d"\n',
            "device_id",
        ),
        ('device_id = 3\napi_key = "k"\ndata_folder = "/d"\n', "server_url"),
        (
            'format_version = 9\nserver_url = "https://x"\ndevice_id = 3\n'
            'api_key = "k"\ndata_folder = "/d"\n',
            "format_version",
        ),
    ],
)
def test_a_bad_config_is_one_clear_config_error(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "agent.toml"
    path.write_text(text)

    with pytest.raises(ConfigError, match=says) as failed:
        load(path)
    assert failed.value.exit_code == EXIT_CONFIG


def test_a_missing_config_says_to_enrol(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cleverfox agent enrol"):
        load(tmp_path / "nothing.toml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_config_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "agent.toml"
    save(settings(tmp_path), path)
    path.chmod(0)

    with pytest.raises(ConfigError, match="cannot read"):
        load(path)
