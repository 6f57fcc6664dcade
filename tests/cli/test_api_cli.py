"""The partner's API commands: through click's runner against the real server, and as a
real ``python -m cleverfox`` process with credentials from the environment."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from tests.support.server import Partner, ServerProcess

from cleverfox.cli.api import exits
from cleverfox.cli.api.resources import RESOURCES
from cleverfox.cli.api.values import parse_duration, to_moment
from cleverfox.cli.main import cli
from cleverfox.client import errors

CLEAN_ENV = {name: None for name in os.environ if name.startswith("CLEVERFOX_")}


@pytest.fixture
def config_home(tmp_path: Path) -> Path:
    return tmp_path / "xdg"


@pytest.fixture
def env(server: ServerProcess, partner: Partner, config_home: Path) -> dict[str, str | None]:
    """Credentials as a script would give them: the environment."""
    return {
        **CLEAN_ENV,
        "XDG_CONFIG_HOME": str(config_home),
        "CLEVERFOX_URL": server.url,
        "CLEVERFOX_API_KEY": partner.api_key,
        "CLEVERFOX_FINGERPRINT": server.fingerprint,
    }


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def ok(env: dict[str, str | None], *args: str) -> Result:
    result = run(env, *args)
    assert result.exit_code == 0, result.output
    return result


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# -- the commands exist, with help and examples ----------------------------------------------


def all_commands() -> list[tuple[str, str]]:
    return [
        (group, command)
        for group in [r.name for r in RESOURCES] + ["config"]
        for command in cli.commands[group].commands  # type: ignore[attr-defined]
    ]


@pytest.mark.parametrize(("group", "command"), all_commands())
def test_every_command_has_help_with_examples(group: str, command: str) -> None:
    result = CliRunner().invoke(cli, [group, command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"cleverfox {group}" in result.output


def test_every_resource_and_action_of_the_sdk_has_its_command() -> None:
    verbs = {
        group: set(cli.commands[group].commands)
        for group in [r.name for r in RESOURCES]  # type: ignore[attr-defined]
    }
    assert verbs["companies"] == {"list", "get", "create", "update", "delete"}
    assert verbs["partners"] == {"list", "get", "update"}
    assert verbs["devices"] >= {"create", "rotate-key"}
    assert verbs["jobs"] >= {"run-now"}
    assert verbs["log-items"] == {"list", "get", "download"}
    assert all({"list", "get"} <= each for each in verbs.values())
    operator_names = {"partner", "plantype", "plan", "subscription"}
    assert operator_names <= set(cli.commands)  # the operator's are still there


# -- against the server ----------------------------------------------------------------------


def test_companies_every_verb(env: dict[str, str | None]) -> None:
    made = json.loads(
        ok(
            env, "companies", "create", "--name", "Acme Ltd", "--external-id", "CRM-7", "--json"
        ).stdout
    )
    ident = str(made["CompanyId"])
    listed = json_lines(ok(env, "companies", "list", "--external-id", "CRM-7", "--json"))
    assert [c["CompanyId"] for c in listed] == [made["CompanyId"]]
    table = ok(env, "companies", "list").stdout
    assert "Acme Ltd" in table and "CompanyId" in table
    changed = json.loads(
        ok(
            env, "companies", "update", ident, "--external-id", "", "--phone", "0123", "--json"
        ).stdout
    )
    assert (changed["ExternalId"], changed["Phone"]) == (None, "0123")
    assert "Acme Ltd" in ok(env, "companies", "get", ident).stdout
    assert f"Deleted company {ident}." in ok(env, "companies", "delete", ident).stdout
    assert run(env, "companies", "get", ident).exit_code == exits.EXIT_NOT_FOUND


def test_provision_rotate_and_run_now(env: dict[str, str | None], partner: Partner) -> None:
    company = str(partner.company_id)
    sub = json.loads(
        ok(
            env, "subscriptions", "create", "--company-id", company, "--plan-id", "3", "--json"
        ).stdout
    )
    device = json.loads(
        ok(
            env,
            "devices",
            "create",
            "--company-id",
            company,
            "--subscription-id",
            str(sub["SubscriptionId"]),
            "--name",
            "FS01",
            "--time-zone-id",
            "GMT Standard Time",
            "--send-notification-to",
            "a@acme.example",
            "--send-notification-to",
            "b@acme.example",
            "--json",
        ).stdout
    )
    assert device["SendNotificationTo"] == "a@acme.example\r\nb@acme.example"
    rotated = json.loads(ok(env, "devices", "rotate-key", str(device["DeviceId"]), "--json").stdout)
    assert rotated["ApiKey"] != device["ApiKey"]
    job = json.loads(
        ok(
            env,
            "jobs",
            "create",
            "--device-id",
            str(device["DeviceId"]),
            "--name",
            "Nightly",
            "--frequency",
            "monthly",
            "--day-of-month",
            "31",
            "--next-run-on",
            "2030-01-31T02:00",
            "--late-after",
            "60",
            "--every",
            "1",
            "--cloud-keep-last",
            "30",
            "--local-keep-last",
            "7",
            "--json",
        ).stdout
    )
    assert (job["Frequency"], job["DayOfMonth"]) == ("Monthy", 31)
    said = ok(env, "jobs", "run-now", str(job["JobId"])).stdout
    assert "run requested" in said
    items = json_lines(ok(env, "job-items", "list", "--job-id", str(job["JobId"]), "--json"))
    assert items == []


def test_logs_filters_take_durations_and_dates(env: dict[str, str | None]) -> None:
    assert ok(env, "logs", "list", "--job-status", "Failed", "--since", "24h").stdout.strip() == (
        "No logs."
    )
    assert (
        json_lines(ok(env, "logs", "list", "--since", "2020-01-01", "--until", "1h", "--json"))
        == []
    )
    bad = run(env, "logs", "list", "--since", "yesterday")
    assert bad.exit_code == exits.EXIT_USAGE and "--since" in bad.output


def test_catalogues_and_limit(env: dict[str, str | None]) -> None:
    zones = json_lines(ok(env, "time-zones", "list", "--limit", "3", "--json"))
    assert len(zones) == 3
    assert "America/New_York" in ok(env, "time-zones", "get", "Eastern Standard Time").stdout
    plans = json_lines(ok(env, "plans", "list", "--json"))
    assert {p["Name"] for p in plans} >= {"Small Plan", "Medium Plan", "Large Plan"}
    for group in (
        "plan-types",
        "backup-types",
        "event-types",
        "events",
        "partners",
        "partner-users",
        "company-users",
        "subscriptions",
        "devices",
        "jobs",
        "job-items",
        "log-items",
    ):
        ok(env, group, "list", "--limit", "2")


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["companies", "get", "999999999"], exits.EXIT_NOT_FOUND, "404 not_found"),
        (["companies", "create", "--name", "x" * 101], exits.EXIT_VALIDATION, "Name:"),
        (
            ["companies", "update", "1", "--api-key", "cfp_wrong", "--name", "x"],
            exits.EXIT_AUTH,
            "401",
        ),
        (["companies", "list", "--fingerprint", "00" * 32], exits.EXIT_TRANSPORT, "pinned"),
        (["companies", "update", "1"], exits.EXIT_USAGE, "nothing to change"),
        (["companies", "list", "--url", "http://127.0.0.1:1"], exits.EXIT_USAGE, "https"),
    ],
)
def test_failures_exit_with_their_code_and_one_line(
    env: dict[str, str | None], args: list[str], code: int, says: str
) -> None:
    result = run(env, *args)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    if code == exits.EXIT_USAGE:
        return  # click's runner prints usage; ``cleverfox`` itself prints one line (below)
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    if code != exits.EXIT_TRANSPORT:
        assert "request " in result.stderr


def test_a_conflict_exits_5(env: dict[str, str | None]) -> None:
    ok(env, "companies", "create", "--name", "One", "--external-id", "DUP-1")
    result = run(env, "companies", "create", "--name", "Two", "--external-id", "DUP-1")
    assert result.exit_code == exits.EXIT_CONFLICT
    assert "external_id_taken" in result.stderr


def test_a_token_makes_a_repeated_command_safe(env: dict[str, str | None]) -> None:
    first = json.loads(
        ok(env, "companies", "create", "--name", "Once", "--token", "cli-tok-1", "--json").stdout
    )
    again = json.loads(
        ok(env, "companies", "create", "--name", "Once", "--token", "cli-tok-1", "--json").stdout
    )
    assert again["CompanyId"] == first["CompanyId"]


# -- credentials -----------------------------------------------------------------------------


def test_no_credentials_is_a_usage_error(config_home: Path) -> None:
    result = run({**CLEAN_ENV, "XDG_CONFIG_HOME": str(config_home)}, "companies", "list")
    assert result.exit_code == exits.EXIT_USAGE
    assert "--url" in result.stderr


def set_profile(env: dict[str, str | None], server: ServerProcess, name: str, key: str) -> None:
    url, pin = server.url, server.fingerprint
    ok(env, "config", "set-profile", name, "--url", url, "--api-key", key, "--fingerprint", pin)


def test_profiles_are_saved_private_and_used(
    server: ServerProcess, partner: Partner, config_home: Path
) -> None:
    bare = {**CLEAN_ENV, "XDG_CONFIG_HOME": str(config_home)}
    set_profile(bare, server, "acme", partner.api_key)
    path = config_home / "cleverfox" / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "acme" in ok(bare, "config", "show").stdout
    assert partner.api_key not in ok(bare, "config", "show").stdout
    listed = json_lines(ok(bare, "partners", "list", "--profile", "acme", "--json"))
    assert [p["PartnerId"] for p in listed] == [partner.partner_id]
    assert run(bare, "partners", "list").exit_code == exits.EXIT_USAGE  # no 'default' profile
    assert run(bare, "partners", "list", "--profile", "nope").exit_code == exits.EXIT_USAGE


def test_flags_beat_environment_beat_profile(
    server: ServerProcess, partner: Partner, config_home: Path
) -> None:
    bare = {**CLEAN_ENV, "XDG_CONFIG_HOME": str(config_home)}
    set_profile(bare, server, "default", "cfp_wrong")
    assert run(bare, "partners", "list").exit_code == exits.EXIT_AUTH
    with_env = {**bare, "CLEVERFOX_API_KEY": partner.api_key}
    ok(with_env, "partners", "list")  # the environment's key, the profile's URL and pin
    assert run(with_env, "partners", "list", "--api-key", "cfp_wrong").exit_code == (
        exits.EXIT_AUTH
    )
    certificate = str(server.data_dir / "tls" / "server.crt")
    ok(with_env, "partners", "list", "--ca-file", certificate)  # trust taken as a whole


# -- a real process --------------------------------------------------------------------------


def cleverfox(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m cleverfox ARGS`` as a script runs it."""
    command = [sys.executable, "-m", "cleverfox", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def test_a_real_process_lists_as_json_lines(
    server: ServerProcess, partner: Partner, tmp_path: Path
) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}
    environment.update(
        XDG_CONFIG_HOME=str(tmp_path),
        CLEVERFOX_URL=server.url,
        CLEVERFOX_API_KEY=partner.api_key,
        CLEVERFOX_FINGERPRINT=server.fingerprint,
    )
    done = cleverfox(environment, "companies", "list", "--json")
    assert done.returncode == 0, done.stderr
    listed = [json.loads(line)["CompanyId"] for line in done.stdout.splitlines()]
    assert listed == [partner.company_id]
    assert done.stderr == ""  # no progress when stderr is not a terminal
    missing = cleverfox(environment, "devices", "get", "999999999")
    assert missing.returncode == exits.EXIT_NOT_FOUND
    assert missing.stderr.startswith("error: ") and "request " in missing.stderr
    assert len(missing.stderr.splitlines()) == 1
    usage = cleverfox(environment, "devices", "get", "not-a-number")
    assert usage.returncode == exits.EXIT_USAGE and len(usage.stderr.splitlines()) == 1


