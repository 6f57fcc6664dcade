"""Bringing the schema up to date, safely when several processes start at once.

PostgreSQL: a session advisory lock serialises concurrent upgrades. SQLite: an exclusive
file lock beside the database does. Either way the second process finds nothing to do.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from cleverfox.server.kit.db import advisory_lock

_LOCK_ID = 0x0C1E_F0C5  # an arbitrary constant: "cleverfox migrations"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (a no-op when the schema is current)."""
    with _exclusive(engine), engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with advisory_lock(engine, _LOCK_ID):
            yield
        return
    database = engine.url.database
    lock_path = Path(f"{database}.migrate.lock") if database else None
    if lock_path is None:
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
