"""Where the API commands connect, and with which key: flags, environment, then a profile.

Each setting is taken from the first of: its flag (``--url``), its environment variable
(``CLEVERFOX_URL``), the profile (``--profile NAME``, else ``CLEVERFOX_PROFILE``, else the
profile named ``default`` when the config file has one). TLS trust is taken as a whole from
the first of those sources that sets any of ``fingerprint``, ``ca_file`` or ``insecure``, so
a CA file given on the command line is not mixed with a pin from a profile.

The config file is ``$XDG_CONFIG_HOME/cleverfox/config.toml`` (``~/.config/…`` when the
variable is unset)::

    [profiles.acme]
    url = "https://backup.example.com:8443"
    api_key = "cfp_…"
    fingerprint = "AB:CD:…"      # or: ca_file = "/etc/ssl/acme-ca.pem"
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from cleverfox.client import Client

DEFAULT_PROFILE = "default"
PROFILE_KEYS = ("url", "api_key", "fingerprint", "ca_file", "insecure")
TRUST_KEYS = ("fingerprint", "ca_file", "insecure")
CONNECTION_OPTIONS = ("url", "api_key", "profile", "timeout", *TRUST_KEYS)


def config_path() -> Path:
    """The user's config file (XDG base directories)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "cleverfox" / "config.toml"


def read_profiles(path: Path) -> dict[str, dict[str, Any]]:
    """The ``[profiles.*]`` tables of the config file; none when it does not exist."""
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise click.UsageError(f"cannot read {path}: {exc}") from None
    profiles = document.get("profiles", {})
    if not isinstance(profiles, dict):
        raise click.UsageError(f"{path}: 'profiles' must be a table")
    return {name: dict(table) for name, table in profiles.items() if isinstance(table, dict)}


def write_profiles(path: Path, profiles: Mapping[str, Mapping[str, Any]]) -> None:
    """Write the config file anew, readable by its owner only (it holds API keys)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(_toml(profiles))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _toml(profiles: Mapping[str, Mapping[str, Any]]) -> str:
    # A JSON string is a valid TOML basic string, and so are true/false.
    lines = ["# CleverFox Backup command line: `cleverfox config set-profile` writes this file."]
    for name, table in sorted(profiles.items()):
        lines.append(f"\n[profiles.{json.dumps(name)}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in table.items())
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Connection:
    """Everything a :class:`Client` is built from."""

    url: str
    api_key: str
    fingerprint: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    timeout: float = 30.0

    def client(self) -> Client:
        """The SDK client; a bad URL, key or fingerprint is a usage error."""
        verify: bool | str = self.ca_file or not self.insecure
        try:
            return Client(
                self.url,
                self.api_key,
                verify=verify,
                fingerprint=self.fingerprint,
                timeout=self.timeout,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


def resolve(options: Mapping[str, Any], path: Path | None = None) -> Connection:
    """The connection from the command's options (flags and environment, as click read
    them) and the profile. A missing URL or key is a usage error."""
    profile = _profile(options.get("profile"), path or config_path())
    given = {key: options.get(key) for key in PROFILE_KEYS}
    trust = given if any(given[key] for key in TRUST_KEYS) else profile
    url = given["url"] or profile.get("url")
    api_key = given["api_key"] or profile.get("api_key")
    if not url or not api_key:
        raise click.UsageError(
            "no server given: use --url and --api-key, CLEVERFOX_URL and CLEVERFOX_API_KEY, "
            "or a profile (cleverfox config set-profile)"
        )
    return Connection(
        url=str(url),
        api_key=str(api_key),
        fingerprint=_text(trust.get("fingerprint")),
        ca_file=_text(trust.get("ca_file")),
        insecure=bool(trust.get("insecure")),
        timeout=float(options.get("timeout") or 30.0),
    )


def _text(value: object) -> str | None:
    return str(value) if value else None


def _profile(name: str | None, path: Path) -> dict[str, Any]:
    profiles = read_profiles(path)
    if name is None:
        return profiles.get(DEFAULT_PROFILE, {})
    if name not in profiles:
        raise click.UsageError(f"no profile {name!r} in {path}")
    return profiles[name]


def connection_params() -> list[click.Option]:
    """The options every API command takes to reach the server."""
    return [
        click.Option(
            ["--url"],
            envvar="CLEVERFOX_URL",
            show_envvar=True,
            help="The server, https://host:port.",
        ),
        click.Option(
            ["--api-key"], envvar="CLEVERFOX_API_KEY", show_envvar=True, help="A partner API key."
        ),
        click.Option(
            ["--profile"],
            envvar="CLEVERFOX_PROFILE",
            show_envvar=True,
            help="A profile of the config file (default: the one named 'default').",
        ),
        click.Option(
            ["--fingerprint"],
            envvar="CLEVERFOX_FINGERPRINT",
            show_envvar=True,
            help="Trust only the certificate with this SHA-256 (as the server prints at start-up).",
        ),
        click.Option(
            ["--ca-file"],
            envvar="CLEVERFOX_CA_FILE",
            show_envvar=True,
            type=click.Path(exists=True),
            help="Trust the CA certificates in this file.",
        ),
        click.Option(
            ["--insecure"],
            is_flag=True,
            default=None,
            help="Do not verify the server's certificate (testing only).",
        ),
        click.Option(
            ["--timeout"],
            type=click.FloatRange(min=0.1),
            default=None,
            help="Seconds to wait for an answer (default 30).",
        ),
    ]


def pop_connection(values: dict[str, Any]) -> dict[str, Any]:
    """Take the connection options out of a command's keyword arguments."""
    return {key: values.pop(key, None) for key in CONNECTION_OPTIONS}
