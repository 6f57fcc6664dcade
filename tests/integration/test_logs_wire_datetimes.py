"""Date-times of the Logs read path, on the server's own database (SQLite or PostgreSQL).

``logs.repository`` selects them as the wire's text — cut from the text SQLite stores, written by
PostgreSQL's ``to_char`` — instead of reading ``datetime`` objects and formatting them: for
any value a column can hold, the text must be ``format_datetime`` of the value stored
(milliseconds truncated, never rounded; four-digit years). Rows are written and read in one
transaction that is rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from tests.support.server import ServerProcess

from cleverfox.server.kit.datetimes import format_datetime
from cleverfox.server.kit.db import Database
from cleverfox.server.logs import repository
from cleverfox.server.logs.schemas import LOG_WIRE, position
from cleverfox.server.models import Log

PARTNER_ID = 987_654  # no such partner: the row is only read back by its own id
TIMES = (
    "next_run_on",
    "expire_on",
    "job_started_on",
    "job_completed_on",
    "added_on",
    "updated_on",
    "notification_job_completed_processed_on",
)
EDGES = [
    datetime(1, 1, 1),
    datetime(999, 12, 31, 23, 59, 59, 999_999),
    datetime(2024, 2, 29, 12, 0, 0, 999),
    datetime(2026, 11, 28, 0, 22, 13, 718_999),
    datetime(9999, 12, 31, 23, 59, 59, 999_999),
]


@contextmanager
def rolled_back(server: ServerProcess) -> Iterator[Connection]:
    db = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with db.engine.connect() as connection:
            transaction = connection.begin()
            try:
                yield connection
            finally:
                transaction.rollback()
    finally:
        db.dispose()


def log_values(log_id: int, moments: list[datetime]) -> dict[str, object]:
    values: dict[str, object] = {
        "id": log_id,
        "partner_id": PARTNER_ID,
        "company_id": 1,
        "device_id": 1,
        "job_id": 1,
        "time_zone_id": "UTC",
        "iana_time_zone_id": "UTC",
        "name": "Times",
        "job_status": "Completed",
        "trigger": "Schedule",
    }
    values.update(zip(TIMES, moments, strict=False))
    return values


def read_back(connection: Connection, log_id: int) -> dict[str, object]:
    row = repository.log_row(connection, PARTNER_ID, log_id)
    assert row is not None
    return {key: row[position(LOG_WIRE, key)] for key in TIMES}


def test_edge_values_read_as_format_datetime_writes_them(server: ServerProcess) -> None:
    with rolled_back(server) as connection:
        connection.execute(insert(Log.__table__), log_values(9_000_001, EDGES + EDGES[:2]))
        got = read_back(connection, 9_000_001)
    assert got == {
        key: format_datetime(value) for key, value in zip(TIMES, EDGES + EDGES[:2], strict=True)
    }


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.datetimes(), min_size=len(TIMES), max_size=len(TIMES)))
def test_any_stored_value_reads_as_format_datetime_writes_it(
    server: ServerProcess, moments: list[datetime]
) -> None:
    with rolled_back(server) as connection:
        connection.execute(insert(Log.__table__), log_values(9_000_002, moments))
        got = read_back(connection, 9_000_002)
    assert got == {key: format_datetime(value) for key, value in zip(TIMES, moments, strict=True)}


def test_sqlite_text_not_written_by_sqlalchemy_is_read_the_long_way(server: ServerProcess) -> None:
    if server.database_url:
        pytest.skip("SQLite stores date-times as text; PostgreSQL as timestamps")
    with rolled_back(server) as connection:
        connection.execute(insert(Log.__table__), log_values(9_000_003, [datetime(2000, 1, 1)]))
        connection.execute(
            text(
                "UPDATE logs SET next_run_on = '2026-01-02 03:04:05', "
                "expire_on = '2026-01-02 03:04:05.1239' WHERE id = 9000003"
            )
        )
        got = read_back(connection, 9_000_003)
    assert got["next_run_on"] == "2026-01-02T03:04:05.000"
    assert got["expire_on"] == "2026-01-02T03:04:05.123"
