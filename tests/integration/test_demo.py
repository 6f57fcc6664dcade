"""``cleverfox demo`` as a newcomer meets it: a real process on a free port, its printed
``curl`` line run as printed, the command line it prints run as printed in a fresh shell,
the server's URL leading to the API reference, and the demo data seen through the API.

The demo must show something real: companies with subscriptions, devices in several time
zones whose agents have checked in (their keys work), jobs of several frequencies with their
items, and weeks of Logs (Completed, Failed, Missed) with Log Items and the Events that
record them. A second start on the same data directory reuses the partner and key and adds
nothing. The seeding is deterministic for a given clock.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select
from tests.support.server import (
    ServerProcess,
    _drain,
    _wait_ready,
    free_port,
    postgres_database,
    stop_server,
)

from cleverfox.cli.operator.context import operator_session
from cleverfox.server.demo import ensure_demo
from cleverfox.server.kit.datetimes import utcnow
from cleverfox.server.models import Log, LogItem
from cleverfox.settings import Settings

POSTGRES = os.environ.get("CLEVERFOX_TEST_POSTGRES") or None
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
JOB_STARTED, JOB_COMPLETED, JOB_FAILED, JOB_MISSED = 50, 51, 52, 53


@dataclass
class DemoRun:
    server: ServerProcess
    curl_line: str
    api_key: str
    ready_at: datetime  # history before it; the duties may add Missed Logs after it

    def get(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every element of a collection (PageSize 1000, following ``has_more``)."""
        found: list[dict[str, Any]] = []
        with self.server.client(self.api_key) as api:
            for page in range(1, 50):
                response = api.get(
                    f"/api/{path}", params={**params, "PageSize": 1000, "PageNo": page}
                )
                assert response.status_code == 200, response.text
                found += response.json()["data"]
                if not response.json()["has_more"]:
                    return found
        raise AssertionError("too many pages")


def start_demo(data_dir: Path, database_url: str | None) -> DemoRun:
    """``cleverfox demo`` on a free port; returns once it printed its ``curl`` line."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}
    if database_url:
        environment["CLEVERFOX_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cleverfox",
            "demo",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    server = ServerProcess(f"https://127.0.0.1:{port}", data_dir, database_url, process)
    _wait_ready(server, timeout=90)
    line = _printed_curl_line(server)
    key = shlex.split(line)[shlex.split(line).index("-u") + 1].removesuffix(":")
    return DemoRun(server, line, key, utcnow())


def _printed_curl_line(server: ServerProcess) -> str:
    return printed_line(server, "curl ")


def printed_line(server: ServerProcess, start: str, timeout: float = 15) -> str:
    """The first line the demo printed that starts with ``start`` (leading blanks aside)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _drain(server)
        for line in server.output:
            if line.strip().startswith(start):
                return line.strip()
        time.sleep(0.1)
    raise AssertionError(f"no line {start!r}… printed:\n" + "".join(server.output))


def cli_line(demo: DemoRun) -> str:
    """The command the demo printed after its ``export`` line."""
    exported = printed_line(demo.server, "export CLEVERFOX_")
    lines = [line.strip() for line in demo.server.output]
    return lines[lines.index(exported) + 1]


def in_a_new_shell(
    demo: DemoRun, tmp_path: Path, *commands: str
) -> subprocess.CompletedProcess[str]:
    """``commands`` run by bash after the ``export`` line the demo printed, with nothing of
    this environment's CLEVERFOX_* and an empty config directory (no profile). Nor its
    COLUMNS and LINES: pytest-xdist exports them, a terminal's shell keeps them to itself."""
    skipped = ("COLUMNS", "LINES")
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_") and k not in skipped
    }
    environment["XDG_CONFIG_HOME"] = str(tmp_path / "xdg")
    script = "\n".join((printed_line(demo.server, "export CLEVERFOX_"), *commands))
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def own_database() -> Iterator[str | None]:
    """A database of the demo's own: its duties must not meet other tests' data."""
    if POSTGRES is None:
        yield None
        return
    with postgres_database(POSTGRES) as url:
        yield url


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, own_database: str | None) -> Iterator[DemoRun]:
    run = start_demo(tmp_path_factory.mktemp("demo"), own_database)
    yield run
    stop_server(run.server)


def test_printed_curl_line_answers_with_the_demo_companies(demo: DemoRun) -> None:
    status, body = _run_as_printed(demo.curl_line)

    assert status == 200, body
    names = {company["Name"] for company in body["data"]}
    assert {"Northwind Traders", "Contoso Dental", "Fabrikam Legal"} <= names


