"""``cleverfox serve`` and ``cleverfox db upgrade``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cleverfox.cli.operator import data_options, make_settings, open_db


@click.command()
@data_options
@click.option("--host", envvar="CLEVERFOX_HOST", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, envvar="CLEVERFOX_PORT", help="Port (default 8443).")
@click.option("--storage-url", envvar="CLEVERFOX_STORAGE_URL", help="s3://bucket/prefix (default: data dir).")
@click.option("--tls-cert", type=click.Path(path_type=Path), envvar="CLEVERFOX_TLS_CERT")
@click.option("--tls-key", type=click.Path(path_type=Path), envvar="CLEVERFOX_TLS_KEY")
@click.option("--trusted-proxies", envvar="CLEVERFOX_TRUSTED_PROXIES", help="CIDR,… of TLS-terminating proxies.")
@click.option("--smtp-url", envvar="CLEVERFOX_SMTP_URL", help="smtp://, smtp+starttls:// or smtps:// URL.")
@click.option("--secret-key-file", type=click.Path(path_type=Path), envvar="CLEVERFOX_SECRET_KEY_FILE")
@click.option("--rate-limit", envvar="CLEVERFOX_RATE_LIMIT", help="RPM[,BURST] per API key; 0 = off.")
@click.option("--checkin-interval", type=int, envvar="CLEVERFOX_CHECKIN_INTERVAL")
@click.option("--missed-job-interval", type=int, envvar="CLEVERFOX_MISSED_JOB_INTERVAL")
@click.option("--running-log-timeout", type=float, envvar="CLEVERFOX_RUNNING_LOG_TIMEOUT")
@click.option("--workers", type=int, envvar="CLEVERFOX_WORKERS", help="Server processes (default 1).")
@click.option("--no-migrate", "migrate", flag_value=False, default=None,
              help="Refuse to start on an old schema instead of upgrading it.")
def serve(**options: Any) -> None:
    """Serve the API over HTTPS until SIGTERM/SIGINT.

    \b
    Example:
      cleverfox serve --data-dir /var/lib/cleverfox --port 8443
    """
    from cleverfox.server.runner import serve as run

    settings = make_settings(**options)
    raise SystemExit(run(settings, on_ready=_print_lines))


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@click.group()
def db() -> None:
    """The server's database."""


@db.command("upgrade")
@data_options
def db_upgrade(**options: Any) -> None:
    """Bring the database schema up to date (safe while servers run)."""
    open_db(make_settings(**options)).dispose()
    click.echo("Database schema is up to date.")


def register(cli: click.Group) -> None:
    cli.add_command(serve)
    cli.add_command(db)
