"""Engines and units of work on SQLite and PostgreSQL.

One transaction per request or background task. On SQLite a write transaction starts with
``BEGIN IMMEDIATE`` (a deferred read that later writes fails at once with "database is
locked"), in WAL mode with foreign keys on; reads start a plain deferred ``BEGIN``. Reads
answered by one statement (``connection_reading``) run without a transaction of their own.
PostgreSQL's advisory locks, which keep work that several processes share done once
(migrations, duties), are here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect
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
    def connection_snapshot(self) -> Iterator[Connection]:
        """A Core connection for reads of several statements presented from their rows (no
        ORM). They agree as in ``reading()``: on SQLite they share one snapshot (a read
        transaction, rolled back at the end); on PostgreSQL each statement sees its own, as
        at READ COMMITTED, so they run in autocommit (no BEGIN and ROLLBACK round trips).
        Never write through it."""
        if not self.sqlite:
            with self._statements.connect() as connection:
                yield connection
            return
        with self.engine.connect() as connection, connection.begin() as transaction:
            yield connection
            transaction.rollback()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A unit of work that commits once at the end, or rolls back on any exception."""
        with self._write() as session, session.begin():
            yield session

    def fetch_one(self, statement: Prepared, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row of ``statement`` with ``params``, by column key; ``None`` if none.

        On a pooled driver connection: no execution context, events or result object. The
        hot read path's way on SQLite when the event loop's own connection would wait
        (``kit.hot``); on PostgreSQL it runs in the driver's implicit transaction, which
        the pool rolls back on return.
        """
        pooled = self.engine.raw_connection()
        try:
            return statement.on(self.engine.dialect).fetch_one(pooled, params)
        finally:
            pooled.close()

    def ping(self) -> None:
        """One trivial statement in a read: raises when the database does not answer."""
        with self.reading() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def advisory_lock(engine: Engine, lock_id: int) -> Iterator[None]:
    """PostgreSQL: hold the session advisory lock ``lock_id`` for the block, on a connection
    of its own, waiting for it while another session holds it."""
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id})
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
            connection.commit()


def try_advisory_transaction_lock(session: Session, lock_id: int) -> bool:
    """PostgreSQL: take the advisory lock ``lock_id`` until the session's transaction ends,
    unless another session holds it; whether it was taken. Never waits."""
    granted = session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": lock_id})
    return bool(granted)


class Prepared:
    """A SELECT built once at import and compiled once per dialect, for point reads
    (``Database.fetch_one``, ``kit.hot.HotReads``).

    Its rows come back as dicts by column key with SQLAlchemy's own result processing per
    column type (SQLite's text date-times become ``datetime``, integers ``bool``), so they
    read the same as ``Connection.execute(...).mappings()`` rows.
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def on(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self.statement, dialect)
        return compiled


Processor = Callable[[Any], Any]


class _Compiled:
    """``Prepared`` on one dialect: its SQL, how its parameters go in, how its rows come out."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._positions = compiled.positiontup  # None for named paramstyles (psycopg)
        self._binds: dict[str, Processor | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        self._defaults = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        self._columns: list[tuple[str, Processor | None]] = [
            (str(column.key), column.type.dialect_impl(dialect).result_processor(dialect, None))
            for column in statement.selected_columns
        ]
        self._keys = [key for key, _ in self._columns]
        self._unprocessed = all(process is None for _, process in self._columns)

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """``values`` processed for the driver, positional or by name as its paramstyle is."""
        processed = {
            name: value if (process := self._binds[name]) is None else process(value)
            for name, value in {**self._defaults, **values}.items()
        }
        if self._positions is None:
            return processed
        return [processed[name] for name in self._positions]

    def fetch_one(self, connection: Any, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row on a DB-API ``connection`` (the statement ended at once: an open
        read on SQLite would hold the WAL back), by column key; ``None`` if none."""
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql, self.parameters(params))
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else self.row(row)

    def row(self, values: Any) -> dict[str, Any]:
        if self._unprocessed:
            return dict(zip(self._keys, values, strict=True))
        return {
            key: value if process is None else process(value)
            for (key, process), value in zip(self._columns, values, strict=True)
        }
