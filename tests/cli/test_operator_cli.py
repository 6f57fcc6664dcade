"""The operator's administration commands (operator-cli.md), run against the test server's
data directory and database (SQLite, or the run's PostgreSQL database with ``--database-url``)
while that server runs, so their effect is proven through the API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from tests.support.server import Partner, ServerProcess

from cleverfox.cli.main import cli, main
from cleverfox.server.kit.errors import AppError

COMMANDS = (
    ("partner", "create"),
    ("partner", "list"),
    ("partner", "apikey"),
    ("partner", "activate"),
    ("partner", "deactivate"),
    ("plantype", "create"),
    ("plan", "create"),
    ("subscription", "set"),
)
CLEAN_ENV = {name: None for name in os.environ if name.startswith("CLEVERFOX_")}
AUTH_CACHE_WINDOW = 3.0  # the server's auth cache (2 s by default) and a second to spare


def answer_within_auth_cache(request: Callable[[], httpx.Response], status: int) -> httpx.Response:
    """The first answer with ``status`` within the auth cache's window (docs/api.md), else
    the last: a process that served a key recently trusts it for up to that window."""
    deadline = time.monotonic() + AUTH_CACHE_WINDOW
    response = request()
    while response.status_code != status and time.monotonic() < deadline:
        time.sleep(0.1)
        response = request()
    return response


@pytest.fixture(scope="module")
def data_args(server: ServerProcess, database_url: str | None) -> list[str]:
    """The options that point a command at the running server's data."""
    args = ["--data-dir", str(server.data_dir)]
    return [*args, "--database-url", database_url] if database_url else args


@pytest.fixture
def run(data_args: list[str]) -> Any:
    """Run one command with CliRunner; ``--json`` output comes back parsed."""

    def invoke(*args: str) -> Any:
        result = CliRunner(env=CLEAN_ENV).invoke(cli, [*args, *data_args, "--json"])
        assert result.exit_code == 0, (result.output, result.stderr, result.exception)
        return json.loads(result.stdout)

    return invoke


def invoke_raw(data_args: list[str], *args: str) -> Result:
    return CliRunner(env=CLEAN_ENV).invoke(cli, [*args, *data_args])


