"""Graceful shutdown must not wait on idle clients (a regression: it waited 30 s)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.server import start_server, stop_server


def test_an_idle_keep_alive_client_does_not_hold_the_shutdown(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", None, "--rate-limit", "0")
    partner = server.new_partner()
    assert partner.client.get("/api/companies").status_code == 200  # connection stays open
    started = time.monotonic()
    code = stop_server(server, timeout=15)
    elapsed = time.monotonic() - started
    partner.client.close()
    assert code == 0
    assert elapsed < 10, f"shutdown took {elapsed:.1f} s with one idle client"
