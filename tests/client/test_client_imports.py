"""The SDK stands alone: importing it loads nothing of the server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import cleverfox.client


def test_importing_the_sdk_loads_no_server_code() -> None:
    script = (
        "import json, sys\n"
        "import cleverfox.client\n"
        "from cleverfox.client import Client, AsyncClient, errors, models, enums, params\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    assert not [m for m in loaded if m == "cleverfox.server" or m.startswith("cleverfox.server.")]
    for heavy in ("fastapi", "sqlalchemy", "starlette", "alembic", "cleverfox.settings"):
        assert heavy not in loaded


def test_all_is_sorted_and_complete() -> None:
    names = cleverfox.client.__all__
    assert names == sorted(names)
    for name in names:
        assert hasattr(cleverfox.client, name)


def test_the_sync_client_loads_nothing_of_the_async_one() -> None:
    script = (
        "import json, sys\n"
        "from cleverfox.client import Client\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    assert "anyio" not in loaded
    assert not [m for m in loaded if m.startswith("cleverfox.client._async_")]
    assert "AsyncClient" in dir(cleverfox.client)
    assert cleverfox.client.AsyncClient.__name__ == "AsyncClient"
    with pytest.raises(AttributeError, match="NoSuchClient"):
        cleverfox.client.NoSuchClient  # noqa: B018 - the attribute access is the test
