"""Root of the ``cleverfox`` command. Errors map to exit codes in one place (``main``)."""

from __future__ import annotations

import sys

import click

from cleverfox import __version__
from cleverfox.cli.api import register_api_commands
from cleverfox.cli.operator import register_operator_commands
from cleverfox.server.kit.errors import AppError
from cleverfox.server.kit.tls import TlsConfigurationError

EXIT_USAGE = 2
EXIT_FAILED = 1


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cleverfox")
def cli() -> None:
    """CleverFox Backup: run and administer a server, or use its API."""


register_operator_commands(cli)
register_api_commands(cli)


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
    except TlsConfigurationError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    except AppError as exc:
        detail = " ".join(e.message for e in exc.errors)
        click.echo(f"error: {detail or exc.message}", err=True)
        sys.exit(EXIT_FAILED)


def _command_path(exc: click.UsageError) -> str:
    return exc.ctx.command_path if exc.ctx is not None else "cleverfox"
