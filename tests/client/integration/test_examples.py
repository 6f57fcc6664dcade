"""The runnable examples of docs/sdk.md (``docs/examples/*.py``) run against the real server,
and the code shown in docs/sdk.md is exactly the code run here."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cleverfox.client import Client
from tests.client.integration.conftest import Tenant, agent_run, missed_run
from tests.support.server import Partner, ServerProcess

DOCS = Path(__file__).resolve().parents[3] / "docs"
EXAMPLES = DOCS / "examples"

RunExample = Callable[..., str]
"""Runs an example by file name with arguments; its standard output."""


@pytest.fixture
def run_example(server: ServerProcess, partner: Partner) -> RunExample:
    """Runs ``docs/examples/NAME`` with the partner's credentials in the environment."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}
    environment.update(
        CLEVERFOX_URL=server.url,
        CLEVERFOX_API_KEY=partner.api_key,
        CLEVERFOX_FINGERPRINT=server.fingerprint,
    )

    def run(name: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / name), *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


def test_provision_a_customer_twice_makes_it_once(run_example: RunExample, sdk: Client) -> None:
    args = ("Acme Ltd", "CRM-1042", "FILESRV01", "GMT Standard Time")
    first = run_example("provision_customer.py", *args)
    assert "install the agent from https://" in first
    assert run_example("provision_customer.py", *args) == first
    [company] = sdk.companies.list(external_id="CRM-1042")
    [device] = sdk.devices.list(company_id=company.id)
    assert (device.name, device.iana_time_zone_id) == ("FILESRV01", "Europe/London")
    assert len(list(sdk.subscriptions.list(company_id=company.id))) == 1


def test_failed_and_missed_jobs_of_the_last_day(
    run_example: RunExample, server: ServerProcess, sdk: Client, tenant: Tenant
) -> None:
    agent_run(server, tenant.device, tenant.job.id, "Completed")
    agent_run(server, tenant.device, tenant.job.id, "Failed", "disk full\r\nretry failed")
    missed_run(server, sdk, tenant.device)
    said = run_example("failed_jobs.py").splitlines()
    assert said[-1] == "1 failed, 1 missed in the last 24 hours"
    assert "Missed" in said[0] and "Failed" in said[1]
    assert said[1].endswith("Acme Ltd / FS01 / Nightly  disk full / retry failed")


def test_sync_companies_by_external_id(
    run_example: RunExample, sdk: Client, tmp_path: Path
) -> None:
    source = tmp_path / "customers.csv"
    source.write_text(
        "ExternalId,Name,Country,Active\nC-1,Acme Ltd,UK,yes\nC-2,Globex,US,yes\n",
        encoding="utf-8",
    )
    assert run_example("sync_companies.py", str(source)).strip() == (
        "2 created, 0 updated, 0 unchanged"
    )
    source.write_text(
        "ExternalId,Name,Country,Active\nC-1,Acme Ltd,UK,yes\nC-2,Globex Corp,,no\n",
        encoding="utf-8",
    )
    assert run_example("sync_companies.py", str(source)).strip() == (
        "0 created, 1 updated, 1 unchanged"
    )
    [globex] = sdk.companies.list(external_id="C-2")
    assert (globex.name, globex.country, globex.is_inactive) == ("Globex Corp", None, True)


def test_rotate_a_device_key_by_id_or_external_id(
    run_example: RunExample, sdk: Client, tenant: Tenant
) -> None:
    before = tenant.device.api_key
    assert f"device {tenant.device.id} (FS01) has a new key" in run_example(
        "rotate_device_key.py", str(tenant.device.id)
    )
    middle = sdk.devices.get(tenant.device.id).api_key
    sdk.devices.update(tenant.device.id, external_id="LAPTOP-7")
    run_example("rotate_device_key.py", "ext:LAPTOP-7")
    after = sdk.devices.get(tenant.device.id).api_key
    assert len({before, middle, after}) == 3


def test_export_logs_as_csv(run_example: RunExample, server: ServerProcess, tenant: Tenant) -> None:
    ids = [
        agent_run(server, tenant.device, tenant.job.id, status)
        for status in ("Completed", "Failed", "Completed")
    ]
    text = run_example("export_logs.py", "2020-01-01")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["LogId"]) for row in rows] == list(reversed(ids))
    assert {row["Device"] for row in rows} == {"FS01"}
    assert [row["JobStatus"] for row in rows] == ["Completed", "Failed", "Completed"]
    assert run_example("export_logs.py", "2020-01-01", "2020-02-01").strip() == ",".join(
        next(csv.reader(io.StringIO(text)))
    )


def test_the_docs_show_the_examples_as_they_run() -> None:
    """Each ``<!-- example: NAME -->`` in docs/sdk.md is followed by NAME's code, verbatim."""
    text = (DOCS / "sdk.md").read_text(encoding="utf-8")
    shown = dict(re.findall(r"<!-- example: (\S+) -->\n```python\n(.*?)```", text, re.S))
    assert sorted(shown) == sorted(path.name for path in EXAMPLES.glob("*.py"))
    for name, code in shown.items():
        assert code == (EXAMPLES / name).read_text(encoding="utf-8"), name