# -- units -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 5400),
        ("24h", 86400),
        ("7d", 604800),
        ("1d12h", 129600),
        ("2w", 1209600),
        ("30s", 30),
        ("1.5h", 5400),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    duration = parse_duration(text)
    assert duration is not None and duration.total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "h", "24", "24x", "1h 2", "yesterday"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_moments_take_iso_dates() -> None:
    assert str(to_moment("2026-03-01")) == "2026-03-01 00:00:00"
    assert str(to_moment("2026-03-01T02:00Z")) == "2026-03-01 02:00:00+00:00"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.AuthenticationError(401, "unauthorized", "x"), exits.EXIT_AUTH),
        (errors.PartnerPlanRequired(403, "partner_plan_required", "x"), exits.EXIT_AUTH),
        (errors.NotFound(404, "not_found", "x"), exits.EXIT_NOT_FOUND),
        (
            errors.DuplicateRequest(409, "duplicate_request", "x", resource="companies", id=1),
            exits.EXIT_CONFLICT,
        ),
        (errors.ValidationFailed(400, "validation_failed", "x"), exits.EXIT_VALIDATION),
        (errors.RateLimited(429, "rate_limited", "x", retry_after=2), exits.EXIT_RATE_LIMITED),
        (errors.PinMismatch("a", "b"), exits.EXIT_TRANSPORT),
        (errors.RequestTimeout("slow"), exits.EXIT_TRANSPORT),
        (errors.ServerError(500, "internal_error", "x"), exits.EXIT_API),
        (errors.UnexpectedResponse("odd", status=200, request_id=None), exits.EXIT_API),
    ],
)
def test_exit_codes_follow_the_exception_tree(error: errors.CleverFoxError, code: int) -> None:
    assert exits.exit_code_of(error) == code
    assert exits.failure(error).exit_code == code
