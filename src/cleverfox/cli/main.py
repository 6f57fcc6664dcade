"""Root of the ``cleverfox`` command. Errors map to exit codes in one place (``main``).

Every subcommand is imported on first use (``cli.lazy``): the table below names its module
and its one-line help, so ``cleverfox --help`` imports no command and a partner's API command
imports the SDK, never the server.
"""

from __future__ import annotations

import sys

import click

from cleverfox import __version__
from cleverfox.cli.lazy import Lazy, LazyGroup

EXIT_USAGE = 2
EXIT_FAILED = 1

_SERVING = "cleverfox.cli.operator.serve"
_ADMINISTRATION = "cleverfox.cli.operator.admin"
_KEYRING = "cleverfox.cli.operator.secret"
_STORAGE = "cleverfox.cli.operator.storage"
_API = "cleverfox.cli.api"
_AGENT = "cleverfox.cli.agent"

OPERATOR_COMMANDS = {
    "serve": Lazy(_SERVING, "Serve the API over HTTPS until SIGTERM/SIGINT."),
    "demo": Lazy(
        _SERVING,
        "Serve on the embedded defaults with a demo partner and data; print a working curl line.",
    ),
    "db": Lazy(_SERVING, "The server's database."),
    "partner": Lazy(_ADMINISTRATION, "Partner accounts."),
    "plantype": Lazy(_ADMINISTRATION, "Plan types (the catalogue of partner plans)."),
    "plan": Lazy(_ADMINISTRATION, "Plans (what a subscription may use)."),
    "subscription": Lazy(
        _ADMINISTRATION, "Subscriptions: the operator's settings of a company's plan."
    ),
    "secret": Lazy(
        _KEYRING,
        "The server secret: a keyring whose first key is current (see docs/operations.md).",
    ),
    "storage": Lazy(_STORAGE, "Backup storage: garbage collection, integrity check, statistics."),
}
"""operator-cli.md: run and administer a server (these import the server)."""

API_COMMANDS = {
    "config": Lazy(
        _API, "Profiles of the API commands (file: $XDG_CONFIG_HOME/cleverfox/config.toml)."
    ),
    "partners": Lazy(_API, "Your partner account (a list of one)."),
    "partner-users": Lazy(_API, "People of your organisation who use the web console."),
    "plan-types": Lazy(_API, "The families of plans (read-only)."),
    "plans": Lazy(_API, "What a subscription may be on (read-only)."),
    "companies": Lazy(_API, "Your customers."),
    "company-users": Lazy(_API, "People of a customer company."),
    "subscriptions": Lazy(_API, "Companies' plans."),
    "devices": Lazy(_API, "The PCs and servers that are backed up."),
    "time-zones": Lazy(_API, "The time zones a device may use (read-only; ids are Windows ids)."),
    "backup-types": Lazy(_API, "Files and the kinds of database a job item backs up (read-only)."),
    "jobs": Lazy(_API, "Scheduled backups of devices."),
    "job-items": Lazy(_API, "What jobs back up: folders or databases."),
    "logs": Lazy(_API, "Runs of jobs, and missed ones (read-only)."),
    "log-items": Lazy(_API, "Each job item's result within a log (read-only)."),
    "events": Lazy(_API, "The audit trail (read-only)."),
    "event-types": Lazy(_API, "The kinds of event (read-only)."),
}
"""The partner's API commands (cli/api): they import the SDK only."""

AGENT_COMMANDS = {
    "agent": Lazy(_AGENT, "The backup agent of this device: enrol, run jobs, restore."),
}
"""agent.md §2: the device's agent (cli/agent): it imports the agent and the SDK, not the server."""


@click.group(
    cls=LazyGroup,
    lazy={**OPERATOR_COMMANDS, **API_COMMANDS, **AGENT_COMMANDS},
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="cleverfox")
def cli() -> None:
    """CleverFox Backup: run and administer a server, use its API, or run a device's agent."""


def main() -> None:
    """Entry point: a failure prints one line on stderr and exits non-zero."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_FAILED)
    except click.UsageError as exc:
        click.echo(f"error: {exc.format_message()} (see '{_command_path(exc)} --help')", err=True)
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        line = _server_failure(exc)
        if line is None:
            raise
        click.echo(f"error: {line}", err=True)
        sys.exit(EXIT_FAILED)


def _server_failure(exc: Exception) -> str | None:
    """The one line of a typed error of the server's code; None for anything else.

    Only operator commands import the server, so when it was never imported the error
    cannot be one of its own, and the server stays unimported on the partner's path.
    """
    if "cleverfox.server" not in sys.modules:
        return None
    from cleverfox.cli.operator.failures import describe

    return describe(exc)


def _command_path(exc: click.UsageError) -> str:
    return exc.ctx.command_path if exc.ctx is not None else "cleverfox"
