"""MySQL/MariaDB items against the real MariaDB: stream, restore, credentials, failures."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tests.agent.db.databases import (
    Scratch,
    children,
    mariadb,
    path_without,
    process_gone,
    read_all,
    stop_midway,
)

from cleverfox.agent.db import Dump, DumpFailed, open_dump
from cleverfox.agent.db.item import DatabaseItem
from cleverfox.agent.db.mysql import defaults_file_text, dump_command, option_value

ROWS = 2_000
CANCEL = RuntimeError("cancelled")


def fill(scratch: Scratch, rows: int = ROWS, repeat: int = 1) -> None:
    mariadb(
        "CREATE TABLE items (id INT PRIMARY KEY, label TEXT NOT NULL, raw BLOB);"
        f" INSERT INTO items SELECT seq, REPEAT(MD5(seq), {repeat}), UNHEX(MD5(seq))"
        f" FROM seq_1_to_{rows};",
        scratch.database,
    )


def item(scratch: Scratch, **overrides: Any) -> dict[str, Any]:
    return scratch.item("MYSQL", 3306, **overrides)


def read_dump(scratch: Scratch, work_dir: Path, **overrides: Any) -> tuple[bytes, Dump]:
    files, dump = read_all(item(scratch, **overrides), work_dir)
    assert list(files) == [f"{scratch.database}.sql"]
    return files[f"{scratch.database}.sql"], dump


def checksum(database: str) -> str:
    return mariadb("CHECKSUM TABLE items; SELECT COUNT(*) FROM items;", database)


def test_a_dump_streams_one_row_per_insert_and_loads_back(
    mariadb_scratch: Scratch, mariadb_target: str, work_dir: Path
) -> None:
    fill(mariadb_scratch)
    body, dump = read_dump(mariadb_scratch, work_dir)
    assert body.count(b"INSERT INTO `items` VALUES") == ROWS  # --skip-extended-insert
    assert b"Dump completed" in body  # the tool's own end marker: the dump is whole
    assert dump.server_version and "MariaDB" in dump.server_version
    assert dump.server_edition
    assert list(work_dir.iterdir()) == []  # the defaults file went with the dump's folder

    mariadb("", mariadb_target, stdin=body)
    assert checksum(mariadb_target).split()[1:] == checksum(mariadb_scratch.database).split()[1:]


def test_an_unchanged_database_dumps_to_the_same_bytes(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    fill(mariadb_scratch)
    first, _ = read_dump(mariadb_scratch, work_dir)
    second, _ = read_dump(mariadb_scratch, work_dir)
    assert first == second


def test_the_password_is_in_no_argv_and_no_environment_of_the_running_tool(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    fill(mariadb_scratch, rows=20_000, repeat=4)  # far more than a pipe holds: the tool waits
    with open_dump(item(mariadb_scratch), work_dir=work_dir) as dump:
        (streamed,) = dump.files()
        streamed.stream.read(1)
        (pid,) = children("mariadb-dump")
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        modes = [stat.S_IMODE(p.stat().st_mode) for p in work_dir.rglob("*") if p.is_file()]
        streamed.stream.read()
    secret = mariadb_scratch.password.encode()
    assert argv[0].endswith(b"mariadb-dump")
    assert argv[1].startswith(b"--defaults-extra-file=")
    assert not any(secret in arg or mariadb_scratch.username.encode() in arg for arg in argv)
    assert secret not in environ
    assert modes == [0o600]


def test_a_wrong_password_fails_with_the_servers_message_and_no_password(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    wrong = "not-the-password-#1"
    with pytest.raises(DumpFailed, match="Access denied for user") as failed:
        read_dump(mariadb_scratch, work_dir, Password=wrong)
    assert wrong not in str(failed.value)
    assert mariadb_scratch.password not in str(failed.value)
    assert list(work_dir.iterdir()) == []


def test_a_missing_database_fails_when_the_context_exits(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    refused = r"mariadb-dump failed \(exit code 2\).*Access denied .* 'no_such_database'"
    with pytest.raises(DumpFailed, match=refused):
        read_dump(mariadb_scratch, work_dir, DatabaseName="no_such_database")


@pytest.mark.parametrize("tools", [("mariadb-dump", "mysqldump")])
def test_no_dump_tool_on_path_is_a_clear_failure(
    mariadb_scratch: Scratch, work_dir: Path, tools: tuple[str, ...]
) -> None:
    with pytest.raises(DumpFailed, match=r"^mariadb-dump or mysqldump is not installed"):
        read_all(item(mariadb_scratch), work_dir, environ=path_without(*tools))


def test_an_exception_while_reading_kills_and_reaps_the_tool(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    fill(mariadb_scratch, rows=20_000, repeat=4)
    pids: list[int] = []
    with pytest.raises(RuntimeError, match="cancelled"):
        stop_midway(
            item(mariadb_scratch), work_dir, "mariadb-dump", pids, RuntimeError("cancelled")
        )
    (pid,) = pids
    assert process_gone(pid)
    assert list(work_dir.iterdir()) == []


def test_leaving_the_context_before_the_end_is_a_failure_not_a_good_dump(
    mariadb_scratch: Scratch, work_dir: Path
) -> None:
    fill(mariadb_scratch, rows=20_000, repeat=4)
    pids: list[int] = []
    with pytest.raises(DumpFailed, match="mariadb-dump output was not read to its end"):
        stop_midway(item(mariadb_scratch), work_dir, "mariadb-dump", pids, None)
    (pid,) = pids
    assert process_gone(pid)


def option_file_reads_back(value: str, tmp_path: Path) -> str:
    """What the stock client makes of ``value`` written by :func:`option_value`."""
    cnf = tmp_path / "value.cnf"
    cnf.write_text(f"[client]\nuser={option_value(value)}\n", encoding="utf-8")
    done = subprocess.run(
        ["my_print_defaults", f"--defaults-file={cnf}", "client"],
        capture_output=True,
        check=True,
        text=True,
    )
    return done.stdout.removesuffix("\n").removeprefix("--user=")


@pytest.mark.parametrize(
    "value", ["plain", "#hash;semi", "q'u\"ote", "back\\slash", " spaced ", "tab\tx"]
)
def test_an_option_file_value_reads_back_exactly(value: str, tmp_path: Path) -> None:
    if subprocess.run(["which", "my_print_defaults"], capture_output=True).returncode:
        pytest.skip("my_print_defaults is not installed")
    assert option_file_reads_back(value, tmp_path) == value


def test_os_authentication_to_this_machine_uses_the_socket_and_no_password() -> None:
    database = DatabaseItem.from_job_item(
        {
            "EngineId": "MYSQL",
            "ServerName": "localhost",
            "DatabaseName": "shop",
            "AuthenticationMode": "W",
        }
    )
    assert defaults_file_text(database) == "[client]\n"


def test_the_dump_command_ends_options_before_the_database_name(tmp_path: Path) -> None:
    argv = dump_command("mariadb-dump", tmp_path / "c.cnf", "--all-databases")
    assert argv[1] == f"--defaults-extra-file={tmp_path / 'c.cnf'}"
    assert argv[-2:] == ["--", "--all-databases"]
