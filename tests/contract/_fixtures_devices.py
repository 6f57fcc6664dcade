"""Devices, jobs and runs for the jobs, job-items, logs and agent-run contract tests.

Everything is made through the public API (``POST /api/subscriptions`` on the Large Plan,
``POST /api/devices``, ``POST /api/jobs``, ``POST /api/jobitems``) or the agent's endpoints;
``database`` opens the server's own database only for what no API shows (the mail outbox) or
sets (moving a run's start into the past).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session
from tests.support.server import Partner, ServerProcess

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database

LARGE_PLAN = 3
NOTIFICATION_EVENTS = (70, 71)
WIRE = "%Y-%m-%dT%H:%M:%S"


@contextmanager
def database(server: ServerProcess) -> Iterator[Session]:
    """A write transaction on the server's own database."""
    db = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with db.writing() as session:
            yield session
    finally:
        db.dispose()


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201, 202), response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def create_subscription(partner: Partner, company_id: int | None = None) -> dict[str, Any]:
    body = {"CompanyId": company_id or partner.company_id, "PlanId": LARGE_PLAN}
    return created(partner.client.post("/api/subscriptions", json=body))


def create_device(
    partner: Partner,
    *,
    time_zone: str = "UTC",
    company_id: int | None = None,
    **overrides: object,
) -> dict[str, Any]:
    """A device (on a fresh Large Plan subscription of ``company_id``) in ``time_zone``."""
    company = company_id or partner.company_id
    subscription = create_subscription(partner, company)
    body: dict[str, object] = {
        "CompanyId": company,
        "SubscriptionId": subscription["SubscriptionId"],
        "Name": "FileServer",
        "TimeZoneId": time_zone,
    }
    body.update(overrides)
    return created(partner.client.post("/api/devices", json=body))


def wall(moment: datetime) -> str:
    """A naive datetime written as the wire's ``YYYY-MM-DDTHH:MM:SS``."""
    return moment.strftime(WIRE)


def job_body(device_id: int, **overrides: object) -> dict[str, object]:
    """A Daily job due in an hour (UTC wall time: devices here default to UTC)."""
    body: dict[str, object] = {
        "DeviceId": device_id,
        "Name": "Nightly",
        "Frequency": "Daily",
        "NextRunOn": wall(utcnow() + timedelta(hours=1)),
        "LateAfter": 60,
        "Every": 1,
        "CloudKeepLast": 7,
        "LocalKeepLast": 3,
    }
    body.update(overrides)
    return body


def create_job(partner: Partner, device_id: int, **overrides: object) -> dict[str, Any]:
    return created(partner.client.post("/api/jobs", json=job_body(device_id, **overrides)))


def file_item_body(job_id: int, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "JobId": job_id,
        "Name": "Documents",
        "BackupTypeId": 1,
        "BaseFolder": "C:\\Data",
        "SearchPatterns": "*.*",
        "IncludeSubFolders": True,
    }
    body.update(overrides)
    return body


def create_item(partner: Partner, job_id: int, **overrides: object) -> dict[str, Any]:
    return created(partner.client.post("/api/jobitems", json=file_item_body(job_id, **overrides)))


def start_run(
    server: ServerProcess, device: dict[str, Any], job_id: int | str, **body: object
) -> httpx.Response:
    with server.client(device["ApiKey"]) as agent:
        return agent.post("/api/agent/logs", json={"JobId": job_id, **body})


def finish_run(
    server: ServerProcess, device: dict[str, Any], log_id: int, **body: object
) -> httpx.Response:
    with server.client(device["ApiKey"]) as agent:
        return agent.put(f"/api/agent/logs/{log_id}", json=body)


def events_of(partner: Partner, **filters: Any) -> list[dict[str, Any]]:
    """The partner's Events matching ``filters``, oldest first."""
    response = partner.client.get("/api/events", params={"PageSize": 1000, **filters})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["data"]))


def event_type_ids(partner: Partner, **filters: Any) -> list[int]:
    """The EventTypeIds, oldest first, without Notification Sent/Failed (70, 71): the
    server's mail duty delivers in the background, so those come whenever it gets there."""
    return [
        event["EventTypeId"]
        for event in events_of(partner, **filters)
        if event["EventTypeId"] not in NOTIFICATION_EVENTS
    ]
