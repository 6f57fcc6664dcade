"""The hot read path: the API's most frequent GETs, answered without a thread hop.

Most endpoints are plain FastAPI routes whose unit of work runs in a worker thread. For the
hottest GETs (one object by id) that costs more than the work itself: FastAPI's
dependency solving, SQLAlchemy's execution layer and handing the request to a thread and
back each cost more than the query (docs/benchmarks.md). Here:

- ``HotRoute`` (registered with ``hot_get``, and matched first: ``hot_routes_first``) serves
  an ``async`` endpoint ``(request, **path parameters)`` directly: FastAPI still documents
  it from its signature, but does not solve dependencies or validate at request time; the
  endpoint makes every check itself, in the contract's order
  (``kit.dependencies.partner_work_of`` first).
- ``HotReads`` runs a ``Prepared`` statement that reads a few rows by key on the event loop:
  on SQLite on a connection of the loop's own that never waits for a lock — a read that
  would is handed to a worker thread instead; on PostgreSQL through asyncpg, which waits
  for the server without blocking the loop.

Only statements that read a few rows by key belong here: they take tens of microseconds,
less than handing them to a thread would. Everything else — lists, writes, anything that
may scan — stays on worker threads.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from typing import Any

import asyncpg
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cleverfox.server.kit.db import Database, Prepared

HotEndpoint = Callable[..., Awaitable[Response]]


class HotRoute(APIRoute):
    """A route whose ``async`` endpoint gets the request and the path parameters (strings)
    as they are, and returns its ``Response``; for GETs only (no body to read)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: HotEndpoint = self.endpoint

        async def handler(request: Request) -> Response:
            return await endpoint(request, **request.path_params)

        return handler


def hot_get(router: APIRouter, path: str) -> Callable[[HotEndpoint], HotEndpoint]:
    """Register the decorated endpoint as ``GET path`` on ``router``, served by ``HotRoute``."""

    def register(endpoint: HotEndpoint) -> HotEndpoint:
        router.add_api_route(path, endpoint, methods=["GET"], route_class_override=HotRoute)
        return endpoint

    return register


def hot_routes_first(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Put a copy of every ``HotRoute`` of ``routers`` at the head of ``app``'s routing table.

    FastAPI tries routes in order, each router's in turn: matching the routers ahead of a
    route cost ~30 µs a request for GET one company (docs/benchmarks.md). The copies are
    left out of the OpenAPI document, which the routers' own routes make; a request with
    another method still reaches the router's route (a copy only matches partially).
    """
    hot = [route for router in routers for route in router.routes if isinstance(route, HotRoute)]
    for route in reversed(hot):
        copy = HotRoute(
            route.path,
            route.endpoint,
            methods=route.methods,
            name=route.name,
            include_in_schema=False,
        )
        app.router.routes.insert(0, copy)


class HotReads:
    """Point reads on the event loop, one per server process; ``close`` on shutdown."""

    def __init__(self, db: Database, *, pool_size: int = 10) -> None:
        self.db = db
        self.pool_size = pool_size
        self._sqlite: sqlite3.Connection | None = None
        self._postgres: _PostgresConnections | None = None

    async def fetch_one(
        self, statement: Prepared, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """``Database.fetch_one`` without leaving the event loop when it cannot wait."""
        if not self.db.sqlite:
            return await self._fetch_postgres(statement, params)
        try:
            return self._fetch_sqlite(statement, params)
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode & 0xFF not in _WOULD_WAIT:  # extended codes too
                raise
        return await run_in_threadpool(self.db.fetch_one, statement, params)

    async def _fetch_postgres(
        self, statement: Prepared, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """One try more on a fresh connection when the one used was lost since its last use
        (the server restarted, or closed it idle): a read is safe to repeat."""
        compiled = statement.on(_ASYNCPG)
        arguments = compiled.parameters(params)
        connections = self._postgres_connections()
        try:
            row = await connections.fetchrow(compiled.sql, arguments)
        except _CONNECTION_LOST:
            connections.forget_idle()
            row = await connections.fetchrow(compiled.sql, arguments)
        return None if row is None else compiled.row(row)

    def _postgres_connections(self) -> _PostgresConnections:
        """This loop's connections (a connection is bound to its loop: another loop, as in
        a test client, gets its own)."""
        loop = asyncio.get_running_loop()
        if self._postgres is None or self._postgres.loop is not loop:
            url = self.db.engine.url.set(drivername="postgresql")
            self._postgres = _PostgresConnections(
                url.render_as_string(hide_password=False), self.pool_size, loop
            )
        return self._postgres

    def _fetch_sqlite(
        self, statement: Prepared, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        connection = self._sqlite or self._connect_sqlite()
        return statement.on(self.db.engine.dialect).fetch_one(connection, params)

    def _connect_sqlite(self) -> sqlite3.Connection:
        path = self.db.engine.url.database
        assert path is not None
        # No busy wait (timeout 0): SQLITE_BUSY at once, and the read goes to a thread.
        connection = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA query_only=ON")
        self._sqlite = connection
        return connection

    async def close(self) -> None:
        """Close the loop's SQLite connection and the PostgreSQL pool (server shutdown)."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None
        if self._postgres is not None and self._postgres.loop is asyncio.get_running_loop():
            await self._postgres.close()
        self._postgres = None


class _PostgresConnections:
    """asyncpg connections of one event loop: at most ``size`` in use at once, idle ones
    kept newest first.

    Not asyncpg's ``Pool``: its bookkeeping per acquire and release (a holder, a queue, a
    reset, a timer) costs as much CPU as the query itself (~45 µs, measured; see
    docs/benchmarks.md). These connections only ever run one autocommit SELECT at a time
    and hold no session state, so a semaphore and a stack are all the pooling they need.
    """

    def __init__(self, dsn: str, size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.dsn = dsn
        self.loop = loop
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Connection] = []

    async def fetchrow(self, sql: str, arguments: Sequence[Any]) -> asyncpg.Record | None:
        async with self._slots:
            connection = self._idle_connection() or _Connection(await asyncpg.connect(self.dsn))
            try:
                row = await (await connection.prepared(sql)).fetchrow(*arguments)
            except BaseException:
                connection.driver.terminate()  # in an unknown state: never reused
                raise
            self._idle.append(connection)
            return row

    def _idle_connection(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.driver.is_closed():  # closed meanwhile: the server ended it
                return connection
        return None

    def forget_idle(self) -> None:
        """Drop the idle connections: after one was lost, the others likely were too."""
        while self._idle:
            self._idle.pop().driver.terminate()

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop().driver.close()


class _Connection:
    """An asyncpg connection with its statements prepared once each: calling a
    ``PreparedStatement`` skips ``Connection.fetchrow``'s statement-cache look-up."""

    def __init__(self, driver: asyncpg.Connection) -> None:
        self.driver = driver
        self._statements: dict[str, asyncpg.prepared_stmt.PreparedStatement] = {}

    async def prepared(self, sql: str) -> asyncpg.prepared_stmt.PreparedStatement:
        statement = self._statements.get(sql)
        if statement is None:
            statement = self._statements[sql] = await self.driver.prepare(sql)
        return statement


# A connection the server ended while it was idle fails its next use in one of these ways,
# depending on how far the client got in reading the server's last message (InternalClientError:
# the protocol was still consuming it).
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    OSError,
)


_WOULD_WAIT = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
# Compiles ``$n`` parameters and has asyncpg's result processing.
_ASYNCPG = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
