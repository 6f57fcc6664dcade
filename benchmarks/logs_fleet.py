"""The logs suite's data: one partner's fleet and two years of its history, seeded in minutes.

What the API makes (so every rule of it applies): the partner's 100 companies, two Large
Plan subscriptions of each (50 devices each), and one *template* device with a Daily job of
two job items (a folder, and a PostgreSQL database whose credentials the server encrypts),
run once through the agent's endpoints (``POST /api/agent/logs``, then ``PUT`` with two Log
Items). Everything else is a clone of the template's rows, read back from the database and
inserted in bulk (``benchmarks.logs_bulk``: Core ``insert()`` executemany on SQLite,
``COPY`` on PostgreSQL): the other 9,999 devices (each with its own ApiKey, made as the
server makes one: ``ServerSecret.encrypt`` and ``digest`` with the server's own secret
file), one job and two job items each, and the Logs with their Log Items.

The history: ``logs`` Logs, one every ~63 s over two years, ids growing with AddedOn as the
server writes them. Each goes to a device drawn at random, a tenth of the devices (the
*long-history* ones) eleven times as often as the others (about 550 Logs against 50), never
to a device whose previous run has not finished. Outcomes: ~5% Failed (with ErrorMessages),
~3% Missed (as the missed-job duty records them: no start, no Log Items), the rest
Completed; 2% of the runs are RunNow. Every run that started has its two Log Items (the
database one without a backup file when the run Failed); Missed Logs have none.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from benchmarks.logs_bulk import (
    Row,
    Shape,
    batches,
    finish,
    indexes_built_afterwards,
    insert_rows,
    stored,
)
from benchmarks.servers import Engine, Partner, RunningServer, new_partner
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.references import folded
from cleverfox.server.kit.secrets import ServerSecret, new_api_key, read_secret
from cleverfox.server.models import Device, Job, JobItem, Log, LogItem

COMPANIES = 100
SUBSCRIPTIONS_PER_COMPANY = 2
DEVICES = 10_000
LOGS = 1_000_000
HISTORY = timedelta(days=730)
LONG_HISTORY_EVERY = 10  # every tenth device has a long history ...
LONG_HISTORY_WEIGHT = 11  # ... drawn eleven times as often as the others
FAILED_SHARE, MISSED_SHARE, RUN_NOW_SHARE = 0.05, 0.03, 0.02
BATCH = 20_000  # Logs per insert batch (their Log Items go with them)
TIME_ZONE = "W. Europe Standard Time"
DEVICE_KEY_PREFIX = "cfd"  # as devices.service makes them
_DEVICES = cast(Table, Device.__table__)
_JOBS = cast(Table, Job.__table__)
_JOB_ITEMS = cast(Table, JobItem.__table__)
_LOGS = cast(Table, Log.__table__)
_LOG_ITEMS = cast(Table, LogItem.__table__)
ERRORS = (
    "Access denied: D:\\Shares\\HR\\Payroll.xlsx",
    'pg_dump: error: connection to server at "db01" (10.0.0.5), port 5432 failed: timeout',
    "Not enough space on the local archive volume (E:).",
    "The upload was interrupted: connection reset by peer.",
)


@dataclass(frozen=True)
class FleetDevice:
    """One device of the fleet and the ids its Logs carry."""

    device_id: int
    company_id: int
    subscription_id: int
    job_id: int
    item_ids: tuple[int, int]
    long_history: bool


@dataclass
class Fleet:
    """What was seeded, and how long each part took."""

    partner: Partner
    company_ids: list[int]
    devices: list[FleetDevice]
    api_keys: dict[int, str]  # device id -> ApiKey
    log_ids: dict[int, list[int]]  # long-history device id -> its Log ids, oldest first
    logs: int = 0
    log_items: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Template:
    """The rows the API and the agent's endpoints wrote, as column dicts."""

    device: dict[str, Any]
    job: dict[str, Any]
    job_items: list[dict[str, Any]]
    log: dict[str, Any]
    log_items: list[dict[str, Any]]


