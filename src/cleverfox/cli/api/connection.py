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

import hashlib
import json
import os
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from click.core import ParameterSource

from cleverfox.client import Client, errors

DEFAULT_PROFILE = "default"
PROFILE_KEYS = ("url", "api_key", "fingerprint", "ca_file", "insecure")
TRUST_KEYS = ("fingerprint", "ca_file", "insecure")
CONNECTION_OPTIONS = ("url", "api_key", "profile", "timeout", *TRUST_KEYS)
SDK_PARAMETERS = {"base_url": "url", "api_key": "api_key"}
"""The SDK's names of the settings, as its ValueErrors start with them."""
PEEK_SECONDS = 5.0
"""At most this long to fetch a refused certificate, to show its fingerprint."""


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
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Where each setting came from, as a person gave it: ``--url``, ``CLEVERFOX_URL``,
    ``url of profile 'acme' in …/config.toml``."""

    def client(self) -> Client:
        """The SDK client; a bad URL, key or fingerprint is a usage error naming where the
        value came from."""
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
            raise click.UsageError(self.explain(exc)) from None

    def explain(self, error: ValueError) -> str:
        """The SDK's complaint about one of its parameters, about the option instead:
        ``base_url must be an https:// URL`` → ``--url must be an https:// URL``."""
        text = str(error)
        for parameter, setting in SDK_PARAMETERS.items():
            if text.startswith(parameter + " "):
                shown = f" (got {self.url!r})" if setting == "url" else ""
                return f"{self.origin(setting)} {text.removeprefix(parameter + ' ')}{shown}"
        if "fingerprint" in text:
            return f"{self.origin('fingerprint')}: {text}"
        return text

    def origin(self, setting: str) -> str:
        """Where ``setting`` came from (its flag when nothing else is known)."""
        return self.origins.get(setting) or "--" + setting.replace("_", "-")

    def transport_failure(self, error: errors.TransportError) -> str:
        """One line for a failure to reach the server: the URL tried, and how to trust a
        certificate that was refused."""
        if isinstance(error, errors.PinMismatch):
            return f"{self.url}: {error} (the certificate changed, or this is another server)"
        if isinstance(error, errors.TLSError):
            if not _certificate_refused(error):
                return f"{self.url}: {error}"
            return f"{self.url}: {error}; {self._trust_hint()}"
        if isinstance(error, errors.RequestTimeout):
            return f"no answer from {self.url} in time ({error})"
        if not error.request_sent:
            return f"cannot connect to {self.url}: {error}"
        return f"the connection to {self.url} failed: {error}"

    def _trust_hint(self) -> str:
        actual = peer_fingerprint(self.url, timeout=min(self.timeout, PEEK_SECONDS))
        pin = f"--fingerprint {actual}" if actual else "--fingerprint SHA256"
        return (
            f"if it is your server's own certificate, pin it with {pin} (compare it with the "
            "fingerprint the server printed when it started) or trust its CA with --ca-file FILE"
        )


def resolve(
    options: Mapping[str, Any],
    path: Path | None = None,
    origins: Mapping[str, str] | None = None,
) -> Connection:
    """The connection from the command's options (flags and environment, as click read
    them; ``origins`` says which flag or variable each came from) and the profile. A
    missing URL or key is a usage error."""
    path = path or config_path()
    name, profile = _profile(options.get("profile"), path)
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
        origins={
            key: (origins or {}).get(key, "")
            if given[key]
            else f"{key} of profile {name!r} in {path}"
            for key in PROFILE_KEYS
        },
    )


def origins_of(ctx: click.Context) -> dict[str, str]:
    """For each connection option click read, the flag or environment variable it came
    from (``--url``, ``CLEVERFOX_URL``)."""
    found: dict[str, str] = {}
    for param in ctx.command.params:
        name = param.name
        if name not in CONNECTION_OPTIONS:
            continue
        source = ctx.get_parameter_source(name)
        if source is ParameterSource.ENVIRONMENT and isinstance(param.envvar, str):
            found[name] = param.envvar
        elif source is ParameterSource.COMMANDLINE:
            found[name] = param.opts[0]
    return found


def peer_fingerprint(url: str, *, timeout: float) -> str | None:
    """The SHA-256 of the certificate the server at ``url`` presents, written as the server
    prints it (``AB:CD:…``); None when it cannot be had. Read without verifying: it is
    shown to a person to compare, never trusted here."""
    parts = urlsplit(url)
    if not parts.hostname:
        return None
    try:
        pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return None
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest()
    return ":".join(f"{byte:02X}" for byte in digest)


def _certificate_refused(error: BaseException) -> bool:
    """Whether a TLS failure is a certificate that did not verify (self-signed, unknown CA)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(error)


def _text(value: object) -> str | None:
    return str(value) if value else None


def _profile(name: str | None, path: Path) -> tuple[str, dict[str, Any]]:
    profiles = read_profiles(path)
    if name is None:
        return DEFAULT_PROFILE, profiles.get(DEFAULT_PROFILE, {})
    if name not in profiles:
        raise click.UsageError(f"no profile {name!r} in {path}")
    return name, profiles[name]


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
