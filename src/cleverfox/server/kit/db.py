"""Engines and units of work on SQLite and PostgreSQL.

One transaction per request or background task. On SQLite a write transaction starts with
``BEGIN IMMEDIATE`` (a deferred read that later writes fails at once with "database is
locked"), in WAL mode with foreign keys on; reads start a plain deferred ``BEGIN``. Reads
answered by one statement (``connection_reading``) run without a transaction of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

_BEGIN_MODE = "cleverfox_begin"


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine for ``url`` with the pragmas and pool settings this server relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=pool_size
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        if mode is not None:
            # On the driver: through SQLAlchemy's execution path, BEGIN cost more than a query.
            connection.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]


class Database:
    """The engine plus session factories for reading and for writing."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size=pool_size)
        self.sqlite = is_sqlite(self.engine)
        writer = self.engine.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
        # SQLite: no BEGIN (the driver runs in autocommit); PostgreSQL: the driver's autocommit.
        # Not SQLAlchemy's AUTOCOMMIT on SQLite: resetting it on check-in would turn the
        # driver's own transaction handling back on, under the BEGINs issued above.
        autocommit = {_BEGIN_MODE: None} if self.sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._statements = self.engine.execution_options(**autocommit)
        self._read = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(writer, expire_on_commit=False, autoflush=False)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only unit of work (rolled back at the end)."""
        with self._read() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def connection_reading(self) -> Iterator[Connection]:
        """A Core connection for a read answered by **one statement**; no ORM.

        Each statement runs on its own (autocommit: no BEGIN and ROLLBACK, two round trips
        fewer on PostgreSQL) and so sees one consistent snapshot; two statements may see
        different ones — use ``reading()`` when several must agree. For hot read paths that
        select columns and present rows: it skips the ``Session``, its identity map and the
        ORM's loading, which cost more than the query itself. Never write through it.
        """
        with self._statements.connect() as connection:
            yield connection

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A unit of work that commits once at the end, or rolls back on any exception."""
        with self._write() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
