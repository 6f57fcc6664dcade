"""SQL Server items. ``sqlcmd`` is not on this machine: the command, its environment and the
T-SQL are checked as built, and the flow (version, backup, stream, delete) runs against a
stand-in ``sqlcmd`` script that writes the file a real server would."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.agent.db.databases import path_without, read_all

from cleverfox.agent.db import DumpFailed, open_dump
from cleverfox.agent.db.item import DatabaseItem
from cleverfox.agent.db.sqlserver import (
    backup_statement,
    connection_environment,
    parse_version,
    server_address,
    sqlcmd_command,
)

PASSWORD = "S3cret'pa$(ss)"

STAND_IN = f"""#!{sys.executable}
import json, os, re, sys
with open(os.environ["STAND_IN_LOG"], "a") as log:
    env = {{k: v for k, v in os.environ.items() if k.startswith("SQLCMD")}}
    log.write(json.dumps({{"argv": sys.argv, "env": env}}) + "\\n")
query = sys.argv[sys.argv.index("-Q") + 1]
mode = os.environ.get("STAND_IN_MODE", "ok")
if mode == "refuse":
    password = os.environ.get("SQLCMDPASSWORD")
    sys.stderr.write(f"Login failed for user 'sa' with {{password}}.\\n")
    sys.exit(1)
if "SERVERPROPERTY" in query:
    print("16.0.4135.4|Developer Edition (64-bit)")
    sys.exit(0)
target = re.search(r"TO DISK = N'((?:[^']|'')*)'", query).group(1).replace("''", "'")
if mode != "nofile":
    with open(target, "wb") as backup:
        backup.write(b"TAPE" + b"\\0" * 100_000)
print("BACKUP DATABASE successfully processed 13 pages in 0.01 seconds (10 MB/sec).")
"""


def database(**overrides: Any) -> DatabaseItem:
    return DatabaseItem.from_job_item(job_item(**overrides))


def job_item(**overrides: Any) -> dict[str, Any]:
    item = {
        "EngineId": "MSSQL",
        "ServerName": "db1",
        "DatabaseName": "Sales",
        "Port": 1433,
        "AuthenticationMode": "S",
        "Username": "backup_operator",
        "Password": PASSWORD,
        "OptionCompress": False,
        "OptionCopyOnly": False,
        "OptionLogOnly": False,
    }
    return {**item, **overrides}


@pytest.mark.parametrize(
    ("options", "statement"),
    [
        (
            {},
            "BACKUP DATABASE [Sales] TO DISK = N'D:\\w\\Sales.bak'"
            " WITH NO_COMPRESSION, INIT, FORMAT, CHECKSUM;",
        ),
        (
            {"OptionCopyOnly": True, "OptionCompress": True},
            "BACKUP DATABASE [Sales] TO DISK = N'D:\\w\\Sales.bak'"
            " WITH COPY_ONLY, COMPRESSION, INIT, FORMAT, CHECKSUM;",
        ),
        (
            {"OptionLogOnly": True},
            "BACKUP LOG [Sales] TO DISK = N'D:\\w\\Sales.bak'"
            " WITH NO_COMPRESSION, INIT, FORMAT, CHECKSUM;",
        ),
        (
            {"OptionLogOnly": True, "OptionCopyOnly": True, "OptionCompress": True},
            "BACKUP LOG [Sales] TO DISK = N'D:\\w\\Sales.bak'"
            " WITH COPY_ONLY, COMPRESSION, INIT, FORMAT, CHECKSUM;",
        ),
    ],
)
def test_the_backup_statement_follows_the_items_options(
    options: dict[str, bool], statement: str
) -> None:
    assert backup_statement(database(**options), "D:\\w\\Sales.bak") == statement


def test_names_and_paths_are_quoted_so_no_name_can_end_the_statement() -> None:
    statement = backup_statement(database(DatabaseName="x]; DROP TABLE t; --"), "C:\\it's\\x.bak")
    assert statement.startswith("BACKUP DATABASE [x]]; DROP TABLE t; --] TO DISK = ")
    assert "N'C:\\it''s\\x.bak'" in statement


@pytest.mark.parametrize(
    ("server", "port", "address"),
    [
        ("db1", 1433, "db1,1433"),
        ("db1", 14330, "db1,14330"),
        ("db1\\SQLEXPRESS", 1433, "db1\\SQLEXPRESS"),
        ("db1\\SQLEXPRESS", None, "db1\\SQLEXPRESS"),
        ("db1\\SQLEXPRESS", 50123, "db1\\SQLEXPRESS,50123"),
    ],
)
def test_a_named_instance_is_found_by_name_unless_a_port_is_given(
    server: str, port: int | None, address: str
) -> None:
    assert server_address(database(ServerName=server, Port=port)) == address


def test_sql_authentication_goes_through_the_environment_only() -> None:
    item = database()
    argv = sqlcmd_command("sqlcmd", item, "SELECT 1")
    assert argv == ["sqlcmd", "-b", "-r", "1", "-x", "-h", "-1", "-W", "-Q", "SELECT 1"]
    assert connection_environment(item) == {
        "SQLCMDSERVER": "db1,1433",
        "SQLCMDDBNAME": "master",
        "SQLCMDLOGINTIMEOUT": "30",
        "SQLCMDUSER": "backup_operator",
        "SQLCMDPASSWORD": PASSWORD,
    }


def test_windows_authentication_is_a_trusted_connection_with_no_login() -> None:
    item = database(AuthenticationMode="W", Username=None, Password=None)
    assert "-E" in sqlcmd_command("sqlcmd", item, "SELECT 1")
    assert not {"SQLCMDUSER", "SQLCMDPASSWORD"} & set(connection_environment(item))


def test_the_version_line_is_found_among_sqlcmd_messages() -> None:
    output = "Changed database context to 'master'.\n16.0.1000.6|Express Edition (64-bit)\n"
    assert parse_version(output) == ("16.0.1000.6", "Express Edition (64-bit)")
    assert parse_version("") == (None, None)


def test_no_sqlcmd_is_a_clear_failure(tmp_path: Path) -> None:
    with pytest.raises(DumpFailed, match=r"^sqlcmd is not installed \(not found on PATH\)$"):
        read_all(job_item(), tmp_path / "work", environ=path_without("sqlcmd"))


@pytest.fixture
def stand_in(tmp_path: Path) -> dict[str, str]:
    """An environment whose PATH finds the stand-in ``sqlcmd`` first; it logs to STAND_IN_LOG."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "sqlcmd"
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return {"PATH": str(folder), "STAND_IN_LOG": str(tmp_path / "calls.jsonl")}


