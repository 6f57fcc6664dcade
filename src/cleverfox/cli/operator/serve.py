"""``cleverfox serve``, ``cleverfox demo`` and ``cleverfox db upgrade``."""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path

import click

from cleverfox.cli.operator.context import (
    Operator,
    OperatorCommand,
    OperatorGroup,
    data_options,
    pass_operator,
    setting_option,
)


def command(name: str) -> click.Command:
    """The command ``name`` of this module (``cli.lazy``)."""
    return {"serve": serve, "demo": demo, "db": db}[name]


@click.command(cls=OperatorCommand)
@data_options
@setting_option("--host", envvar="CLEVERFOX_HOST", help="Address to listen on (default 127.0.0.1).")
@setting_option("--port", type=int, envvar="CLEVERFOX_PORT", help="Port (default 8443).")
@setting_option(
    "--storage-url", envvar="CLEVERFOX_STORAGE_URL", help="s3://bucket/prefix (default: data dir)."
)
@setting_option("--tls-cert", type=click.Path(path_type=Path), envvar="CLEVERFOX_TLS_CERT")
@setting_option("--tls-key", type=click.Path(path_type=Path), envvar="CLEVERFOX_TLS_KEY")
@setting_option(
    "--trusted-proxies",
    envvar="CLEVERFOX_TRUSTED_PROXIES",
    help="CIDR,… of TLS-terminating proxies.",
)
@setting_option(
    "--smtp-url", envvar="CLEVERFOX_SMTP_URL", help="smtp://, smtp+starttls:// or smtps:// URL."
)
@setting_option(
    "--secret-key-file", type=click.Path(path_type=Path), envvar="CLEVERFOX_SECRET_KEY_FILE"
)
@setting_option(
    "--rate-limit", envvar="CLEVERFOX_RATE_LIMIT", help="RPM[,BURST] per API key; 0 = off."
)
@setting_option("--checkin-interval", type=int, envvar="CLEVERFOX_CHECKIN_INTERVAL")
@setting_option("--missed-job-interval", type=int, envvar="CLEVERFOX_MISSED_JOB_INTERVAL")
@setting_option("--running-log-timeout", type=float, envvar="CLEVERFOX_RUNNING_LOG_TIMEOUT")
@setting_option(
    "--workers", type=int, envvar="CLEVERFOX_WORKERS", help="Server processes (default 1)."
)
@setting_option(
    "--public-url",
    envvar="CLEVERFOX_PUBLIC_URL",
    help="How clients reach this server, if not direct.",
)
@setting_option(
    "--mail-from", envvar="CLEVERFOX_MAIL_FROM", help="Sender of notification and invitation mail."
)
@setting_option(
    "--no-migrate",
    "migrate",
    flag_value=False,
    default=None,
    help="Refuse to start on an old schema instead of upgrading it.",
)
@pass_operator
def serve(operator: Operator) -> None:
    """Serve the API over HTTPS until SIGTERM/SIGINT.

    \b
    Example:
      cleverfox serve --data-dir /var/lib/cleverfox --port 8443
    """
    from cleverfox.server.runner import serve as run

    raise SystemExit(run(operator.settings, on_ready=_print_lines))


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


@click.group(cls=OperatorGroup)
def db() -> None:
    """The server's database."""


@db.command("upgrade")
@data_options
@pass_operator
def db_upgrade(operator: Operator) -> None:
    """Bring the database schema up to date (safe while servers run)."""
    operator.open_database().dispose()
    click.echo("Database schema is up to date.")


@click.command(cls=OperatorCommand)
@data_options
@setting_option("--host", envvar="CLEVERFOX_HOST", help="Address to listen on (default 127.0.0.1).")
@setting_option("--port", type=int, envvar="CLEVERFOX_PORT", help="Port (default 8443).")
@pass_operator
def demo(operator: Operator) -> None:
    """Serve on the embedded defaults with a demo partner and data; print a working curl line.

    It also prints the environment that makes the API commands work in another terminal
    (``cleverfox companies list``).

    \b
    Example:
      cleverfox demo            # then run the curl line it prints
    """
    from cleverfox.server.demo import ensure_demo
    from cleverfox.server.kit.tls import ensure_certificate
    from cleverfox.server.runner import serve as run

    settings = operator.settings
    with operator.session() as (session, secret):
        made = ensure_demo(session, secret, settings.data_dir)
    pair = None if settings.behind_proxy else ensure_certificate(settings)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104
    url = f"{'https' if pair else 'http'}://{host}:{settings.port}"

    def announce(lines: list[str]) -> None:
        _print_lines(lines)
        click.echo(f"Demo partner {made.partner_id}, API key: {made.api_key}")
        click.echo("Try:")
        trust = f"--cacert {pair.cert_path.resolve()} " if pair else ""
        click.echo(f"  curl {trust}-u {made.api_key}: {url}/api/companies")
        click.echo("The command line, in another terminal:")
        environment = {"CLEVERFOX_URL": url, "CLEVERFOX_API_KEY": made.api_key}
        if pair is not None:
            environment["CLEVERFOX_FINGERPRINT"] = pair.fingerprint_sha256
        click.echo("  export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in environment.items()))
        click.echo(f"  {installed_command()} companies list")
        click.echo('Back up a folder with the agent: README.md, "Back up a folder with the agent".')
        click.echo("Stop with Ctrl+C.")

    raise SystemExit(run(settings, on_ready=announce))


def installed_command() -> str:
    """How another terminal runs this ``cleverfox``: by name when that name on PATH is this
    installation's, else by the full path of this installation's script (``make run``
    does not put ``.venv/bin`` on PATH), else through this Python."""
    script = Path(sys.executable).with_name("cleverfox")
    found = shutil.which("cleverfox")
    if found is not None and script.exists() and Path(found).resolve() == script.resolve():
        return "cleverfox"
    if script.exists():
        return shlex.quote(str(script.absolute()))
    return f"{shlex.quote(sys.executable)} -m cleverfox"
