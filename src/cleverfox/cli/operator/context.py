"""What every operator command works from: one validated ``Settings`` in ``ctx.obj``.

An operator command is an :class:`OperatorCommand`. Its setting options (made with
:func:`setting_option`, :func:`data_options`: ``--data-dir``, ``--database-url``, ``serve``'s
``--port`` …) are not passed to the callback: the command validates them once into
:class:`Operator.settings` (None = not given, so the environment or the default) and puts
the :class:`Operator` in ``ctx.obj``; the callback takes it with :data:`pass_operator`, as
click's own examples pass their shared object. The options stay on each command because
operator-cli.md puts them after it (``cleverfox partner list --data-dir DIR``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from pydantic import ValidationError

from cleverfox.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cleverfox.server.kit.db import Database
    from cleverfox.server.kit.secrets import ServerSecret

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operator:
    """The validated settings of one operator command, and what they open."""

    settings: Settings

    def open_database(self) -> Database:
        """The database, its schema brought up to date unless ``--no-migrate``."""
        from cleverfox.server.app import open_database

        return open_database(self.settings)

    @contextmanager
    def session(self) -> Iterator[tuple[Session, ServerSecret]]:
        """A migrated database, one write transaction and the server secret."""
        with operator_session(self.settings) as opened:
            yield opened


pass_operator = click.make_pass_decorator(Operator)
"""Hands the command's :class:`Operator` to its callback as the first argument."""


class SettingOption(click.Option):
    """An option that is a field of ``Settings`` (same name): it goes into the command's
    :class:`Operator`, not to its callback."""


class OperatorCommand(click.Command):
    """A command whose :class:`SettingOption` values become one validated ``Settings``."""

    def invoke(self, ctx: click.Context) -> Any:
        given = {
            str(param.name): ctx.params.pop(str(param.name))
            for param in self.params
            if isinstance(param, SettingOption)
        }
        ctx.obj = Operator(make_settings(**given))
        return super().invoke(ctx)


class OperatorGroup(click.Group):
    """A group of operator commands (``partner``, ``secret`` …)."""

    command_class = OperatorCommand


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
    from cleverfox.server.kit.secrets import load_or_create_secret

    db = open_database(settings)
    try:
        with db.writing() as session:
            yield session, load_or_create_secret(settings.secret_key_path)
    finally:
        db.dispose()


def setting_option(*declarations: str, **attributes: Any) -> Callable[[F], F]:
    """``click.option`` for a field of ``Settings`` (see :class:`SettingOption`)."""
    return click.option(*declarations, cls=SettingOption, **attributes)


def data_options(func: F) -> F:
    """``--data-dir`` and ``--database-url``, shared by every operator command."""
    func = setting_option(
        "--database-url",
        envvar="CLEVERFOX_DATABASE_URL",
        help="postgresql://… (default: SQLite in the data directory).",
    )(func)
    return setting_option(
        "--data-dir",
        type=click.Path(path_type=Path),
        envvar="CLEVERFOX_DATA_DIR",
        help="Where the server keeps its data (default ./cleverfox-data).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)


def emit(result: dict[str, Any], as_json: bool, text: str) -> None:
    click.echo(json.dumps(result) if as_json else text)