def test_devices_in_several_zones_have_checked_in_with_real_keys(demo: DemoRun) -> None:
    devices = demo.get("devices")

    assert len(devices) >= 7
    assert len({device["TimeZoneId"] for device in devices}) >= 4
    reported = [device for device in devices if device["Hostname"]]
    assert len(reported) >= 6
    assert all(device["OsName"] and device["AgentVersion"] for device in reported)
    assert any(device["SendNotificationOnJobFailed"] for device in devices)
    assert {device["ConnectionStatus"] for device in devices} >= {"Online", "Never Connected"}
    assert all(device["Subscription"]["PlanId"] in (2, 3) for device in devices)
    with httpx.Client(
        base_url=demo.server.url, verify=False, auth=(reported[0]["ApiKey"], "")
    ) as agent:
        checked_in = agent.post("/api/agent/checkin", json={})
    assert checked_in.status_code == 200, checked_in.text
    assert checked_in.json()["data"]["Jobs"]


def test_jobs_of_several_frequencies_back_up_files_and_databases(demo: DemoRun) -> None:
    jobs = demo.get("jobs")
    items = demo.get("jobitems")

    assert {job["Frequency"] for job in jobs} >= {"Hourly", "Daily", "Weekly"}
    assert all(job["JobItems"] for job in jobs)
    assert {item["BackupTypeId"] for item in items} >= {1, 2, 3}
    assert any(item["BaseFolder"] == "C:\\Users" for item in items)
    sql_server = [item for item in items if item["BackupTypeId"] == 2]
    assert all(item["AuthenticationMode"] == "S" for item in sql_server)
    assert all(item["Username"] is None and item["Password"] is None for item in items)
    now = utcnow()
    due = [datetime.fromisoformat(job["NextRunUtc"].removesuffix("Z")) for job in jobs]
    assert sum(when > now for when in due) >= len(jobs) - 1  # the quiet laptop's may be due


def test_weeks_of_logs_look_as_the_agent_and_the_server_write_them(demo: DemoRun) -> None:
    logs = demo.get("logs")
    by_status = Counter(log["JobStatus"] for log in logs)

    assert by_status["Completed"] > 100
    assert by_status["Failed"] > 0 and by_status["Missed"] > 0
    added = sorted(_utc(log["AddedOn"]) for log in logs)
    assert added[-1] - added[0] >= timedelta(days=14)
    assert added[-1] <= utcnow()
    for log in logs:
        _check_times(log)
    failed = [log for log in logs if log["JobStatus"] == "Failed"]
    assert all(log["ErrorMessages"] for log in failed)
    assert any(log["Trigger"] == "RunNow" for log in logs)
    in_id_order = [_utc(log["AddedOn"]) for log in sorted(logs, key=lambda log: log["LogId"])]
    assert in_id_order == added  # ids grew with AddedOn, as they would have


def test_log_items_and_events_match_the_logs(demo: DemoRun) -> None:
    until = demo.ready_at.isoformat(timespec="milliseconds")
    logs = demo.get("logs", Until=until)
    items = demo.get("logitems")
    events = {
        kind: demo.get("events", EventTypeId=kind, Until=until)
        for kind in (JOB_STARTED, JOB_COMPLETED, JOB_FAILED, JOB_MISSED)
    }

    completed = {log["LogId"] for log in logs if log["JobStatus"] == "Completed"}
    assert completed <= {item["LogId"] for item in items}
    assert all(item["BackupFileSize"] > 0 and item["BackupFileName"] for item in items)
    assert all(item["EngineId"] in ("FILE", "MSSQL", "PGSQL") for item in items)
    run = {log["LogId"] for log in logs if log["JobStartedOn"] is not None}
    assert {event["LogId"] for event in events[JOB_STARTED]} == run
    for kind, status in (
        (JOB_COMPLETED, "Completed"),
        (JOB_FAILED, "Failed"),
        (JOB_MISSED, "Missed"),
    ):
        assert {event["LogId"] for event in events[kind]} == {
            log["LogId"] for log in logs if log["JobStatus"] == status
        }
    by_log = {log["LogId"]: log for log in logs}
    for event in events[JOB_COMPLETED]:
        assert event["AddedOn"] == by_log[event["LogId"]]["UpdatedOn"]


def test_the_banner_leads_to_the_api_reference_and_names_only_what_exists(
    demo: DemoRun,
) -> None:
    url = printed_line(demo.server, "URL: ").removeprefix("URL: ")
    reference = printed_line(demo.server, "API reference: ").removeprefix("API reference: ")

    assert url == demo.server.url + "/"
    assert reference == url + "api/docs"
    storage = [line for line in demo.server.output if line.startswith("Storage: ")]
    assert all(Path(line.removeprefix("Storage: ").strip()).is_dir() for line in storage)
    with httpx.Client(verify=False, timeout=30) as browser:
        for method in ("GET", "HEAD"):
            sent = browser.request(method, url)
            assert sent.status_code == 307
            assert str(sent.url.join(sent.headers["Location"])) == reference
        page = browser.get(url, follow_redirects=True)
    assert page.status_code == 200 and "swagger-ui" in page.text


