"""Operator commands (operator-cli.md): serve, demo, partner, plantype, plan, subscription, db.

Each command parses, calls one function, prints. ``--json`` prints the result as JSON on
stdout; a failure prints one line on stderr and exits non-zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.orm import Session

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret, load_or_create_secret
from cleverfox.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def data_options(func: F) -> F:
    """``--data-dir`` and ``--database-url``, shared by every operator command."""
    func = click.option(
        "--database-url",
        envvar="CLEVERFOX_DATABASE_URL",
        help="postgresql://… (default: SQLite in the data directory).",
    )(func)
    return click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        envvar="CLEVERFOX_DATA_DIR",
        help="Where the server keeps its data (default ./cleverfox-data).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)


def make_settings(**options: Any) -> Settings:
    """Settings from the options given (None = not given, so the environment or default)."""
    try:
        return Settings(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise click.BadParameter(f"{where}: {first['msg']}") from None


@contextmanager
def operator_session(settings: Settings) -> Iterator[tuple[Session, ServerSecret]]:
    """A migrated database and one write transaction for an operator command."""
    from cleverfox.server.app import open_database

    db = open_database(settings)
    try:
        with db.writing() as session:
            yield session, load_or_create_secret(settings.secret_key_path)
    finally:
        db.dispose()


def emit(result: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(result) if as_json else text)


def register_operator_commands(cli: click.Group) -> None:
    from cleverfox.cli import operator_admin, operator_secret, operator_serve

    operator_serve.register(cli)
    operator_admin.register(cli)
    operator_secret.register(cli)


def open_db(settings: Settings) -> Database:
    from cleverfox.server.app import open_database

    return open_database(settings)
