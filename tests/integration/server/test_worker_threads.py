"""The worker threads a server process runs its units of work in, sized for its database."""

from __future__ import annotations

from pathlib import Path

import pytest
from anyio.to_thread import current_default_thread_limiter
from fastapi.testclient import TestClient

from cleverfox.server.app import create_app
from cleverfox.settings import Settings


def _threads_while_serving(settings: Settings) -> float:
    with TestClient(create_app(settings)) as client:
        assert client.portal is not None
        return client.portal.call(lambda: current_default_thread_limiter().total_tokens)


def test_sqlite_runs_two_units_of_work_at_once(tmp_path: Path) -> None:
    assert _threads_while_serving(Settings(data_dir=tmp_path)) == 2


def test_the_operator_chooses(tmp_path: Path) -> None:
    assert _threads_while_serving(Settings(data_dir=tmp_path, worker_threads=6)) == 6


def test_postgresql_keeps_forty(tmp_path: Path, database_url: str | None) -> None:
    if database_url is None:
        pytest.skip("PostgreSQL only")
    assert _threads_while_serving(Settings(data_dir=tmp_path, database_url=database_url)) == 40


def test_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="worker_threads"):
        Settings(data_dir=tmp_path, worker_threads=0)
