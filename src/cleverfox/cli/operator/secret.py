"""``cleverfox secret rotate | status | prune``: the server secret's keyring.

Each command parses, calls one function of ``server.secrets_rotation`` and prints. The
secret file is checked before the database is opened, so a wrong ``--data-dir`` fails
without making anything there.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from cleverfox.cli.operator.context import (
    Operator,
    OperatorGroup,
    data_options,
    emit,
    json_option,
    pass_operator,
    setting_option,
)
from cleverfox.server import secrets_rotation as rotation
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import SecretFileError, UndecryptableSecret, read_secret

R = TypeVar("R")
RESTART = (
    "Restart every server process now: a running process knows only the keys it "
    "started with, so it cannot find device keys or open credentials under the new key."
)


def secret_file_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return setting_option(
        "--secret-key-file",
        type=click.Path(path_type=Path),
        envvar="CLEVERFOX_SECRET_KEY_FILE",
        help="The secret file (default: secret.key in the data directory).",
    )(func)


@click.group(cls=OperatorGroup)
def secret() -> None:
    """The server secret: a keyring whose first key is current (see docs/operations.md)."""


@secret.command("rotate")
@data_options
@secret_file_option
@json_option
@pass_operator
def secret_rotate(operator: Operator, as_json: bool) -> None:
    """Make a new current key and re-encrypt device keys and job-item credentials under it.

    Older keys stay in the keyring so partner API keys issued before still work. Restart
    every server process afterwards.

    \b
    Example:
      cleverfox secret rotate --data-dir /var/lib/cleverfox
    """
    done = _with_database(operator, rotation.rotate_secret)
    counts = done.re_encrypted
    result = {
        "KeyId": done.key_id,
        "OlderKeyIds": list(done.older_key_ids),
        "DevicesReEncrypted": counts.devices,
        "JobItemsReEncrypted": counts.job_items,
        "CompanyKeysReEncrypted": counts.company_keys,
        "RestartRequired": True,
    }
    emit(
        result,
        as_json,
        f"Key {done.key_id} is now current; {len(done.older_key_ids)} older key(s) kept for "
        f"partner API keys issued before.\nRe-encrypted {counts.devices} device key(s) and "
        f"{counts.job_items} job item(s) with credentials; re-wrapped "
        f"{counts.company_keys} company storage key(s).",
    )
    click.echo(RESTART, err=True)


@secret.command("status")
@data_options
@secret_file_option
@json_option
@pass_operator
def secret_status(operator: Operator, as_json: bool) -> None:
    """Show the keyring and what is stored under an older key.

    \b
    Example:
      cleverfox secret status --json
    """
    found = _with_database(operator, rotation.secret_status)
    result = {
        "KeyId": found.key_id,
        "OlderKeyIds": list(found.older_key_ids),
        "Devices": found.devices,
        "DevicesOnOlderKeys": found.devices_on_older_keys,
        "JobItemsWithCredentials": found.job_items_with_credentials,
        "JobItemsOnOlderKeys": found.job_items_on_older_keys,
        "PartnersWithApiKeys": found.partners_with_keys,
    }
    emit(result, as_json, _status_text(found))


def _status_text(found: rotation.SecretStatus) -> str:
    older = ", ".join(found.older_key_ids) or "none"
    lines = [
        f"Current key: {found.key_id}",
        f"Older keys kept: {len(found.older_key_ids)} ({older})",
        f"Devices: {found.devices}, {found.devices_on_older_keys} on an older key",
        f"Job items with credentials: {found.job_items_with_credentials}, "
        f"{found.job_items_on_older_keys} on an older key",
        f"Partners with an API key: {found.partners_with_keys}",
    ]
    if found.older_key_ids:
        lines.append(
            "Partner API keys issued before the last rotation need an older key: "
            "reissue them (cleverfox partner apikey) before 'cleverfox secret prune'."
        )
    return "\n".join(lines)


@secret.command("prune")
@data_options
@secret_file_option
@json_option
@click.option(
    "--force",
    is_flag=True,
    help="Confirm that partner API keys issued before the last rotation stop working.",
)
@pass_operator
def secret_prune(operator: Operator, as_json: bool, force: bool) -> None:
    """Drop the older keys, re-encrypting anything still under them first.

    Partner API keys issued before the last rotation stop working (their digests cannot be
    recomputed): reissue them with 'cleverfox partner apikey' first. Run only when every
    server process has been restarted since the rotation.

    \b
    Example:
      cleverfox secret prune --force
    """
    if not force:
        raise click.UsageError(
            "prune makes partner API keys issued before the last rotation "
            "stop working; add --force to go ahead"
        )
    done = _with_database(operator, rotation.prune_older_keys)
    counts = done.re_encrypted
    result = {
        "KeyId": done.key_id,
        "RemovedKeyIds": list(done.removed_key_ids),
        "DevicesReEncrypted": counts.devices,
        "JobItemsReEncrypted": counts.job_items,
        "CompanyKeysReEncrypted": counts.company_keys,
    }
    emit(
        result,
        as_json,
        f"Removed {len(done.removed_key_ids)} older key(s); key {done.key_id} is the only one. "
        f"Re-encrypted {counts.devices} device key(s), {counts.job_items} job item(s) and "
        f"{counts.company_keys} company storage key(s).",
    )
    if done.removed_key_ids:
        click.echo("Restart every server process now.", err=True)


def _with_database(operator: Operator, action: Callable[[Database, Path], R]) -> R:
    """Check the secret file, open the (migrated) database, run ``action``, close."""
    path = operator.settings.secret_key_path
    try:
        read_secret(path)
        db = operator.open_database()
        try:
            return action(db, path)
        finally:
            db.dispose()
    except SecretFileError as exc:
        raise click.ClickException(str(exc)) from None
    except UndecryptableSecret as exc:
        raise click.ClickException(
            f"a stored secret does not open with this keyring ({exc}); the database is unchanged"
        ) from None


def command(name: str) -> click.Command:
    """The command ``name`` of this module (``cli.lazy``)."""
    return {"secret": secret}[name]
