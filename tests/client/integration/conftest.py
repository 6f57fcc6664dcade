"""The SDK against a real ``cleverfox serve`` process over HTTPS (SQLite, or PostgreSQL with
``CLEVERFOX_TEST_POSTGRES``), its certificate pinned by the fingerprint the server printed.

``sdk`` is a :class:`Client` of a fresh partner; ``Tenant`` builds the chain a partner needs
(company → subscription → device → job → job item) through the SDK; agent runs (the only way
Logs are made) go through the agent's endpoints with the device's key.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cleverfox.client import Client, Company, Device, Job, JobItem, Log, Subscription
from cleverfox.server.duties.missed_jobs import record_missed_jobs
from cleverfox.server.kit.db import Database
from tests.support.server import Partner, ServerProcess

LARGE_PLAN = 3
FILE_BACKUP = 1


def connect(server: ServerProcess, api_key: str, **options: object) -> Client:
    """A client of ``server`` that trusts exactly its certificate."""
    return Client(server.url, api_key, fingerprint=server.fingerprint, **options)  # type: ignore[arg-type]


@pytest.fixture
def sdk(server: ServerProcess, partner: Partner) -> Iterator[Client]:
    with connect(server, partner.api_key) as client:
        yield client


@dataclass
class Tenant:
    """What a partner has built: a company on the Large Plan with one device and job."""

    company: Company
    subscription: Subscription
    device: Device
    job: Job
    item: JobItem

    @classmethod
    def build(
        cls, client: Client, *, name: str = "Acme Ltd", due_in: timedelta = timedelta(hours=1)
    ) -> Tenant:
        company = client.companies.create(
            partner_id=next(client.partners.list()).partner_id, plan_type_id=1, name=name
        )
        subscription = client.subscriptions.create(company_id=company.id, plan_id=LARGE_PLAN)
        device = client.devices.create(
            company_id=company.id, subscription_id=subscription.id, name="FS01", time_zone_id="UTC"
        )
        job = client.jobs.create(
            device_id=device.id,
            name="Nightly",
            frequency="Daily",
            late_after=60,
            every=1,
            next_run_on=datetime.now(UTC).replace(tzinfo=None, microsecond=0) + due_in,
            cloud_keep_last=7,
            local_keep_last=3,
        )
        item = client.job_items.create(
            job_id=job.id,
            backup_type_id=FILE_BACKUP,
            name="Documents",
            base_folder="C:\\Data",
            search_patterns=["*.docx", "*.xlsx"],
            include_sub_folders=True,
        )
        return cls(company, subscription, device, job, item)


@pytest.fixture
def tenant(sdk: Client) -> Tenant:
    return Tenant.build(sdk)


def agent_run(
    server: ServerProcess,
    device: Device,
    job_id: int,
    status: str | None,
    errors: str | None = None,
) -> int:
    """A run-now run of the job reported by its agent, finished as ``status``; the LogId."""
    assert device.api_key is not None
    with server.client(device.api_key) as agent:
        started = agent.post("/api/agent/logs", json={"JobId": job_id, "Trigger": "RunNow"})
        assert started.status_code == 201, started.text
        log_id = int(started.json()["data"]["LogId"])
        if status is not None:
            body: dict[str, object] = {"JobStatus": status, "ErrorMessages": errors, "LogItems": []}
            finished = agent.put(f"/api/agent/logs/{log_id}", json=body)
            assert finished.status_code == 200, finished.text
    return log_id


def missed_run(server: ServerProcess, client: Client, device: Device) -> Job:
    """A job of ``device`` whose one-minute window closes with no run: the server's
    missed-job duty (run here at once, as its own loop would within a minute) records a
    Missed Log for it."""
    due = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(seconds=58)
    job = client.jobs.create(
        device_id=device.id,
        name="Hourly",
        frequency="Hourly",
        next_run_on=due,
        late_after=1,
        every=1,
        cloud_keep_last=1,
        local_keep_last=1,
    )
    time.sleep(
        max(
            0.0,
            (due + timedelta(minutes=1) - datetime.now(UTC).replace(tzinfo=None)).total_seconds(),
        )
        + 0.1
    )
    db = Database(server.sqlalchemy_url, pool_size=1)
    try:
        with db.writing() as session:
            record_missed_jobs(session, datetime.now(UTC).replace(tzinfo=None))
    finally:
        db.dispose()
    return job


def raw(server: ServerProcess, api_key: str) -> httpx.Client:
    """A plain HTTPS client of the partner, for what the SDK would not send."""
    return server.client(api_key)


__all__ = ["Log", "Tenant", "agent_run", "connect", "missed_run", "raw"]