def build(server: RunningServer, engine: Engine, logs: int = LOGS) -> Fleet:
    """Seed the fleet into ``server``'s database (already migrated: the server is running)."""
    started = time.monotonic()
    partner = new_partner(engine, "Logs Benchmark Partner")
    with _client(server, partner.api_key) as client:
        company_ids, subscriptions = _accounts(client, partner)
        template_ids = _template_run(server, client, company_ids[0], subscriptions[0][0])
    seconds = {"API (companies, subscriptions, template)": time.monotonic() - started}
    db = Database(engine.settings.resolved_database_url, pool_size=1)
    try:
        template = _read_template(db, *template_ids)
        secret = read_secret(engine.settings.secret_key_path)
        fleet = Fleet(partner, company_ids, [], {}, {})
        step = time.monotonic()
        _seed_devices(db, fleet, template, subscriptions, secret)
        seconds["devices, jobs, job items"] = time.monotonic() - step
        step = time.monotonic()
        with indexes_built_afterwards(db, seconds):
            _seed_history(db, fleet, template, logs)
            seconds["Logs and Log Items"] = time.monotonic() - step
        if not db.sqlite:
            step = time.monotonic()
            finish(db)
            seconds["sequences, VACUUM ANALYZE"] = time.monotonic() - step
    finally:
        db.dispose()
    fleet.seconds = seconds
    return fleet


# ---- through the API ------------------------------------------------------------------------


def _client(server: RunningServer, api_key: str) -> httpx.Client:
    # The server's certificate is self-signed and this is loopback: nothing to verify against.
    return httpx.Client(
        base_url=server.url,
        auth=(api_key, ""),
        verify=False,  # noqa: S501
        timeout=60,
    )


def _created(response: httpx.Response) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"seeding failed: {response.status_code} {response.text}")
    data: dict[str, Any] = response.json()["data"]
    return data


def _accounts(client: httpx.Client, partner: Partner) -> tuple[list[int], list[list[int]]]:
    """The partner's own company and 99 more, two Large Plan subscriptions each."""
    company_ids = [partner.company_id]
    for number in range(1, COMPANIES):
        body = {"PartnerId": partner.partner_id, "PlanTypeId": 1, "Name": f"Customer {number:03}"}
        company_ids.append(_created(client.post("/api/companies", json=body))["CompanyId"])
    subscriptions = [
        [
            _created(client.post("/api/subscriptions", json={"CompanyId": cid, "PlanId": 3}))[
                "SubscriptionId"
            ]
            for _ in range(SUBSCRIPTIONS_PER_COMPANY)
        ]
        for cid in company_ids
    ]
    return company_ids, subscriptions


def _template_run(
    server: RunningServer, client: httpx.Client, company_id: int, subscription_id: int
) -> tuple[int, int, int]:
    """The template device, job and job items, and one finished run: (device, job, log) ids."""
    device = _created(
        client.post(
            "/api/devices",
            json={
                "CompanyId": company_id,
                "SubscriptionId": subscription_id,
                "Name": "PC-00000",
                "TimeZoneId": TIME_ZONE,
            },
        )
    )
    tomorrow = datetime.now(ZoneInfo(device["IanaTimeZoneId"])) + timedelta(days=1)
    job = _created(
        client.post(
            "/api/jobs",
            json={
                "DeviceId": device["DeviceId"],
                "Name": "Nightly",
                "Frequency": "Daily",
                "Every": 1,
                "NextRunOn": tomorrow.strftime("%Y-%m-%dT02:00:00"),
                "LateAfter": 120,
                "CloudKeepLast": 30,
                "LocalKeepLast": 7,
            },
        )
    )
    folder = _created(
        client.post(
            "/api/jobitems",
            json={
                "JobId": job["JobId"],
                "Name": "Shares",
                "BackupTypeId": 1,
                "BaseFolder": "D:\\Shares",
                "SearchPatterns": "*.*",
                "IncludeSubFolders": True,
                "ExcludePatterns": "*.tmp;~$*",
            },
        )
    )
    database = _created(
        client.post(
            "/api/jobitems",
            json={
                "JobId": job["JobId"],
                "Name": "Accounting",
                "BackupTypeId": 3,
                "ServerName": "db01",
                "DatabaseName": "accounting",
                "Username": "backup",
                "Password": "s3cret-Backup!",
            },
        )
    )
    with _client(server, device["ApiKey"]) as agent:
        log = _created(agent.post("/api/agent/logs", json={"JobId": job["JobId"]}))
        _created(
            agent.put(
                f"/api/agent/logs/{log['LogId']}",
                json={
                    "JobStatus": "Completed",
                    "LogItems": [
                        {
                            "JobItemId": folder["JobItemId"],
                            "BackupFolder": "shares/0",
                            "BackupFileName": "shares.zip",
                            "BackupFileSize": 734_003_200,
                            "BackupListName": "shares.lst",
                            "BackupListSize": 1_048_576,
                            "BackupListCount": 18_000,
                        },
                        {
                            "JobItemId": database["JobItemId"],
                            "ServerVersion": "16.4",
                            "ServerEdition": "PostgreSQL",
                            "BackupFolder": "accounting/0",
                            "BackupFileName": "accounting.dump",
                            "BackupFileSize": 209_715_200,
                        },
                    ],
                },
            )
        )
    return device["DeviceId"], job["JobId"], log["LogId"]


