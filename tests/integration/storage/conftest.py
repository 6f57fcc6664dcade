"""A store per test: a database of its own (SQLite in the test's folder, or a fresh PostgreSQL
database on the PostgreSQL pass), migrated, a local backend in the test's folder and a fresh
server secret. Its own database, because garbage collection and the check work on every
company of a database, and a shared one holds other tests' rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.server import postgres_database
from tests.support.stored import Store, server_store

from cleverfox.server.kit.db import Database
from cleverfox.server.migrate import upgrade


@pytest.fixture
def store_url(tmp_path: Path, database_url: str | None) -> Iterator[str]:
    """The SQLAlchemy URL of a migrated database of the test's own."""
    if database_url is None:
        url = f"sqlite:///{tmp_path / 'cleverfox.db'}"
        _migrate(url)
        yield url
        return
    with postgres_database(os.environ["CLEVERFOX_TEST_POSTGRES"]) as made:
        url = made.replace("postgresql://", "postgresql+psycopg://", 1)
        _migrate(url)
        yield url


@pytest.fixture
def store(tmp_path: Path, store_url: str) -> Iterator[Store]:
    """The test's folder as a data directory: ``storage/``, ``secret.key``, the database."""
    made = server_store(tmp_path, store_url)
    yield made
    made.db.dispose()


def _migrate(url: str) -> None:
    db = Database(url, pool_size=1)
    try:
        upgrade(db.engine)
    finally:
        db.dispose()
