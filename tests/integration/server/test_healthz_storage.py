"""``/healthz`` includes storage: 503 naming the problem while the backend cannot be written,
200 again once it can (probes are kept 5 s, so each step waits that long at most)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import ServerProcess, start_server, stop_server

from cleverfox.server.storage.health import PROBE_TTL_SECONDS


@pytest.fixture
def own_server(tmp_path: Path, database_url: str | None) -> Iterator[ServerProcess]:
    server = start_server(tmp_path / "data", database_url, "--rate-limit", "0")
    yield server
    stop_server(server)


def _health_until(server: ServerProcess, status: int) -> httpx.Response:
    deadline = time.monotonic() + PROBE_TTL_SECONDS + 5
    while True:
        response = httpx.get(server.url + "/healthz", verify=False, timeout=10)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_healthz_is_503_while_storage_cannot_be_written(own_server: ServerProcess) -> None:
    healthy = _health_until(own_server, 200)
    assert healthy.status_code == 200 and healthy.json()["storage"] == "ok"
    storage = own_server.data_dir / "storage"
    shutil.rmtree(storage, ignore_errors=True)
    storage.write_text("a file where the storage folder should be")
    broken = _health_until(own_server, 503)
    assert broken.status_code == 503, broken.text
    assert broken.json()["status"] == "unavailable" and broken.json()["storage"]
    storage.unlink()
    storage.mkdir()
    assert _health_until(own_server, 200).status_code == 200
