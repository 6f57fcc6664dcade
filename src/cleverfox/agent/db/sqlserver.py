"""SQL Server items: ``BACKUP DATABASE`` (or ``BACKUP LOG``) to a file through ``sqlcmd``.

SQL Server writes a backup only to a file (or a tape or virtual device), so the server writes
``<database>.bak`` (``.trn`` for a log backup) into a private folder under the agent's work
folder, the agent streams it into the backup and deletes it. The folder must be writable by
the SQL Server service account, so the agent and the server share the machine. Server, user
and password reach ``sqlcmd`` through its environment (``SQLCMDSERVER``, ``SQLCMDUSER``,
``SQLCMDPASSWORD``): its command line carries only options and the T-SQL, which holds no
credential. Windows authentication (``W``) is ``-E``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cleverfox.agent.db.item import OPERATING_SYSTEM, DatabaseItem
from cleverfox.agent.db.process import (
    OpenDump,
    Scrubber,
    find_tool,
    run_query,
    scratch_folder,
    tool_environment,
)
from cleverfox.agent.model import Dump, DumpFailed, StreamedFile

LOGIN_TIMEOUT_SECONDS = "30"
VERSION_QUERY = (
    "SET NOCOUNT ON; SELECT CONVERT(nvarchar(128), SERVERPROPERTY('ProductVersion'))"
    " + N'|' + CONVERT(nvarchar(128), SERVERPROPERTY('Edition'));"
)
MAX_VERSION_CHARS = 100


def quote_name(name: str) -> str:
    """A T-SQL identifier in brackets (``]`` doubled), safe for any database name."""
    return "[" + name.replace("]", "]]") + "]"


def quote_string(text: str) -> str:
    """A T-SQL Unicode literal (``'`` doubled)."""
    return "N'" + text.replace("'", "''") + "'"


def backup_statement(item: DatabaseItem, target: str) -> str:
    """The BACKUP statement for ``item``'s options (COPY_ONLY, COMPRESSION, log only).

    ``NO_COMPRESSION`` is explicit so a server whose default compresses still writes the
    uncompressed pages that deduplicate from run to run, unless the item asks otherwise.
    """
    kind = "LOG" if item.log_only else "DATABASE"
    options = ["COPY_ONLY"] if item.copy_only else []
    options += ["COMPRESSION" if item.compress else "NO_COMPRESSION", "INIT", "FORMAT", "CHECKSUM"]
    return (
        f"BACKUP {kind} {quote_name(item.database_name)} TO DISK = {quote_string(target)}"
        f" WITH {', '.join(options)};"
    )


def server_address(item: DatabaseItem) -> str:
    """``host,port``; a named instance (``host\\SQLEXPRESS``) keeps its name so the SQL
    Browser finds its port, unless the item gives a port other than the default."""
    if "\\" in item.server_name and item.port in (None, 1433):
        return item.server_name
    return f"{item.server_name},{item.port}"


def connection_environment(item: DatabaseItem) -> dict[str, str]:
    """The sqlcmd variables for ``item``: server, login and password, never on argv."""
    env = {
        "SQLCMDSERVER": server_address(item),
        "SQLCMDDBNAME": "master",
        "SQLCMDLOGINTIMEOUT": LOGIN_TIMEOUT_SECONDS,
    }
    if item.authentication_mode != OPERATING_SYSTEM:
        env["SQLCMDUSER"] = item.username or ""
        env["SQLCMDPASSWORD"] = item.password or ""
    return env


def sqlcmd_command(sqlcmd: str, item: DatabaseItem, query: str) -> list[str]:
    """``sqlcmd`` running ``query``: stop at the first error (``-b``) with a non-zero exit,
    errors to stderr (``-r 1``), no ``$(var)`` substitution in names (``-x``), bare output."""
    argv = [sqlcmd, "-b", "-r", "1", "-x", "-h", "-1", "-W"]
    if item.authentication_mode == OPERATING_SYSTEM:
        argv.append("-E")
    return [*argv, "-Q", query]


def backup_file_name(item: DatabaseItem) -> str:
    return f"{item.file_stem()}.{'trn' if item.log_only else 'bak'}"


def parse_version(output: str) -> tuple[str | None, str | None]:
    """``(ProductVersion, Edition)`` from the version query's ``a|b`` line."""
    lines = [line for line in output.splitlines() if "|" in line]
    version, _, edition = (lines[-1] if lines else "").partition("|")
    return (
        version.strip()[:MAX_VERSION_CHARS] or None,
        edition.strip()[:MAX_VERSION_CHARS] or None,
    )


@contextmanager
def open_sql_server_dump(
    item: DatabaseItem, *, work_dir: Path, environ: Mapping[str, str]
) -> Iterator[Dump]:
    """One file: the backup SQL Server wrote, streamed, then deleted with its folder."""
    sqlcmd = find_tool(["sqlcmd"], environ)
    scrub = Scrubber([item.password])
    env = tool_environment(environ, connection_environment(item))
    with scratch_folder(work_dir) as scratch:
        output = run_query(
            sqlcmd_command(sqlcmd, item, VERSION_QUERY), env, label="sqlcmd", scrub=scrub
        )
        version, edition = parse_version(output)
        target = scratch / backup_file_name(item)
        started = datetime.now(UTC)
        statement = backup_statement(item, str(target))
        run_query(
            sqlcmd_command(sqlcmd, item, statement), env, label="sqlcmd", scrub=scrub, timeout=None
        )
        if not target.is_file():
            raise DumpFailed(f"sqlcmd reported success but SQL Server wrote no file at {target}")
        with target.open("rb") as stream:
            yield OpenDump(version, edition, [StreamedFile(target.name, stream, started)])