def _read_template(db: Database, device_id: int, job_id: int, log_id: int) -> Template:
    with db.reading() as session:
        return Template(
            device=_row(session, _DEVICES, _DEVICES.c.id == device_id)[0],
            job=_row(session, _JOBS, _JOBS.c.id == job_id)[0],
            job_items=_row(session, _JOB_ITEMS, _JOB_ITEMS.c.job_id == job_id),
            log=_row(session, _LOGS, _LOGS.c.id == log_id)[0],
            log_items=_row(session, _LOG_ITEMS, _LOG_ITEMS.c.log_id == log_id),
        )


def _row(session: Session, table: Any, where: Any) -> list[dict[str, Any]]:
    rows = session.execute(select(table).where(where).order_by(table.c.id)).mappings()
    return [dict(row) for row in rows]


# ---- in bulk ----------------------------------------------------------------------------------


def _seed_devices(
    db: Database,
    fleet: Fleet,
    template: Template,
    subscriptions: list[list[int]],
    secret: ServerSecret,
) -> None:
    """The template device is device 0; devices 1..9,999 are its clones, 100 per company."""
    first_item = max(item["id"] for item in template.job_items) + 1
    added_on = datetime.now(UTC).replace(tzinfo=None) - HISTORY - timedelta(days=1)
    devices, jobs, items = [], [], []
    per_company = DEVICES // COMPANIES
    per_subscription = per_company // SUBSCRIPTIONS_PER_COMPANY
    for number in range(DEVICES):
        company = number // per_company
        subscription = subscriptions[company][number % per_company // per_subscription]
        device_id, job_id = template.device["id"] + number, template.job["id"] + number
        item_ids = (first_item + 2 * number - 2, first_item + 2 * number - 1)
        if not number:
            item_ids = (template.job_items[0]["id"], template.job_items[1]["id"])
        fleet.devices.append(
            FleetDevice(
                device_id,
                fleet.company_ids[company],
                subscription,
                job_id,
                item_ids,
                number % LONG_HISTORY_EVERY == 0,
            )
        )
        if not number:  # the template itself: made through the API already
            fleet.api_keys[device_id] = secret.decrypt(template.device["api_key_encrypted"])
            continue
        api_key = new_api_key(DEVICE_KEY_PREFIX)
        fleet.api_keys[device_id] = api_key
        name = f"PC-{number:05}"
        devices.append(
            {
                **template.device,
                "id": device_id,
                "name": name,
                "name_folded": folded(name),
                "company_id": fleet.company_ids[company],
                "subscription_id": subscription,
                "api_key_encrypted": secret.encrypt(api_key),
                "api_key_digest": secret.digest(api_key),
                "added_on": added_on,
            }
        )
        jobs.append(
            {
                **template.job,
                "id": job_id,
                "device_id": device_id,
                "company_id": fleet.company_ids[company],
                "added_on": added_on,
            }
        )
        for item_id, base in zip(item_ids, template.job_items, strict=True):
            items.append({**base, "id": item_id, "job_id": job_id, "added_on": added_on})
    with db.writing() as session:
        for table, rows in ((_DEVICES, devices), (_JOBS, jobs), (_JOB_ITEMS, items)):
            for batch in batches(rows, BATCH):
                session.execute(insert(table), batch)


@dataclass
class _Timeline:
    """Draws which device runs next, and remembers what the fleet's jobs last did."""

    devices: Sequence[FleetDevice]
    rng: random.Random
    cumulative: list[float] = field(default_factory=list)
    busy_until: dict[int, datetime] = field(default_factory=dict)
    last_run: dict[int, tuple[datetime | None, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weights = (LONG_HISTORY_WEIGHT if d.long_history else 1 for d in self.devices)
        self.cumulative = list(itertools.accumulate(weights))

    def device_free_at(self, moment: datetime) -> FleetDevice:
        """A device drawn by weight whose previous run has finished by ``moment``."""
        while True:
            drawn = self.rng.random() * self.cumulative[-1]
            device = self.devices[bisect.bisect(self.cumulative, drawn)]
            if self.busy_until.get(device.device_id, moment) <= moment:
                return device


@dataclass(slots=True)  # not frozen: a million of them, and frozen ones are slower to make
class _Run:
    """One Log to write: who ran, when (UTC), how it ended."""

    log_id: int
    device: FleetDevice
    started: datetime
    status: str
    trigger: str
    seconds: int
    local_started: datetime  # the device's wall time
    local_finished: datetime

    @property
    def finished(self) -> datetime:
        return self.started + timedelta(seconds=self.seconds)


def _seed_history(db: Database, fleet: Fleet, template: Template, count: int) -> None:
    """``count`` Logs, the template's Log first (its id, moved to the start of the history)."""
    zone = ZoneInfo(template.log["iana_time_zone_id"])
    rng = random.Random(20_261_127)  # the same history every run
    timeline = _Timeline(fleet.devices, rng)
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1) - HISTORY
    step = HISTORY / count
    logs = Shape(_LOGS, template.log)
    items = [Shape(_LOG_ITEMS, item) for item in template.log_items]
    item_ids = itertools.count(template.log_items[0]["id"])
    with db.writing() as session:  # the template run's rows make way for their clone
        session.execute(_LOGS.delete().where(_LOGS.c.id == template.log["id"]))
        session.execute(_LOG_ITEMS.delete().where(_LOG_ITEMS.c.log_id == template.log["id"]))
    runs = (
        _next_run(timeline, template.log["id"] + number, start + step * number, zone)
        for number in range(count)
    )
    # Double-buffered: the database takes one batch (in a thread, waiting on the driver
    # without the GIL) while this thread makes the next.
    with ThreadPoolExecutor(max_workers=1) as inserter:
        pending: Future[None] | None = None
        for batch in batches(runs, BATCH):
            log_rows = [_log_row(logs, fleet.partner.partner_id, run) for run in batch]
            item_rows = [
                row
                for run in batch
                if run.status != "Missed"
                for row in _item_rows(items, run, item_ids)
            ]
            for run in batch:
                _remember(fleet, timeline, run)
            if pending is not None:
                pending.result()
            pending = inserter.submit(insert_rows, db, (logs, log_rows), (items[0], item_rows))
        if pending is not None:
            pending.result()
    _update_jobs(db, timeline)


def _next_run(timeline: _Timeline, log_id: int, moment: datetime, zone: ZoneInfo) -> _Run:
    device, rng = timeline.device_free_at(moment), timeline.rng
    draw = rng.random()
    status = "Completed"
    if draw < FAILED_SHARE + MISSED_SHARE:
        status = "Failed" if draw < FAILED_SHARE else "Missed"
    trigger = "RunNow" if status != "Missed" and rng.random() < RUN_NOW_SHARE else "Schedule"
    seconds = 0 if status == "Missed" else rng.randint(90, 600 if status == "Failed" else 3600)
    finished = moment + timedelta(seconds=seconds)
    timeline.busy_until[device.device_id] = finished
    return _Run(
        log_id,
        device,
        moment,
        status,
        trigger,
        seconds,
        _local(moment, zone),
        _local(finished, zone),
    )


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The wall time in ``zone`` of the UTC instant ``moment`` (zones change offset on UTC
    hours, so the offset is looked up once per hour)."""
    return moment + _offset(moment.toordinal() * 24 + moment.hour, zone)


@functools.cache
def _offset(hour: int, zone: ZoneInfo) -> timedelta:
    day, hour_of_day = divmod(hour, 24)
    moment = datetime.fromordinal(day).replace(hour=hour_of_day, tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _log_row(shape: Shape, partner_id: int, run: _Run) -> Row:
    """The Log as ``runs.service`` writes it: the snapshot at the start, the outcome at the end
    (a Missed one as the duty writes it, for the occurrence whose window closed)."""
    device, started = run.device, stored(run.started)
    due = run.local_started.replace(minute=0, second=0, microsecond=0)
    values = {
        "id": run.log_id,
        "company_id": device.company_id,
        "device_id": device.device_id,
        "job_id": device.job_id,
        "subscription_id": device.subscription_id,
        **_folders(partner_id, device),
        "next_run_on": stored(due + timedelta(days=1) if run.trigger == "RunNow" else due),
        "job_status": run.status,
        "trigger": run.trigger,
        "added_on": started,
        "error_messages": ERRORS[run.log_id % len(ERRORS)] if run.status == "Failed" else None,
    }
    if run.status == "Missed":
        values.update(
            next_run_on=stored(due - timedelta(hours=3)),
            job_started_on=None,
            started_utc=None,
            job_completed_on=None,
            duration_seconds=None,
            updated_on=None,
        )
        return shape.row(values)
    values.update(
        job_started_on=stored(run.local_started),
        started_utc=started,
        job_completed_on=stored(run.local_finished),
        duration_seconds=run.seconds,
        updated_on=stored(run.finished),
    )
    return shape.row(values)


@functools.cache
def _folders(partner_id: int, device: FleetDevice) -> dict[str, str]:
    """The snapshot's folders, as ``runs.service.snapshot`` names them."""
    return {
        "archive_folder": f"archive/job-{device.job_id}",
        "upload_folder": f"partners/{partner_id}/companies/{device.company_id}"
        f"/devices/{device.device_id}/jobs/{device.job_id}",
    }


def _item_rows(shapes: list[Shape], run: _Run, ids: Iterator[int]) -> list[Row]:
    """The two Log Items the agent reported: each job item's backup, with its size; the
    database's without a backup file when the run Failed."""
    device, finished = run.device, stored(run.finished)
    stamp = f"{run.log_id:08}"
    rows = []
    for shape, job_item_id in zip(shapes, device.item_ids, strict=True):
        base = shape.template
        values = {
            "id": next(ids),
            "log_id": run.log_id,
            "company_id": device.company_id,
            "device_id": device.device_id,
            "job_id": device.job_id,
            "job_item_id": job_item_id,
            "backup_folder": f"{base['name'].lower()}/{run.log_id}",
            "backup_file_name": f"{stamp}-{base['backup_file_name']}",
            "backup_file_size": base["backup_file_size"] + run.log_id % 65_536 * 512,
            "added_on": finished,
        }
        if base["backup_list_name"] is not None:
            values["backup_list_name"] = f"{stamp}-{base['backup_list_name']}"
        if run.status == "Failed" and shape is shapes[-1]:
            values.update(backup_folder=None, backup_file_name=None, backup_file_size=None)
        rows.append(shape.row(values))
    return rows


def _remember(fleet: Fleet, timeline: _Timeline, run: _Run) -> None:
    device = run.device
    fleet.logs += 1
    fleet.log_items += 0 if run.status == "Missed" else len(device.item_ids)
    fleet.statuses[run.status] = fleet.statuses.get(run.status, 0) + 1
    if device.long_history:
        fleet.log_ids.setdefault(device.device_id, []).append(run.log_id)
    ran_on = timeline.last_run.get(device.job_id, (None, ""))[0]
    if run.status != "Missed":
        ran_on = run.local_started
    timeline.last_run[device.job_id] = (ran_on, run.status)


def _update_jobs(db: Database, timeline: _Timeline) -> None:
    """Each job's LastRanOn and LastJobStatus, as its last Log left them."""
    stmt = (
        update(_JOBS)
        .where(_JOBS.c.id == bindparam("job"))
        .values(last_ran_on=bindparam("ran"), last_job_status=bindparam("status"))
    )
    rows = [
        {"job": job, "ran": ran, "status": status}
        for job, (ran, status) in timeline.last_run.items()
    ]
    with db.writing() as session:
        session.connection().execute(stmt, rows)
