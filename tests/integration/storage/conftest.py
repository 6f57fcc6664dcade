"""A store per test: a database of its own (SQLite in the test's folder, or a fresh PostgreSQL
database on the PostgreSQL pass), migrated, a local backend in the test's folder and a fresh
server secret. Its own database, because garbage collection and the check work on every
company of a database, and a shared one holds other tests' rows."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from tests.support.server import postgres_database
from tests.support.stored import Store

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.migrate import upgrade
from cleverfox.storage.backends.local import LocalBackend


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    with ExitStack() as stack:
        if database_url is None:
            url = f"sqlite:///{tmp_path / 'store.db'}"
        else:
            server = os.environ["CLEVERFOX_TEST_POSTGRES"]
            made = stack.enter_context(postgres_database(server))
            url = made.replace("postgresql://", "postgresql+psycopg://", 1)
        db = Database(url, pool_size=4)
        stack.callback(db.dispose)
        upgrade(db.engine)
        yield Store(db, LocalBackend(tmp_path / "storage"), ServerSecret(os.urandom(32)))
