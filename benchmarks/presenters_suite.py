"""Issue 9's presenter benchmark: pages of the resources with embedded objects, in process.

For each engine: start the production server (it migrates), seed one partner through the
API — ``SEEDED`` companies, company users, subscriptions, devices, jobs of two job items each
and one finished run per job (a Log with two Log Items) — then, in this process on the
server's database, read and present a page of 100 of each list endpoint as the endpoint
does it:

- *page*: the endpoint's read (its service call in its read transaction) and presenting
  every element;
- *present*: presenting the page already read, alone — the presenters' own cost.

Every cell runs once per round (``ROUNDS`` interleaved rounds of ``REPEATS`` pages after a
warm-up), so the machine's other load falls on all cells alike; the medians are reported.
Each result line is also printed (``presenters: <engine> <cell> <page ms> <present ms>``)
for comparing two checkouts run alternately (docs/benchmarks.md, Presenters).
``python -m benchmarks.run --suite presenters`` runs it alone.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from benchmarks import report, servers
from benchmarks.measure import Options
from cleverfox.server.companies import service as companies
from cleverfox.server.companies.schemas import COMPANY_FILTERS, company_row_out
from cleverfox.server.company_users import service as company_users
from cleverfox.server.company_users.schemas import COMPANY_USER_FILTERS, company_user_out
from cleverfox.server.devices import service as devices
from cleverfox.server.devices.presence import online_window
from cleverfox.server.devices.schemas import DEVICE_FILTERS, Presentation
from cleverfox.server.job_items import service as job_items
from cleverfox.server.job_items.schemas import JOB_ITEM_FILTERS, job_item_out
from cleverfox.server.jobs import service as jobs
from cleverfox.server.jobs.schemas import JOB_FILTERS, present_job
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.kit.db import Database
from cleverfox.server.kit.listing import ListQuery, parse_list_query
from cleverfox.server.kit.secrets import read_secret
from cleverfox.server.logs import service as logs
from cleverfox.server.logs.schemas import LOG_FILTERS, log_out
from cleverfox.server.subscriptions import service as subscriptions
from cleverfox.server.subscriptions.schemas import SUBSCRIPTION_FILTERS, subscription_out

SEEDED = 100
ROUNDS = 7
REPEATS = 20
WARMUP_REPEATS = 5
LARGE_PLAN = 3

Use = Callable[[list[Any]], None]
Read = Callable[[Database, int, Use], None]
Present = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Cell:
    """One list endpoint: how its page is read, and how each element is presented."""

    name: str
    read: Read
    present: Present


@dataclass
class Timings:
    page_ms: list[float]
    present_ms: list[float]


def run(options: Options) -> str:
    """Seed and measure each engine in turn; the Markdown section of the results."""
    sections = [
        f"Seeded through the API: {SEEDED} companies, company users, subscriptions, devices "
        "and jobs (two job items each), and a finished run of each job (a Log with two Log "
        f"Items). In process, on the server's database: {ROUNDS} interleaved rounds of "
        f"{REPEATS} pages of 100 per cell, after a warm-up; medians of all pages. *page*: the "
        "endpoint's read and presenting every element; *present*: presenting alone."
    ]
    for name in options.engines:
        with _engine(name, options.postgres_url) as engine:
            if engine is None:
                sections.append(f"### {name}\n\nSkipped: no PostgreSQL reachable.")
                continue
            with servers.running(servers.UVICORN, engine) as server:
                partner = servers.new_partner(engine)
                _seed(server, partner)
            sections.append(_section(engine.name, _measure(engine, partner.partner_id)))
    return "\n\n".join(sections)


@contextmanager
def _engine(name: str, postgres_url: str) -> Iterator[servers.Engine | None]:
    if name == "sqlite":
        with servers.sqlite_engine() as engine:
            yield engine
    elif servers.postgres_reachable(postgres_url):
        with servers.postgres_engine(postgres_url) as engine:
            yield engine
    else:
        yield None


def _seed(server: servers.RunningServer, partner: servers.Partner) -> None:
    """Everything through the public API and the agent's, as clients make it."""
    auth = (partner.api_key, "")
    # The server's certificate is self-signed and this is loopback: nothing to verify against.
    with httpx.Client(base_url=server.url, auth=auth, verify=False, timeout=30) as client:  # noqa: S501
        for number in range(SEEDED):
            _seed_one(server, client, partner, number)


def _seed_one(
    server: servers.RunningServer, client: httpx.Client, partner: servers.Partner, number: int
) -> None:
    company = _made(client.post("/api/companies", json=servers.company_body(partner, f"C{number}")))
    company_id = company["CompanyId"]
    user = {"CompanyId": company_id, "FirstName": "A", "LastName": "B"}
    _made(client.post("/api/companyusers", json={**user, "Email": f"u{number}@example.com"}))
    sub = {"CompanyId": company_id, "PlanId": LARGE_PLAN, "SendNotificationTo": "a@example.com"}
    subscription = _made(client.post("/api/subscriptions", json=sub))
    device = _made(
        client.post(
            "/api/devices",
            json={
                "CompanyId": company_id,
                "SubscriptionId": subscription["SubscriptionId"],
                "Name": f"D{number}",
                "TimeZoneId": "Eastern Standard Time",
            },
        )
    )
    job = _made(client.post("/api/jobs", json=_job_body(device["DeviceId"])))
    items = [_made(client.post("/api/jobitems", json=_item_body(job["JobId"]))) for _ in "ab"]
    agent = (device["ApiKey"], "")
    with httpx.Client(base_url=server.url, auth=agent, verify=False, timeout=30) as device_client:  # noqa: S501
        log = _made(device_client.post("/api/agent/logs", json={"JobId": job["JobId"]}))
        finish = {
            "JobStatus": "Completed",
            "LogItems": [{"JobItemId": i["JobItemId"], "BackupFileSize": 1234} for i in items],
        }
        _made(device_client.put(f"/api/agent/logs/{log['LogId']}", json=finish))