def test_the_printed_command_line_works_in_another_terminal(demo: DemoRun, tmp_path: Path) -> None:
    exported = printed_line(demo.server, "export CLEVERFOX_")
    done = in_a_new_shell(demo, tmp_path, cli_line(demo))

    assert "CLEVERFOX_FINGERPRINT=" in exported
    assert cli_line(demo).endswith(" companies list")
    assert done.returncode == 0, done.stderr
    for name in ("Northwind Traders", "Contoso Dental", "Fabrikam Legal"):
        assert name in done.stdout  # whole: a piped table is not cut at 80 columns


def test_a_reader_that_stops_early_ends_a_listing_without_a_traceback(
    demo: DemoRun, tmp_path: Path
) -> None:
    """``| head`` closes the pipe while a listing of weeks of Logs (far more than a pipe
    holds) is still being written: the command line and the CSV example end quietly."""
    cleverfox = cli_line(demo).removesuffix(" companies list")
    example = f"{shlex.quote(sys.executable)} {shlex.quote(str(EXAMPLES / 'export_logs.py'))}"
    done = in_a_new_shell(
        demo,
        tmp_path,
        f"{cleverfox} logs list --json | head -n 1 | cut -c 1-11",
        f"{cleverfox} logs list | head -c 6",
        "echo",
        f"{example} 2020-01-01 | head -c 7",
    )

    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert done.stdout.split() == ['{"AddedOn":', "LogId", "LogId,A"]


def test_a_second_start_reuses_the_partner_and_adds_nothing(demo: DemoRun) -> None:
    before = {path: len(demo.get(path)) for path in ("companies", "devices", "jobs")}
    completed = len(demo.get("logs", JobStatus="Completed"))
    stop_server(demo.server)

    again = start_demo(demo.server.data_dir, demo.server.database_url)
    try:
        assert again.api_key == demo.api_key
        assert {path: len(again.get(path)) for path in before} == before
        assert len(again.get("logs", JobStatus="Completed")) == completed
    finally:
        stop_server(again.server)


@pytest.mark.sqlite_only
def test_the_same_clock_seeds_the_same_history(tmp_path: Path) -> None:
    now = utcnow()

    first, second = (_seeded(tmp_path / name, now) for name in ("first", "second"))

    assert first == second
    assert len(first) > 500


def _seeded(data_dir: Path, now: datetime) -> list[tuple[Any, ...]]:
    """Seed a fresh SQLite demo at ``now``; its logs and log items, as comparable tuples."""
    started = time.monotonic()
    with operator_session(Settings(data_dir=data_dir)) as (session, secret):
        ensure_demo(session, secret, data_dir, now=now)
        rows: list[tuple[Any, ...]] = [
            (
                log.id,
                log.job_id,
                log.job_status,
                log.trigger,
                log.added_on,
                log.job_started_on,
                log.job_completed_on,
                log.error_messages,
            )
            for log in session.scalars(select(Log).order_by(Log.id))
        ]
        rows += [
            (item.id, item.log_id, item.backup_file_name, item.backup_file_size)
            for item in session.scalars(select(LogItem).order_by(LogItem.id))
        ]
    assert time.monotonic() - started < 30  # a few seconds; generous for loaded machines
    return rows


def _run_as_printed(line: str) -> tuple[int, Any]:
    """The printed line run with curl as printed (httpx with its key and CA without curl)."""
    args = shlex.split(line)
    if shutil.which("curl"):
        done = subprocess.run(
            [*args, "--silent", "--write-out", "\n%{http_code}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        body, _, status = done.stdout.rpartition("\n")
        return int(status), httpx.Response(200, content=body).json()
    cacert, key, url = args[args.index("--cacert") + 1], args[args.index("-u") + 1], args[-1]
    response = httpx.get(url, verify=cacert, auth=(key.removesuffix(":"), ""), timeout=30)
    return response.status_code, response.json()


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _check_times(log: dict[str, Any]) -> None:
    """AddedOn is UTC; JobStartedOn and JobCompletedOn are the device's wall times."""
    zone = ZoneInfo(log["IanaTimeZoneId"])
    if log["JobStatus"] == "Missed":
        assert log["JobStartedOn"] is None and log["JobCompletedOn"] is None
        return
    started, ended = _utc(log["AddedOn"]), _utc(log["UpdatedOn"])
    assert _utc(log["JobStartedOn"]) == _local(started, zone), log
    assert _utc(log["JobCompletedOn"]) == _local(ended, zone), log
    assert log["DurationSeconds"] == int((ended - started).total_seconds())


def _local(utc: datetime, zone: ZoneInfo) -> datetime:
    return utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)
