"""Bulk loading for the logs suite: rows cloned from templates, inserted the fastest honest way.

- SQLite: the statement of SQLAlchemy Core's ``insert(table)``, run by the driver's
  ``executemany``, values stored exactly as SQLAlchemy stores them;
- PostgreSQL: ``COPY … FROM STDIN`` through psycopg, then ``VACUUM (ANALYZE)``;
- both: the secondary indexes of ``logs`` and ``log_items`` dropped during the load and
  created again afterwards from the very statements the migrations left in the catalog
  (and checked to be the same).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Connection

from cleverfox.server.kit.db import Database

T = TypeVar("T")
Row = tuple[Any, ...]
SQLITE_CACHE_KIB = 1_048_576  # the seeding connection's page cache: 1 GiB


def batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


class Shape:
    """A table's columns in order and a template row, copied and filled in for each clone.

    Values are as the server stores them; date-times as SQLAlchemy writes them to SQLite
    (``stored``: ``YYYY-MM-DD HH:MM:SS.ffffff``, which PostgreSQL's ``COPY`` reads too).
    """

    def __init__(self, table: Table, template: dict[str, Any]) -> None:
        self.table = table
        self.columns = [column.name for column in table.columns]
        self.positions = {name: position for position, name in enumerate(self.columns)}
        self.base = [stored(template[name]) for name in self.columns]
        self.template = template

    def row(self, values: dict[str, Any]) -> Row:
        row = self.base.copy()
        for name, value in values.items():
            row[self.positions[name]] = value
        return tuple(row)


def stored(value: Any) -> Any:
    """``value`` as the server stores it (date-times: ``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    return value.isoformat(" ", "microseconds") if isinstance(value, datetime) else value


def insert_rows(db: Database, *tables: tuple[Shape, list[Row]]) -> None:
    """Rows of each table in one transaction: on SQLite the statement of Core's
    ``insert(table)`` run by the driver's ``executemany``; on PostgreSQL ``COPY``."""
    with db.writing() as session:
        connection = session.connection()
        if db.sqlite:
            # This connection's page cache (2 MB by default) would keep evicting the
            # indexes it inserts into; the server's own connections are not affected.
            connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        for shape, rows in tables:
            if db.sqlite:
                statement = str(insert(shape.table).compile(dialect=db.engine.dialect))
                connection.exec_driver_sql(statement, rows)
            else:
                _copy(connection, shape, rows)


def _copy(connection: Connection, shape: Shape, rows: list[Row]) -> None:
    raw = connection.connection.driver_connection
    assert raw is not None
    statement = f"COPY {shape.table.name} ({', '.join(shape.columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def indexes_built_afterwards(db: Database, seconds: dict[str, float]) -> Iterator[None]:
    """The secondary indexes of ``logs`` and ``log_items`` dropped for the load and created
    again afterwards, from the definitions the migrations made (read back from the catalog,
    and checked to be the same again): building an index once is far cheaper than keeping
    ten up to date through three million inserts."""
    definitions = _secondary_indexes(db)
    with db.writing() as session:
        for name, _ in definitions:
            session.connection().exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    started = time.monotonic()
    with db.writing() as session:
        for _, definition in definitions:
            session.connection().exec_driver_sql(definition)
    if _secondary_indexes(db) != definitions:
        raise RuntimeError("the indexes of logs and log_items did not come back the same")
    seconds["indexes of logs and log_items"] = time.monotonic() - started


def _secondary_indexes(db: Database) -> list[tuple[str, str]]:
    """``(name, CREATE INDEX statement)`` of every index on logs and log_items but the
    primary keys', by name."""
    if db.sqlite:
        query = (
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND tbl_name IN ('logs', 'log_items') AND sql IS NOT NULL ORDER BY name"
        )
    else:
        query = (
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('logs', 'log_items') AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u')) ORDER BY indexname"
        )
    with db.connection_reading() as connection:
        return [(str(name), str(sql)) for name, sql in connection.exec_driver_sql(query)]


def finish(db: Database) -> None:
    """PostgreSQL only: sequences past the ids given here, then ``VACUUM ANALYZE`` (what
    autovacuum would have done by now). The server never runs ``ANALYZE`` on SQLite, so
    nothing here does either."""
    tables = ("devices", "jobs", "job_items", "logs", "log_items")
    with db.writing() as session:
        for name in tables:
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608 - ours
                    f"(SELECT max(id) FROM {name}))"
                )
            )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for name in tables:
            connection.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
