"""A store per test: the run's database (SQLite in the test's folder, or PostgreSQL), migrated,
a local backend in the test's folder and a fresh server secret."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.stored import Store

from cleverfox.server.kit.db import Database
from cleverfox.server.kit.secrets import ServerSecret
from cleverfox.server.migrate import upgrade
from cleverfox.storage.backends.local import LocalBackend


@pytest.fixture
def store(tmp_path: Path, database_url: str | None) -> Iterator[Store]:
    db = Database(database_url or f"sqlite:///{tmp_path / 'store.db'}", pool_size=4)
    upgrade(db.engine)
    yield Store(db, LocalBackend(tmp_path / "storage"), ServerSecret(os.urandom(32)))
    db.dispose()
