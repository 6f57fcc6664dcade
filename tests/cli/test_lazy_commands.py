"""The root of ``cleverfox`` imports a command only when it runs (issue 9, defect 7): the
partner's API commands never import the server, and ``cleverfox --help`` imports no command.

Measured on real processes that run ``cleverfox`` as ``python -m cleverfox`` does and write
their ``sys.modules`` when they exit (``-X importtime`` would miss the modules that
``importlib.import_module`` loads itself: the lazily loaded command modules).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from tests.support.server import Partner, ServerProcess

from cleverfox.cli.api.resources import RESOURCES
from cleverfox.cli.lazy import LazyGroup
from cleverfox.cli.main import API_COMMANDS, OPERATOR_COMMANDS, cli

SERVER_SIDE = (
    "cleverfox.server",
    "cleverfox.settings",
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "pydantic_settings",
)
"""What a partner's command must not import: the server and what only the server uses."""
ANY_COMMAND = ("cleverfox.cli.api", "cleverfox.cli.operator", "cleverfox.client", "httpx", "rich")
"""What ``cleverfox --help`` must not import either: any command, the SDK and its stack."""


PROBE = """
import atexit, json, runpy, sys
report = sys.argv.pop(1)
atexit.register(lambda: open(report, "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "cleverfox"
runpy.run_module("cleverfox", run_name="__main__", alter_sys=True)
"""


def imported(environment: dict[str, str], *args: str) -> tuple[set[str], str]:
    """The modules a ``cleverfox ARGS`` process imported, and its stdout."""
    report = Path(environment["XDG_CONFIG_HOME"]) / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(report), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(report.read_text())), done.stdout


def among(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    """The modules that are one of ``packages`` or inside one."""
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLEVERFOX_")}
    return {**clean, "XDG_CONFIG_HOME": str(tmp_path)}


def test_the_root_help_imports_no_command(environment: dict[str, str]) -> None:
    modules, out = imported(environment, "--help")

    assert among(modules, SERVER_SIDE + ANY_COMMAND) == []
    assert "cleverfox.cli.main" in modules
    for name in (*OPERATOR_COMMANDS, *API_COMMANDS):
        assert f"  {name} " in out


@pytest.mark.parametrize(
    "args",
    [("companies", "list", "--help"), ("logs", "list", "--help"), ("config", "show")],
    ids=" ".join,
)
def test_a_partner_command_imports_nothing_of_the_server(
    environment: dict[str, str], args: tuple[str, ...]
) -> None:
    modules, _ = imported(environment, *args)

    assert among(modules, SERVER_SIDE) == []
    assert "cleverfox.client" in modules


def test_a_partner_command_that_speaks_to_the_server_imports_nothing_of_it(
    environment: dict[str, str], server: ServerProcess, partner: Partner
) -> None:
    environment.update(
        CLEVERFOX_URL=server.url,
        CLEVERFOX_API_KEY=partner.api_key,
        CLEVERFOX_FINGERPRINT=server.fingerprint,
    )
    modules, out = imported(environment, "companies", "list", "--json")

    assert among(modules, SERVER_SIDE) == []
    assert f'"CompanyId":{partner.company_id}' in out


def test_an_operator_command_still_imports_what_it_runs(environment: dict[str, str]) -> None:
    modules, _ = imported(environment, "partner", "create", "--help")

    assert "cleverfox.cli.operator.admin" in modules
    assert among(modules, ("cleverfox.cli.api",)) == []


def test_the_root_names_every_command_with_the_help_the_command_gives() -> None:
    lazy = LazyGroup("probe", lazy={**OPERATOR_COMMANDS, **API_COMMANDS})

    for name, declared in lazy.commands.declared.items():
        command = lazy.commands[name]
        assert command.name == name
        assert command.get_short_help_str(1000) == declared.short_help, name
    assert set(API_COMMANDS) == {r.name for r in RESOURCES} | {"config"}


def test_the_root_help_is_what_click_prints_once_every_command_is_loaded() -> None:
    declared = {**OPERATOR_COMMANDS, **API_COMMANDS}
    loader = LazyGroup("cleverfox", lazy=declared)
    eager = click.Group("cleverfox", commands={name: loader.commands[name] for name in declared})
    fresh = LazyGroup("cleverfox", lazy=declared)

    def help_of(group: click.Group) -> str:
        return CliRunner().invoke(group, ["--help"], terminal_width=100).output

    assert help_of(fresh) == help_of(eager)
    assert fresh.commands.loaded == {}  # printing the help imported nothing


def test_an_unknown_command_suggests_a_declared_one() -> None:
    result = CliRunner().invoke(cli, ["compnies", "list"])

    assert result.exit_code == 2
    assert "companies" in result.output
