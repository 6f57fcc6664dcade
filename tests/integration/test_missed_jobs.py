"""The missed-job duty in two real server processes on one database.

Both ``cleverfox serve`` processes run the duty every second (``--missed-job-interval 1``)
against one database (the run's PostgreSQL database, or one SQLite file). Jobs left overdue
by a "downtime" — hours of hourly slots, days of daily ones — must each get exactly one
Missed Log and one Job Missed Event, with NextRunOn advanced past now on the schedule's own
grid; inactive jobs, jobs of inactive devices and runs still inside their LateAfter window
get none.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from tests.contract._fixtures_devices import create_device, create_job, database, wall
from tests.support.server import Partner, ServerProcess, start_server, stop_server

from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.models import Event, Job, Log

JOBS_PER_KIND = 110  # 220 overdue jobs: more than one batch (200) of the duty
SERVE = ("--missed-job-interval", "1", "--rate-limit", "0")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "shared"


@pytest.fixture
def first_server(data_dir: Path, database_url: str | None) -> Iterator[ServerProcess]:
    process = start_server(data_dir, database_url, *SERVE)
    yield process
    stop_server(process)


def overdue(
    partner: Partner,
    device: dict[str, Any],
    frequency: str,
    late_by: timedelta,
    **overrides: object,
) -> dict[str, Any]:
    """A job made due in an hour through the API, then (as if the server had been down)
    moved ``late_by`` into the past in the database."""
    body: dict[str, object] = {"Frequency": frequency, "LateAfter": 1, **overrides}
    body["NextRunOn"] = wall(utcnow().replace(microsecond=0) + timedelta(hours=1))
    job = create_job(partner, device["DeviceId"], **body)
    job["due"] = utcnow().replace(microsecond=0) - late_by
    return job


def move_into_the_past(server: ServerProcess, jobs: list[dict[str, Any]]) -> None:
    with database(server) as session:
        for job in jobs:
            session.execute(
                update(Job)
                .where(Job.id == job["JobId"])
                .values(next_run_on=job["due"], next_run_utc=job["due"])
            )


def missed_counts(
    server: ServerProcess, partner: Partner, job_ids: list[int]
) -> tuple[Counter[int], Counter[int]]:
    """The partner's Missed Logs and Job Missed Events per job (other tests share the
    database, and some write Events naming made-up job ids)."""
    with database(server) as session:
        logs = session.execute(
            select(Log.job_id, func.count())
            .where(
                Log.partner_id == partner.partner_id,
                Log.job_id.in_(job_ids),
                Log.job_status == "Missed",
            )
            .group_by(Log.job_id)
        ).all()
        events = session.execute(
            select(Event.job_id, func.count())
            .where(
                Event.partner_id == partner.partner_id,
                Event.job_id.in_(job_ids),
                Event.event_type_id == 53,
            )
            .group_by(Event.job_id)
        ).all()
    return Counter(dict(logs)), Counter({j: n for j, n in events if j is not None})


def wait_for(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def test_two_servers_record_each_missed_run_once_and_catch_up(
    first_server: ServerProcess, data_dir: Path, database_url: str | None
) -> None:
    partner = first_server.new_partner("Duty Partner")
    device = create_device(partner)
    quiet = create_device(partner)
    with ThreadPoolExecutor(8) as pool:
        hourly = list(
            pool.map(
                lambda _: overdue(partner, device, "Hourly", timedelta(hours=5, minutes=10)),
                range(JOBS_PER_KIND),
            )
        )
        daily = list(
            pool.map(
                lambda _: overdue(partner, device, "Daily", timedelta(days=3, minutes=2)),
                range(JOBS_PER_KIND),
            )
        )
    spared = [
        overdue(partner, device, "Daily", timedelta(days=1), IsInactive=True),
        overdue(partner, quiet, "Daily", timedelta(days=1)),
        overdue(partner, device, "Daily", timedelta(seconds=20), LateAfter=60),
    ]
    partner.client.put(f"/api/devices/{quiet['DeviceId']}", json={"IsInactive": True})
    partner.client.close()  # an idle TLS keep-alive connection would hold up the shutdown
    stop_server(first_server)
    second = start_server(data_dir, database_url, *SERVE)
    third = start_server(data_dir, database_url, *SERVE)
    try:
        move_into_the_past(second, hourly + daily + spared)  # as after a long downtime
        missed = hourly + daily
        ids = [job["JobId"] for job in missed]
        wait_for(lambda: len(missed_counts(second, partner, ids)[0]) == len(ids))
        time.sleep(3)  # more rounds in both processes: nothing may be recorded twice
        logs, events = missed_counts(second, partner, ids + [job["JobId"] for job in spared])
    finally:
        stop_server(second)
        stop_server(third)

    assert logs == Counter(dict.fromkeys(ids, 1)), logs
    assert events == logs
    now = utcnow()
    with database(second) as session:
        for job in missed:
            stored = session.get(Job, job["JobId"])
            assert stored is not None and stored.last_job_status == "Missed"
            # past now (less the time the test took since)
            assert now - timedelta(minutes=1) < stored.next_run_on
            step = timedelta(hours=1) if job in hourly else timedelta(days=1)
            assert (stored.next_run_on - job["due"]) % step == timedelta(0)  # on its own grid
            [log] = session.scalars(
                select(Log).where(Log.partner_id == partner.partner_id, Log.job_id == job["JobId"])
            ).all()
            assert log.next_run_on == job["due"]  # the Log names the run that was missed
