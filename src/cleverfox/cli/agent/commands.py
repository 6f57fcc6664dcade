"""``cleverfox agent …``: the commands of agent.md §2.

This module imports click only; each command imports the agent when it runs, so
``cleverfox agent --help`` stays instant. Exit codes (``agent.core.errors``): 0 ok, 1 a run
failed, 2 usage or configuration, 3 server unreachable / TLS / key refused.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

HELP = "The backup agent of this device: enrol, run jobs, restore."


def config_option(function: F) -> F:
    return click.option(
        "--config",
        "config",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="The agent's config file (default: the platform's, see docs/agent.md).",
    )(function)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(
        function
    )


def emit(value: object) -> None:
    click.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


@click.group("agent", help=HELP, context_settings={"help_option_names": ["-h", "--help"]})
def agent() -> None:
    """The backup agent of this device: enrol, run jobs, restore."""


@agent.command("enrol")
@click.argument("url", required=False)
@click.option("--server", help="The server's https:// URL (instead of URL).")
@click.option(
    "--fingerprint", help="SHA-256 of the server's certificate to pin (hex, colons allowed)."
)
@click.option("--key", help="The device's ApiKey (with --server).")
@click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), help="The agent's data folder."
)
@config_option
def enrol(
    url: str | None,
    server: str | None,
    fingerprint: str | None,
    key: str | None,
    data_dir: Path | None,
    config: Path | None,
) -> None:
    """Enrol this machine as a device: from its AgentDownloadUrl, or --server/--key."""
    from cleverfox.cli.agent.actions import enrol as run_enrol

    if url is not None and (server or key):
        raise click.UsageError("give the download URL or --server with --key, not both")
    if url is None and not (server and key):
        raise click.UsageError("give the device's AgentDownloadUrl, or --server and --key")
    click.echo(run_enrol(url, server, fingerprint, key, data_dir, config))


@agent.command("run")
@click.option(
    "--grace",
    type=click.IntRange(1, 3600),
    default=60,
    show_default=True,
    help="Seconds a run gets to end after SIGTERM/SIGINT.",
)
@config_option
def run(grace: int, config: Path | None) -> None:
    """Run as the service: check in, run due jobs, until SIGTERM/SIGINT."""
    from cleverfox.cli.agent.actions import serve

    serve(config, grace)


@agent.command("once")
@json_option
@config_option
def once(as_json: bool, config: Path | None) -> None:
    """Check in, run what is due now, exit 0 if every run completed, 1 if one failed."""
    from cleverfox.cli.agent.actions import run_once

    sys.exit(run_once(config, as_json))


@agent.command("backup")
@click.argument("job_id", type=click.IntRange(min=1))
@click.option(
    "--progress/--no-progress",
    default=None,
    help="The live progress line (default: on a terminal).",
)
@json_option
@config_option
def backup(job_id: int, progress: bool | None, as_json: bool, config: Path | None) -> None:
    """Run one job now, whatever its schedule."""
    from cleverfox.cli.agent.actions import run_backup

    shown = sys.stderr.isatty() if progress is None else progress
    sys.exit(run_backup(config, job_id, shown, as_json))


@agent.command("status")
@json_option
@config_option
def status(as_json: bool, config: Path | None) -> None:
    """The config, the server's reachability, the jobs and their next runs, the last runs."""
    from cleverfox.cli.agent.actions import show_status

    sys.exit(show_status(config, as_json))


@agent.command("copies")
@json_option
@config_option
def copies(as_json: bool, config: Path | None) -> None:
    """The local copies kept, per job."""
    from cleverfox.cli.agent.actions import show_copies

    show_copies(config, as_json)


@agent.command("restore")
@click.argument("log_item_id", type=click.IntRange(min=1))
@click.option(
    "--to",
    "target",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder to restore into.",
)
@click.option("--path", "paths", multiple=True, help="Only files matching this glob (repeatable).")
@click.option("--local", is_flag=True, help="From this device's local copies (works offline).")
@click.option("--overwrite", is_flag=True, help="Restore into a folder that is not empty.")
@json_option
@config_option
def restore(
    log_item_id: int,
    target: Path,
    paths: tuple[str, ...],
    local: bool,
    overwrite: bool,
    as_json: bool,
    config: Path | None,
) -> None:
    """Restore a run's files (or the matching ones) into a folder."""
    from cleverfox.cli.agent.actions import run_restore

    run_restore(config, log_item_id, target, list(paths), local, overwrite, as_json)


@agent.command("install-service")
@click.option(
    "--print", "print_only", is_flag=True, help="Print the service file and do nothing else."
)
@click.option("--enable", is_flag=True, help="Write and enable it (root / administrator).")
@click.option(
    "--platform",
    "target",
    type=click.Choice(["linux", "darwin", "win32"]),
    default=None,
    help="Whose file (default: this machine's).",
)
@click.option("--python", default=None, help="The Python that runs the agent (default: this one).")
@config_option
def install_service(
    print_only: bool, enable: bool, target: str | None, python: str | None, config: Path | None
) -> None:
    """Make `cleverfox agent run` a service: systemd, launchd or a Windows task."""
    from cleverfox.cli.agent.actions import service

    if print_only and enable:
        raise click.UsageError("give --print or --enable, not both")
    click.echo(
        service(config, target or sys.platform, python or sys.executable, print_only, enable),
        nl=False,
    )
