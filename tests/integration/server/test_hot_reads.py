"""``kit.hot.HotReads``: point reads on the event loop, on the session server's database.

The contract tests prove GET one company over HTTPS; these prove what they cannot see: the
rows are the ones SQLAlchemy's own execution gives, a SQLite read that would wait for a lock
is handed to a thread while the loop keeps serving, and a PostgreSQL connection lost since
its last use is replaced without an error.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select, text
from tests.support.server import Partner, ServerProcess

from cleverfox.server.companies import repository
from cleverfox.server.kit.db import Database, Prepared
from cleverfox.server.kit.hot import HotReads


@pytest.fixture
def db(server: ServerProcess) -> Iterator[Database]:
    database = Database(server.sqlalchemy_url, pool_size=2)
    yield database
    database.dispose()


def _core_row(db: Database, partner: Partner) -> dict[str, object]:
    """The company's row as ``Connection.execute`` gives it (SQLAlchemy's result types)."""
    with db.connection_reading() as connection:
        params = {"partner_id": partner.partner_id, "company_id": partner.company_id}
        row = connection.execute(repository._ONE_ROW.statement, params).mappings().one()
    return dict(row)


def test_rows_read_as_sqlalchemy_reads_them(db: Database, partner: Partner) -> None:
    async def read() -> tuple[object, object]:
        reads = HotReads(db)
        try:
            mine = await repository.get_company_row(reads, partner.partner_id, partner.company_id)
            other = await repository.get_company_row(
                reads, partner.partner_id + 1, partner.company_id
            )
            return mine, other
        finally:
            await reads.close()

    mine, other = asyncio.run(read())
    expected = _core_row(db, partner)
    assert mine == expected
    assert {key: type(value) for key, value in mine.items()} == {  # type: ignore[union-attr]
        key: type(value) for key, value in expected.items()
    }
    assert other is None


@pytest.mark.sqlite_only
def test_sqlite_read_that_would_wait_goes_to_a_thread(tmp_path: Path) -> None:
    """Another connection holds the database exclusively: the loop's read gets SQLITE_BUSY
    at once, the read waits in a thread until the lock is gone, and meanwhile the event
    loop keeps running other tasks. (Its own database file, to lock it.)"""
    db = Database(f"sqlite:///{tmp_path / 'locked.db'}", pool_size=1)
    things = Table(
        "things", MetaData(), Column("id", Integer, primary_key=True), Column("name", String)
    )
    things.create(db.engine)
    with db.engine.begin() as connection:
        connection.execute(things.insert(), [{"id": 1, "name": "one"}])
    by_id = Prepared(select(things).where(things.c.id == bindparam("id")))
    db.engine.dispose()  # its connection would keep the file in WAL mode

    blocker = sqlite3.connect(tmp_path / "locked.db", isolation_level=None, check_same_thread=False)
    # Out of WAL (where readers never wait): an exclusive transaction keeps readers out.
    blocker.execute("PRAGMA journal_mode=DELETE")
    blocker.execute("BEGIN EXCLUSIVE")
    blocker.execute("UPDATE things SET name = 'uno' WHERE id = 1")

    def release_later() -> None:
        time.sleep(0.5)
        blocker.execute("COMMIT")

    async def read_while_ticking() -> tuple[object, int]:
        reads = HotReads(db)
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        try:
            return await reads.fetch_one(by_id, {"id": 1}), ticks
        finally:
            ticker.cancel()
            await reads.close()

    releaser = threading.Thread(target=release_later)
    releaser.start()
    try:
        row, ticks = asyncio.run(read_while_ticking())
    finally:
        releaser.join(10)
        blocker.close()
        db.dispose()
    assert row == {"id": 1, "name": "uno"}  # read after the lock was released
    assert ticks >= 10  # the loop ran while the read waited


def test_postgres_connection_lost_since_last_use_is_replaced(
    server: ServerProcess, partner: Partner
) -> None:
    if server.database_url is None:
        pytest.skip("PostgreSQL only: asyncpg connections")
    name = f"cleverfox-test-{secrets.token_hex(4)}"  # marks this test's sessions only
    db = Database(f"{server.sqlalchemy_url}?application_name={name}", pool_size=1)

    async def read_kill_read() -> tuple[object, object]:
        reads = HotReads(db)
        try:
            first = await repository.get_company_row(reads, partner.partner_id, partner.company_id)
            await asyncio.to_thread(_terminate_other_sessions, db, name)
            second = await repository.get_company_row(reads, partner.partner_id, partner.company_id)
            return first, second
        finally:
            await reads.close()

    try:
        first, second = asyncio.run(read_kill_read())
    finally:
        db.dispose()
    assert first is not None and first == second


def _terminate_other_sessions(db: Database, application_name: str) -> None:
    """End this test's other sessions (the idle asyncpg one), as a server restart would."""
    with db.connection_reading() as connection:
        killed = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND pid <> pg_backend_pid()"
            ),
            {"name": application_name},
        ).scalar_one()
    assert killed == 1
