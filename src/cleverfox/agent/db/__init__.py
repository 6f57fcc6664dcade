"""Database dumps for database job items: :func:`open_dump`.

Owns turning a check-in's database JobItem (EngineId ``PGSQL``, ``MYSQL``, ``SQLITE`` or
``MSSQL``) into a stream of dump files in formats that deduplicate from run to run, with the
server's version and edition. Each engine's module says what it runs (``postgres``,
``mysql``, ``sqlite``, ``sqlserver``); ``process`` runs the tools; ``item`` checks the item.

Contract, for every engine:

- Credentials never reach a command line, a log line or an error message: they go through
  0600 files in a private work folder (removed afterwards) or the child's own environment,
  and every :class:`~cleverfox.agent.model.DumpFailed` message has the password scrubbed.
- A tool that is missing, cannot connect or exits non-zero raises ``DumpFailed`` (with the
  tail of its stderr) on entry or when the context exits; leaving the context normally
  before a stream was read to its end raises ``DumpFailed`` too. So a context that exits
  cleanly means a complete dump.
- Leaving the context by an exception kills the tool; every child is reaped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from cleverfox.agent.db.item import MYSQL, POSTGRESQL, SQL_SERVER, SQLITE, DatabaseItem
from cleverfox.agent.db.mysql import open_mysql_dump
from cleverfox.agent.db.postgres import open_postgres_dump
from cleverfox.agent.db.sqlite import open_sqlite_dump
from cleverfox.agent.db.sqlserver import open_sql_server_dump
from cleverfox.agent.model import Dump, DumpFailed

__all__ = ["DATABASE_ENGINES", "Dump", "DumpFailed", "open_dump"]

_Opener = Callable[..., AbstractContextManager[Dump]]
_OPENERS: dict[str, _Opener] = {
    POSTGRESQL: open_postgres_dump,
    MYSQL: open_mysql_dump,
    SQLITE: open_sqlite_dump,
    SQL_SERVER: open_sql_server_dump,
}
DATABASE_ENGINES = frozenset(_OPENERS)
"""The EngineIds :func:`open_dump` takes (the catalogue's database backup types)."""


@contextmanager
def open_dump(
    item: Mapping[str, Any], *, work_dir: Path, environ: Mapping[str, str] | None = None
) -> Iterator[Dump]:
    """Open ``item``'s dump: iterate ``dump.files()`` and read each stream to its end.

    ``item`` is the check-in's JobItem (wire names: EngineId, ServerName, DatabaseName,
    Port, AuthenticationMode, Username, Password, OptionCompress, OptionCopyOnly,
    OptionLogOnly). ``work_dir`` is where the dump may keep its private files (SQLite's and
    SQL Server's one temporary copy, the credentials files); nothing is left there after.
    ``environ`` is the environment tools start from (default: the agent's), minus any
    inherited ``PG*``/``MYSQL*``/``SQLCMD*`` settings. Raises ``DumpFailed`` as the package
    docstring says.
    """
    database = DatabaseItem.from_job_item(item)
    opener = _OPENERS[database.engine]
    with opener(
        database, work_dir=work_dir, environ=os.environ if environ is None else environ
    ) as dump:
        yield dump