def run_main(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """The installed entry point, in-process: its exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "argv", ["cleverfox", *args])
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_partner_create_then_list(run: Any) -> None:
    made = run(
        "partner", "create", "--name", "Listed Partner", "--owner-email", "owner@example.com"
    )
    assert set(made) == {"PartnerId", "CompanyId", "ApiKey", "PartnerUserId"}
    listed = run("partner", "list")
    row = next(p for p in listed if p["PartnerId"] == made["PartnerId"])
    assert row["Name"] == "Listed Partner" and row["IsInactive"] is False
    assert row["PlanTypeId"] == 1 and row["PlanType"] == "CleverFox Backup"
    assert [p["PartnerId"] for p in listed] == sorted(p["PartnerId"] for p in listed)


def test_partner_list_prints_a_table(run: Any, data_args: list[str]) -> None:
    made = run("partner", "create", "--name", "Tabled Partner")
    result = invoke_raw(data_args, "partner", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "PLAN", "TYPE", "STATUS", "ADDED", "ON", "(UTC)"]
    row = next(line for line in lines if line.startswith(f"{made['PartnerId']} "))
    assert "Tabled Partner" in row and "active" in row


def test_deactivated_partner_gets_403_until_activated(run: Any, partner: Partner) -> None:
    assert partner.client.get("/api/companies").status_code == 200
    assert run("partner", "deactivate", str(partner.partner_id)) == {
        "PartnerId": partner.partner_id,
        "IsInactive": True,
    }
    refused = answer_within_auth_cache(lambda: partner.client.get("/api/companies"), 403)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "partner_plan_required"
    assert run("partner", "activate", str(partner.partner_id))["IsInactive"] is False
    assert partner.client.get("/api/companies").status_code == 200
    trail = partner.client.get("/api/events", params={"EventTypeId": 1}).json()["data"]
    assert [(e["Actor"], e["Changes"]) for e in trail] == [
        ("Operator", {"IsInactive": [True, False]}),
        ("Operator", {"IsInactive": [False, True]}),
    ]


def test_partner_apikey_makes_the_old_key_401(
    run: Any, server: ServerProcess, partner: Partner
) -> None:
    new_key = run("partner", "apikey", str(partner.partner_id))["ApiKey"]
    assert new_key != partner.api_key
    old = partner.client.get("/api/partners")
    assert old.status_code == 401 and "www-authenticate" in old.headers
    with server.client(new_key) as client:
        assert client.get("/api/partners").json()["data"][0]["PartnerId"] == partner.partner_id
        changed = client.get("/api/events", params={"EventTypeId": 2}).json()["data"]
    assert [(e["Actor"], e["Changes"]) for e in changed] == [
        ("Operator", {"ApiKey": ["***", "***"]})
    ]


def test_partner_on_a_plan_type_without_api_access_gets_403(
    run: Any, server: ServerProcess, partner: Partner
) -> None:
    plan_type_id = run("plantype", "create", "--name", "Console only", "--no-api-access")[
        "PlanTypeId"
    ]
    shown = partner.client.get(f"/api/plantypes/{plan_type_id}").json()["data"]
    assert shown == {
        "PlanTypeId": plan_type_id,
        "Name": "Console only",
        "IsInactive": False,
        "HasApiAccess": False,
    }
    locked = run("partner", "create", "--name", "No API", "--plan-type-id", str(plan_type_id))
    with server.client(locked["ApiKey"]) as client:
        refused = client.get("/api/partners")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "partner_plan_required"
    open_type = run("plantype", "create", "--name", "With API")["PlanTypeId"]
    assert partner.client.get(f"/api/plantypes/{open_type}").json()["data"]["HasApiAccess"] is True


def test_plan_create_adds_to_the_catalogue(run: Any, partner: Partner) -> None:
    plan_type_id = run("plantype", "create", "--name", "Resellers")["PlanTypeId"]
    plan_id = run(
        "plan",
        "create",
        "--name",
        "Reseller 10",
        "--plan-type-id",
        str(plan_type_id),
        "--device-limit",
        "10",
        "--storage-limit-gb",
        "500",
        "--download-limit",
    )["PlanId"]
    plan = partner.client.get(f"/api/plans/{plan_id}").json()["data"]
    assert (plan["Name"], plan["PlanTypeId"], plan["DeviceLimit"], plan["StorageLimit"]) == (
        "Reseller 10",
        plan_type_id,
        10,
        500,
    )
    assert plan["DownloadLimit"] is True and plan["IsInactive"] is False
    assert plan["Details"] == "Up to 10 device(s)\r\n500 GB of cloud storage"
    plain = run(
        "plan",
        "create",
        "--name",
        "Plain",
        "--plan-type-id",
        "1",
        "--device-limit",
        "2",
        "--storage-limit-gb",
        "20",
    )["PlanId"]
    assert partner.client.get(f"/api/plans/{plain}").json()["data"]["DownloadLimit"] is False


def test_subscription_set_changes_the_operator_attributes(run: Any, partner: Partner) -> None:
    created = partner.client.post(
        "/api/subscriptions", json={"CompanyId": partner.company_id, "PlanId": 1}
    )
    sid = created.json()["data"]["SubscriptionId"]
    result = run("subscription", "set", str(sid), "--additional-devices", "3", "--inactive")
    assert result["AdditionalDevice"] == 3 and result["IsInactive"] is True
    data = partner.client.get(f"/api/subscriptions/{sid}").json()["data"]
    assert (data["AdditionalDevice"], data["IsInactive"], data["Status"]) == (3, True, "Inactive")
    assert data["UpdatedOn"] is not None
    run("subscription", "set", str(sid), "--active")
    run("subscription", "set", str(sid), "--active", "--additional-devices", "3")  # no change
    trail = partner.client.get("/api/events", params={"EventTypeId": 21}).json()["data"]
    assert [(e["SubscriptionId"], e["Actor"], e["Changes"]) for e in trail] == [
        (sid, "Operator", {"IsInactive": [True, False]}),
        (sid, "Operator", {"AdditionalDevice": [0, 3], "IsInactive": [False, True]}),
    ]
    assert partner.client.get(f"/api/subscriptions/{sid}").json()["data"]["Status"] == "Active"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("partner", "activate", "999999999"), "No partner 999999999."),
        (("partner", "deactivate", "999999999"), "No partner 999999999."),
        (("partner", "apikey", "999999999"), "No partner 999999999."),
        (
            ("partner", "create", "--name", "X", "--plan-type-id", "999999999"),
            "No plan type 999999999.",
        ),
        (("partner", "create", "--name", " "), "Name must be 1 to 100 characters."),
        (("plantype", "create", "--name", "x" * 101), "--name must be 1 to 100 characters."),
        (
            (
                "plan",
                "create",
                "--name",
                "P",
                "--plan-type-id",
                "999999999",
                "--device-limit",
                "1",
                "--storage-limit-gb",
                "1",
            ),
            "no plan type 999999999",
        ),
        (
            (
                "plan",
                "create",
                "--name",
                "P",
                "--plan-type-id",
                "1",
                "--device-limit",
                "0",
                "--storage-limit-gb",
                "1",
            ),
            "--device-limit must be between 1",
        ),
        (
            (
                "plan",
                "create",
                "--name",
                "P",
                "--plan-type-id",
                "1",
                "--device-limit",
                "1",
                "--storage-limit-gb",
                str(2**40),
            ),
            "--storage-limit-gb must be between 1",
        ),
        (("subscription", "set", "999999999", "--active"), "No subscription 999999999."),
        (
            ("subscription", "set", "1", "--additional-devices", "-1"),
            "--additional-devices must be",
        ),
    ],
)
def test_failures_print_one_line_and_exit_non_zero(
    args: tuple[str, ...],
    message: str,
    data_args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = invoke_raw(data_args, *args)
    assert result.exit_code != 0 and isinstance(result.exception, AppError)
    code, out, err = run_main(monkeypatch, capsys, *args, *data_args)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and message in err, err


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_explains_itself_with_an_example(command: tuple[str, str]) -> None:
    result = CliRunner(env=CLEAN_ENV).invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.stdout and f"cleverfox {' '.join(command)}" in result.stdout
    assert "--data-dir" in result.stdout and "--database-url" in result.stdout


def test_the_installed_command_in_a_real_process(tmp_path: Path, database_url: str | None) -> None:
    """``python -m cleverfox`` on a fresh data directory (and the run's database, if PostgreSQL)."""
    args = ["--data-dir", str(tmp_path / "data")]
    args += ["--database-url", database_url] if database_url else []
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}

    def cleverfox(*words: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cleverfox", *words, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    made = cleverfox("partner", "create", "--name", "Subprocess Partner", "--json")
    assert made.returncode == 0, made.stderr
    partner_id = json.loads(made.stdout)["PartnerId"]
    listed = cleverfox("partner", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "Subprocess Partner" in [
        p["Name"] for p in json.loads(listed.stdout) if p["PartnerId"] == partner_id
    ]
    failed = cleverfox("partner", "activate", "999999999")
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.splitlines() == ["error: No partner 999999999."]