def _job_body(device_id: int) -> dict[str, object]:
    soon = (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    return {
        "DeviceId": device_id,
        "Name": "Nightly",
        "Frequency": "Daily",
        "NextRunOn": soon,
        "LateAfter": 60,
        "Every": 1,
        "CloudKeepLast": 7,
        "LocalKeepLast": 3,
    }


def _item_body(job_id: int) -> dict[str, object]:
    return {"JobId": job_id, "BackupTypeId": 1, "BaseFolder": "C:\\Data", "SearchPatterns": "*.*"}


def _made(response: httpx.Response) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise RuntimeError(f"seeding failed: {response.status_code} {response.text}")
    data: dict[str, Any] = response.json()["data"]
    return data


def _page(filters: Any) -> ListQuery:
    return parse_list_query([("PageSize", "100")], filters)


def _cells(engine: servers.Engine) -> list[Cell]:
    settings = engine.settings
    how = Presentation(
        read_secret(settings.secret_key_path),
        "https://127.0.0.1",
        online_window(settings),
        utcnow(),
    )

    def in_session(read: Callable[[Any, int], tuple[Any, bool]]) -> Read:
        def page(db: Database, partner_id: int, use: Use) -> None:
            with db.reading() as session:
                use(list(read(session, partner_id)[0]))

        return page

    def in_snapshot(read: Callable[[Any, int], tuple[Any, bool]]) -> Read:
        def page(db: Database, partner_id: int, use: Use) -> None:
            with db.connection_snapshot() as connection:
                use(list(read(connection, partner_id)[0]))

        return page

    window = online_window(settings)
    return [
        Cell(
            "companies (Core rows)",
            in_snapshot(lambda c, p: companies.read_companies(c, p, _page(COMPANY_FILTERS))),
            company_row_out,
        ),
        Cell(
            "company users",
            in_session(lambda s, p: company_users.list_users(s, p, _page(COMPANY_USER_FILTERS))),
            company_user_out,
        ),
        Cell(
            "subscriptions",
            in_session(
                lambda s, p: subscriptions.list_subscriptions(s, p, _page(SUBSCRIPTION_FILTERS))
            ),
            subscription_out,
        ),
        Cell(
            "devices",
            in_session(
                lambda s, p: devices.list_devices(s, p, _page(DEVICE_FILTERS), how.now, window)
            ),
            how,
        ),
        Cell(
            "jobs",
            in_session(lambda s, p: jobs.list_jobs(s, p, _page(JOB_FILTERS))),
            lambda job: present_job(job, how),
        ),
        Cell(
            "job items",
            in_session(lambda s, p: job_items.list_items(s, p, _page(JOB_ITEM_FILTERS))),
            job_item_out,
        ),
        Cell(
            "logs (Core rows)",
            in_snapshot(lambda c, p: logs.read_logs(c, p, _page(LOG_FILTERS), how)),
            log_out,
        ),
    ]


def _measure(engine: servers.Engine, partner_id: int) -> dict[str, Timings]:
    db = Database(engine.settings.resolved_database_url, pool_size=1)
    cells = _cells(engine)
    timings = {cell.name: Timings([], []) for cell in cells}
    try:
        for cell in cells:
            for _ in range(WARMUP_REPEATS):
                _once(db, partner_id, cell)
        for _ in range(ROUNDS):
            for cell in cells:
                for _ in range(REPEATS):
                    page_ms, present_ms = _once(db, partner_id, cell)
                    timings[cell.name].page_ms.append(page_ms)
                    timings[cell.name].present_ms.append(present_ms)
    finally:
        db.dispose()
    for name, timing in timings.items():
        print(
            f"presenters: {engine.name} {name!r} {statistics.median(timing.page_ms):.3f} "
            f"{statistics.median(timing.present_ms):.3f}",
            flush=True,
        )
    return timings


def _once(db: Database, partner_id: int, cell: Cell) -> tuple[float, float]:
    """One page: read it and present it, as the endpoint does (inside its transaction);
    then present it again, alone. The transaction's end is not part of either."""
    times: list[float] = []

    def present(elements: list[Any]) -> None:
        for element in elements:
            cell.present(element)
        times.append(time.perf_counter())
        if len(elements) != SEEDED:
            raise RuntimeError(f"{cell.name}: a page of {len(elements)}, not {SEEDED}")
        for element in elements:
            cell.present(element)
        times.append(time.perf_counter())

    started = time.perf_counter()
    cell.read(db, partner_id, present)
    return (times[0] - started) * 1000, (times[1] - times[0]) * 1000


def _section(engine: str, timings: dict[str, Timings]) -> str:
    rows = [
        (
            name,
            f"{statistics.median(t.page_ms):.2f}",
            f"{statistics.median(t.present_ms):.2f}",
            f"{statistics.median(t.present_ms) / SEEDED * 1000:.1f}",
        )
        for name, t in timings.items()
    ]
    header = ("List of 100", "page ms", "present ms", "present µs/element")
    return f"### {engine}\n\n" + report.table(header, rows)
