"""What the API commands say when they cannot do their work (issue 9, "the first hour"): the
URL a refused connection tried, the option a bad URL came from, how to trust a certificate
that was refused, and tables that are not cut when they are not written to a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.support.server import Partner, ServerProcess, free_port

from cleverfox.cli.api import exits
from cleverfox.cli.main import cli

CLEAN_ENV = {name: None for name in os.environ if name.startswith("CLEVERFOX_")}
LONG_NAME = "Consolidated Interplanetary Shipping and Receiving Company of the Outer Reaches"


@pytest.fixture
def env(server: ServerProcess, partner: Partner, tmp_path: Path) -> dict[str, str | None]:
    return {
        **CLEAN_ENV,
        "COLUMNS": None,
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "CLEVERFOX_URL": server.url,
        "CLEVERFOX_API_KEY": partner.api_key,
        "CLEVERFOX_FINGERPRINT": server.fingerprint,
    }


def run(env: dict[str, str | None], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env)


def one_line(result: Result) -> str:
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    return result.stderr


def test_a_refused_connection_names_the_url_it_tried(env: dict[str, str | None]) -> None:
    url = f"https://127.0.0.1:{free_port()}"

    result = run(env, "companies", "list", "--url", url)

    assert result.exit_code == exits.EXIT_TRANSPORT
    assert f"cannot connect to {url}: " in one_line(result)


@pytest.mark.parametrize(
    ("where", "named"),
    [("flag", "--url must be an https:// URL"), ("env", "CLEVERFOX_URL must be an https://")],
)
def test_a_url_that_is_not_https_is_about_where_it_was_given(
    env: dict[str, str | None], where: str, named: str
) -> None:
    url = "http://127.0.0.1:8443"
    args = ["--url", url] if where == "flag" else []

    result = run({**env, "CLEVERFOX_URL": url}, "companies", "list", *args)

    assert result.exit_code == exits.EXIT_USAGE
    assert named in result.stderr and repr(url) in result.stderr
    assert "base_url" not in result.stderr


def test_a_url_from_a_profile_names_the_profile(env: dict[str, str | None]) -> None:
    bare = {**env, "CLEVERFOX_URL": None, "CLEVERFOX_API_KEY": None}
    made = run(
        bare, "config", "set-profile", "acme", "--url", "backup.acme.example", "--api-key", "k"
    )
    assert made.exit_code == 0, made.output

    result = run(bare, "companies", "list", "--profile", "acme")

    assert result.exit_code == exits.EXIT_USAGE
    assert "url of profile 'acme' in " in result.stderr
    assert "must be an https:// URL" in result.stderr and "base_url" not in result.stderr


def test_a_bad_fingerprint_names_its_variable(env: dict[str, str | None]) -> None:
    result = run({**env, "CLEVERFOX_FINGERPRINT": "AB:CD"}, "companies", "list")

    assert result.exit_code == exits.EXIT_USAGE
    assert "CLEVERFOX_FINGERPRINT: a certificate fingerprint is 64 hex digits" in result.stderr


def test_a_self_signed_certificate_hints_at_its_fingerprint_and_the_ca_file(
    env: dict[str, str | None], server: ServerProcess
) -> None:
    result = run({**env, "CLEVERFOX_FINGERPRINT": None}, "companies", "list")

    assert result.exit_code == exits.EXIT_TRANSPORT
    said = one_line(result)
    assert said.startswith(f"error: {server.url}: TLS handshake failed")
    assert f"--fingerprint {server.fingerprint} " in said  # as the server printed it
    assert "--ca-file" in said


def test_a_pin_that_does_not_match_names_the_url(
    env: dict[str, str | None], server: ServerProcess
) -> None:
    result = run({**env, "CLEVERFOX_FINGERPRINT": "00" * 32}, "companies", "list")

    assert result.exit_code == exits.EXIT_TRANSPORT
    said = one_line(result)
    assert said.startswith(f"error: {server.url}: ") and "pinned" in said
    assert "--ca-file" not in said  # a pin that fails is not a certificate to trust


def test_a_table_not_written_to_a_terminal_is_as_wide_as_its_rows(
    env: dict[str, str | None], partner: Partner
) -> None:
    made = run(env, "companies", "create", "--name", LONG_NAME, "--external-id", "CRM-WIDE-1")
    assert made.exit_code == 0, made.output

    table = run(env, "companies", "list", "--external-id", "CRM-WIDE-1").stdout.splitlines()
    narrow = run({**env, "COLUMNS": "60"}, "companies", "list", "--external-id", "CRM-WIDE-1")

    assert len(table) == 2 and LONG_NAME in table[1] and "CRM-WIDE-1" in table[1]
    assert len(table[1].rstrip()) > 80
    assert all(len(line) <= 60 for line in narrow.stdout.splitlines())  # COLUMNS still wins


def test_a_real_process_piped_keeps_its_table_whole(
    env: dict[str, str | None], tmp_path: Path
) -> None:
    made = run(env, "companies", "create", "--name", LONG_NAME, "--external-id", "CRM-WIDE-2")
    assert made.exit_code == 0, made.output
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environment.update({k: v for k, v in env.items() if v is not None})
    command = [sys.executable, "-m", "cleverfox", "companies", "list", "--external-id"]

    done = subprocess.run(
        [*command, "CRM-WIDE-2"], capture_output=True, text=True, env=environment, timeout=60
    )

    assert done.returncode == 0, done.stderr
    _heading, row = done.stdout.splitlines()
    assert LONG_NAME in row and "CRM-WIDE-2" in row and row.rstrip().endswith("Z")
