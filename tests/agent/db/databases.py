"""Scratch databases on this machine's real servers, made per test and dropped after.

PostgreSQL at 127.0.0.1:5432 (trust auth, database ``test``) and MariaDB at 127.0.0.1:3306
(root, no password); a test whose server is unreachable is skipped, not failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from cleverfox.agent.db import Dump, open_dump

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
MARIADB_HOST, MARIADB_PORT = "127.0.0.1", 3306
# Every character that needs quoting somewhere: a pgpass line, an option file, SQL, a shell.
AWKWARD_PASSWORD = "p:w\\d#x;y 'q\" $(z)"


@dataclass(frozen=True)
class Scratch:
    """One scratch database with a login that owns it."""

    database: str
    username: str
    password: str

    def item(self, engine: str, port: int, **overrides: Any) -> dict[str, Any]:
        """The check-in JobItem that dumps this database with password authentication."""
        item: dict[str, Any] = {
            "JobItemId": 1,
            "EngineId": engine,
            "ServerName": "127.0.0.1",
            "DatabaseName": self.database,
            "Port": port,
            "AuthenticationMode": "S",
            "Username": self.username,
            "Password": self.password,
            "OptionCompress": False,
            "OptionCopyOnly": False,
            "OptionLogOnly": False,
        }
        return {**item, **overrides}


def scratch_name(prefix: str) -> str:
    return f"{prefix}_{uuid4().hex[:12]}"


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_connect(database: str = "test") -> psycopg.Connection[Any]:
    url = POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + database
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


@pytest.fixture
def postgres_admin() -> Iterator[psycopg.Connection[Any]]:
    try:
        connection = postgres_connect()
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {error}")
    with connection:
        yield connection


@pytest.fixture
def postgres_scratch(postgres_admin: psycopg.Connection[Any]) -> Iterator[Scratch]:
    scratch = Scratch(scratch_name("cfx_dump"), scratch_name("cfx_role"), AWKWARD_PASSWORD)
    made = postgres_make(postgres_admin, scratch)
    yield scratch
    postgres_drop(postgres_admin, made, scratch.username)


def postgres_make(admin: psycopg.Connection[Any], scratch: Scratch) -> list[str]:
    admin.execute(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(scratch.username), sql.Literal(scratch.password)
        )
    )
    admin.execute(
        sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(scratch.database), sql.Identifier(scratch.username)
        )
    )
    return [scratch.database]


def postgres_drop(admin: psycopg.Connection[Any], databases: list[str], role: str) -> None:
    for database in databases:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
    admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def postgres_target(postgres_admin: psycopg.Connection[Any]) -> Iterator[str]:
    """An empty database to restore a dump into."""
    name = scratch_name("cfx_restore")
    postgres_admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    postgres_admin.execute(
        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    )


# --- MariaDB ------------------------------------------------------------------------------


def mariadb(statement: str, database: str | None = None, stdin: bytes | None = None) -> str:
    """Run SQL as root through the stock client; raises CalledProcessError on failure."""
    client = shutil.which("mariadb") or shutil.which("mysql")
    assert client is not None
    argv = [client, "-h", MARIADB_HOST, "-P", str(MARIADB_PORT), "-u", "root", "--batch", "-N"]
    if statement:
        argv += ["-e", statement]
    if database:
        argv.append(database)
    done = subprocess.run(argv, input=stdin, capture_output=True, check=True, timeout=120)
    return done.stdout.decode()


def mariadb_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


@pytest.fixture
def mariadb_root() -> None:
    if not (shutil.which("mariadb") or shutil.which("mysql")):
        pytest.skip("no MariaDB client on this machine")
    try:
        mariadb("SELECT 1")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"MariaDB is not reachable at 127.0.0.1:3306: {error}")


@pytest.fixture
def mariadb_scratch(mariadb_root: None) -> Iterator[Scratch]:
    scratch = Scratch(scratch_name("cfx_dump"), scratch_name("cfx_user")[:32], AWKWARD_PASSWORD)
    user = f"{mariadb_literal(scratch.username)}@'%'"
    mariadb(
        f"CREATE DATABASE `{scratch.database}`;"
        f" CREATE USER {user} IDENTIFIED BY {mariadb_literal(scratch.password)};"
        f" GRANT ALL ON `{scratch.database}`.* TO {user};"
    )
    yield scratch
    mariadb(f"DROP DATABASE IF EXISTS `{scratch.database}`; DROP USER IF EXISTS {user};")


@pytest.fixture
def mariadb_target(mariadb_root: None) -> Iterator[str]:
    name = scratch_name("cfx_restore")
    mariadb(f"CREATE DATABASE `{name}`")
    yield name
    mariadb(f"DROP DATABASE IF EXISTS `{name}`")


# --- processes ----------------------------------------------------------------------------


def children(name: str) -> list[int]:
    """This process's live children whose command is ``name`` (from ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, _, rest = stat.partition("(")[2].rpartition(")")
        fields = rest.split()
        if command == name and int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited and been reaped (no zombie left behind)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def path_without(*tools: str) -> dict[str, str]:
    """An environment whose PATH holds none of ``tools`` (but still the shell basics)."""
    folders = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder and not any((Path(folder) / tool).exists() for tool in tools):
            folders.append(folder)
    return {**os.environ, "PATH": os.pathsep.join(folders)}


# --- dumps --------------------------------------------------------------------------------


def read_all(
    item: dict[str, Any], work_dir: Path, environ: dict[str, str] | None = None
) -> tuple[dict[str, bytes], Dump]:
    """Open ``item``'s dump and read every file to its end: ``({path: bytes}, dump)``."""
    with open_dump(item, work_dir=work_dir, environ=environ) as dump:
        files = {streamed.path: streamed.stream.read() for streamed in dump.files()}
    return files, dump


def stop_midway(
    item: dict[str, Any], work_dir: Path, tool: str, pids: list[int], error: BaseException | None
) -> None:
    """Read 1000 bytes of the dump, note ``tool``'s pid in ``pids``, then leave the context
    by raising ``error`` (or normally, when it is None)."""
    with open_dump(item, work_dir=work_dir) as dump:
        (streamed,) = dump.files()
        streamed.stream.read(1000)
        pids += children(tool)
        if error is not None:
            raise error
