"""Shared fixtures: a real server process per session and a fresh partner per test.

``CLEVERFOX_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432`` runs everything on a fresh
PostgreSQL database (made and dropped by this run); otherwise SQLite. ``make test`` runs both
passes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support.server import (
    Partner,
    ServerProcess,
    postgres_database,
    start_server,
    stop_server,
)

hypothesis_settings.register_profile("ci", max_examples=60, deadline=None)
hypothesis_settings.register_profile("dev", max_examples=30, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

POSTGRES = os.environ.get("CLEVERFOX_TEST_POSTGRES") or None


def pytest_report_header() -> str:
    return f"cleverfox database: {'PostgreSQL ' + POSTGRES if POSTGRES else 'SQLite'}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str | None]:
    """The run's PostgreSQL database URL, or ``None`` for SQLite."""
    if POSTGRES is None:
        yield None
        return
    with postgres_database(POSTGRES) as url:
        yield url


@pytest.fixture(scope="session")
def server(
    tmp_path_factory: pytest.TempPathFactory, database_url: str | None
) -> Iterator[ServerProcess]:
    """One ``cleverfox serve`` process for the session, rate limits off."""
    data_dir: Path = tmp_path_factory.mktemp("server")
    # Many tests fail authentication on purpose; the per-address limit gets its own server.
    process = start_server(
        data_dir, database_url, "--rate-limit", "0", env={"CLEVERFOX_AUTH_FAILURE_LIMIT": "100000"}
    )
    yield process
    stop_server(process)


@pytest.fixture
def partner(server: ServerProcess) -> Iterator[Partner]:
    """A fresh partner (its own tenant) with an authenticated HTTPS client."""
    made = server.new_partner()
    yield made
    made.client.close()


@pytest.fixture
def partner_second(server: ServerProcess) -> Iterator[Partner]:
    made = server.new_partner("Second Partner")
    yield made
    made.client.close()


@pytest.fixture(scope="session")
def server_second(
    server: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A second server process on the same database and secret, as several workers run."""
    args = ["--rate-limit", "0", "--secret-key-file", str(server.data_dir / "secret.key")]
    if server.database_url is None:
        args += ["--database-url", f"sqlite:///{server.data_dir / 'cleverfox.db'}"]
    other = start_server(
        tmp_path_factory.mktemp("second"),
        server.database_url,
        *args,
        env={"CLEVERFOX_AUTH_FAILURE_LIMIT": "100000"},
    )
    yield other
    stop_server(other)
