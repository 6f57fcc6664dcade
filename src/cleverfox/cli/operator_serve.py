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
@click.option(
    "--storage-url", envvar="CLEVERFOX_STORAGE_URL", help="s3://bucket/prefix (default: data dir)."
)
@click.option("--tls-cert", type=click.Path(path_type=Path), envvar="CLEVERFOX_TLS_CERT")
@click.option("--tls-key", type=click.Path(path_type=Path), envvar="CLEVERFOX_TLS_KEY")
@click.option(
    "--trusted-proxies",
    envvar="CLEVERFOX_TRUSTED_PROXIES",
    help="CIDR,… of TLS-terminating proxies.",
)
@click.option(
    "--smtp-url", envvar="CLEVERFOX_SMTP_URL", help="smtp://, smtp+starttls:// or smtps:// URL."
)
@click.option(
    "--secret-key-file", type=click.Path(path_type=Path), envvar="CLEVERFOX_SECRET_KEY_FILE"
)
@click.option(
    "--rate-limit", envvar="CLEVERFOX_RATE_LIMIT", help="RPM[,BURST] per API key; 0 = off."
)
@click.option("--checkin-interval", type=int, envvar="CLEVERFOX_CHECKIN_INTERVAL")
@click.option("--missed-job-interval", type=int, envvar="CLEVERFOX_MISSED_JOB_INTERVAL")
@click.option("--running-log-timeout", type=float, envvar="CLEVERFOX_RUNNING_LOG_TIMEOUT")
@click.option(
    "--workers", type=int, envvar="CLEVERFOX_WORKERS", help="Server processes (default 1)."
)
@click.option(
    "--public-url",
    envvar="CLEVERFOX_PUBLIC_URL",
    help="How clients reach this server, if not direct.",
)
@click.option(
    "--mail-from", envvar="CLEVERFOX_MAIL_FROM", help="Sender of notification and invitation mail."
)
@click.option(
    "--no-migrate",
    "migrate",
    flag_value=False,
    default=None,
    help="Refuse to start on an old schema instead of upgrading it.",
)
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
    cli.add_command(demo)
    cli.add_command(db)


@click.command()
@data_options
@click.option("--host", envvar="CLEVERFOX_HOST", help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, envvar="CLEVERFOX_PORT", help="Port (default 8443).")
def demo(**options: Any) -> None:
    """Serve on the embedded defaults with a demo partner and data; print a working curl line.

    \b
    Example:
      cleverfox demo            # then run the curl line it prints
    """
    from cleverfox.cli.operator import operator_session
    from cleverfox.server.demo import ensure_demo
    from cleverfox.server.runner import serve as run

    settings = make_settings(**options)
    with operator_session(settings) as (session, secret):
        made = ensure_demo(session, secret, settings.data_dir)
    cert = (settings.data_dir / "tls" / "server.crt").resolve()
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104

    def announce(lines: list[str]) -> None:
        _print_lines(lines)
        click.echo(f"Demo partner {made.partner_id}, API key: {made.api_key}")
        click.echo("Try:")
        click.echo(
            f"  curl --cacert {cert} -u {made.api_key}: "
            f"https://{host}:{settings.port}/api/companies"
        )
        click.echo("Stop with Ctrl+C.")

    raise SystemExit(run(settings, on_ready=announce))
