"""Fixtures of the agent core's tests: a device on the session's real server, the agent's
transport for it, and an agent whose item backup is a function the test passes in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cleverfox.agent.core.agent import Agent
from cleverfox.agent.core.logfile import Redact
from cleverfox.agent.core.runner import ItemBackup, Runner
from cleverfox.agent.core.state import AgentState
from cleverfox.agent.model import ItemContext, ItemResult
from cleverfox.client.agent import AgentClient
from cleverfox.server.kit.datetimes import utcnow
from tests.contract._fixtures_devices import create_device, create_item, create_job, wall
from tests.support.server import Partner, ServerProcess

MakeAgent = Callable[[ItemBackup], Agent]


@pytest.fixture
def device(partner: Partner) -> dict[str, Any]:
    return create_device(partner, time_zone="Tokyo Standard Time")


@pytest.fixture
def client(server: ServerProcess, device: dict[str, Any]) -> Iterator[AgentClient]:
    with AgentClient(server.url, device["ApiKey"], fingerprint=server.fingerprint) as made:
        yield made


@pytest.fixture
def data_folder(tmp_path: Path) -> Path:
    return tmp_path / "agent-data"


@pytest.fixture
def make_agent(client: AgentClient, data_folder: Path) -> MakeAgent:
    def make(back_up_item: ItemBackup) -> Agent:
        state = AgentState(data_folder)
        redact = Redact([client.base_url])
        runner = Runner(client, state, data_folder, back_up_item, redact=redact)
        return Agent(client, state, runner, facts={"AgentVersion": "test"})

    return make


def tokyo_wall(offset: timedelta) -> str:
    """A Tokyo wall time ``offset`` from now."""
    return wall(utcnow().replace(microsecond=0) + timedelta(hours=9) + offset)


def due_job(
    partner: Partner, device: dict[str, Any], items: int = 1, **overrides: object
) -> dict[str, Any]:
    """A local-only job (CloudKeepLast 0) due five minutes ago, with ``items`` file items."""
    values: dict[str, object] = {
        "NextRunOn": tokyo_wall(-timedelta(minutes=5)),
        "LateAfter": 60,
        "CloudKeepLast": 0,
    }
    values.update(overrides)
    job = create_job(partner, device["DeviceId"], **values)
    job["JobItems"] = [create_item(partner, job["JobId"], Name=f"Item {n}") for n in range(items)]
    return job


def produced(ctx: ItemContext) -> ItemResult:
    """An item backup that always produces its file (named after the run's start)."""
    ctx.progress.planned(2, 300)
    ctx.progress.done(2, 300, uploaded=0)
    name = f"{ctx.item['Name']} {ctx.started_on:%Y-%m-%d %H%M%S}.zip"
    return ItemResult(
        True,
        {"JobItemId": ctx.item["JobItemId"], "BackupFileName": name, "BackupFileSize": 300},
        warnings=["C:/Data/locked.db: skipped, locked by another process"],
    )