def calls(env: dict[str, str]) -> list[dict[str, Any]]:
    lines = Path(env["STAND_IN_LOG"]).read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_the_backup_file_is_streamed_and_deleted_after(
    stand_in: dict[str, str], tmp_path: Path
) -> None:
    work_dir = tmp_path / "work"
    with open_dump(job_item(OptionLogOnly=True), work_dir=work_dir, environ=stand_in) as dump:
        (streamed,) = dump.files()
        body = streamed.stream.read()
    assert streamed.path == "Sales.trn"
    assert body == b"TAPE" + b"\0" * 100_000
    assert (dump.server_version, dump.server_edition) == (
        "16.0.4135.4",
        "Developer Edition (64-bit)",
    )
    assert list(work_dir.iterdir()) == []
    version, backup = calls(stand_in)
    assert backup["argv"][-1].startswith("BACKUP LOG [Sales] TO DISK = N'")
    for call in (version, backup):
        assert not any(PASSWORD in arg or "backup_operator" in arg for arg in call["argv"])
        assert call["env"]["SQLCMDPASSWORD"] == PASSWORD


def test_a_refused_login_fails_with_the_password_scrubbed(
    stand_in: dict[str, str], tmp_path: Path
) -> None:
    with pytest.raises(DumpFailed, match=r"sqlcmd failed \(exit code 1\): Login failed") as failed:
        read_all(job_item(), tmp_path / "work", environ={**stand_in, "STAND_IN_MODE": "refuse"})
    assert PASSWORD not in str(failed.value)
    assert "with ***." in str(failed.value)


def test_a_backup_that_wrote_no_file_is_a_failure(stand_in: dict[str, str], tmp_path: Path) -> None:
    with pytest.raises(DumpFailed, match="SQL Server wrote no file"):
        read_all(job_item(), tmp_path / "work", environ={**stand_in, "STAND_IN_MODE": "nofile"})
