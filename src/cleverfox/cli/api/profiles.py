"""``cleverfox config``: named profiles of servers and keys in the user's config file."""

from __future__ import annotations

import click

from cleverfox.cli.api.connection import config_path, read_profiles, write_profiles
from cleverfox.client import normalize_fingerprint


@click.group("config")
def config() -> None:
    """Profiles of the API commands (file: $XDG_CONFIG_HOME/cleverfox/config.toml).

    \b
    Examples:
      cleverfox config set-profile acme --url https://backup.acme.example:8443 --api-key cfp_…
      cleverfox companies list --profile acme
    """


@config.command("set-profile")
@click.argument("name")
@click.option("--url", required=True, help="The server, https://host:port.")
@click.option("--api-key", required=True, help="A partner API key.")
@click.option("--fingerprint", help="Pin the server's certificate SHA-256.")
@click.option(
    "--ca-file",
    type=click.Path(exists=True, resolve_path=True),
    help="Trust the CA certificates in this file.",
)
@click.option("--insecure", is_flag=True, help="Do not verify the certificate (testing only).")
def set_profile(
    name: str, url: str, api_key: str, fingerprint: str | None, ca_file: str | None, insecure: bool
) -> None:
    """Save (or replace) a profile; the file is readable by you only (mode 0600).

    The profile named 'default' is used when no --profile is given.

    \b
    Examples:
      cleverfox config set-profile default --url https://127.0.0.1:8443 --api-key cfp_… \\
          --fingerprint AB:CD:…
      cleverfox config set-profile acme --url https://backup.acme.example --api-key cfp_…
    """
    table: dict[str, object] = {"url": url, "api_key": api_key}
    if fingerprint:
        try:
            table["fingerprint"] = normalize_fingerprint(fingerprint)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--fingerprint") from None
    if ca_file:
        table["ca_file"] = ca_file
    if insecure:
        table["insecure"] = True
    path = config_path()
    profiles = read_profiles(path)
    profiles[name] = table
    write_profiles(path, profiles)
    click.echo(f"Profile {name!r} saved in {path}.")


@config.command("show")
def show() -> None:
    """List the profiles (API keys shown by their first characters only).

    \b
    Example:
      cleverfox config show
    """
    path = config_path()
    profiles = read_profiles(path)
    if not profiles:
        click.echo(f"No profiles in {path}.")
    for name, table in sorted(profiles.items()):
        key = str(table.get("api_key", ""))
        trust = table.get("fingerprint") or table.get("ca_file") or "system CAs"
        click.echo(f"{name}: {table.get('url')} key {key[:8]}… trust {trust}")
