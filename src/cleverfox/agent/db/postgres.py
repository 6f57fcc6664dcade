"""PostgreSQL items: ``pg_dump`` in plain format, streamed from its stdout.

Plain SQL deduplicates from run to run (a 1 % change costs ~9 % new chunks, against 88 % for
the compressed custom format), so the dump is neither compressed nor reordered here; the
archive compresses the chunks it stores. Every connection setting goes through the child's
environment (``PGHOST``, ``PGPORT``, ``PGUSER``, ``PGDATABASE``) and the password through a
0600 passfile (``PGPASSFILE``), so the command line names nothing but options.
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
    ToolRun,
    find_tool,
    run_query,
    scratch_folder,
    tool_environment,
    write_secret_file,
)
from cleverfox.agent.model import Dump, DumpFailed, StreamedFile

PG_DUMP_OPTIONS = (
    "--format=plain",
    "--no-password",
    # Wait at most this long for a table's shared lock rather than hang behind a long DDL.
    "--lock-wait-timeout=300s",
)
VERSION_QUERY = "select current_setting('server_version') || '|' || version()"
CONNECT_TIMEOUT_SECONDS = "30"
MAX_VERSION_CHARS = 100


def connection_environment(item: DatabaseItem, passfile: Path | None) -> dict[str, str]:
    """The libpq variables that point a tool at ``item``'s database.

    OS authentication to this machine leaves ``PGHOST`` unset, so libpq uses the local socket
    (peer authentication); a remote server keeps its name (GSSAPI/SSPI, certificates).
    """
    env = {
        "PGDATABASE": item.database_name,
        "PGPORT": str(item.port),
        "PGCONNECT_TIMEOUT": CONNECT_TIMEOUT_SECONDS,
        "PGAPPNAME": "cleverfox-agent",
    }
    if not (item.authentication_mode == OPERATING_SYSTEM and item.is_local):
        env["PGHOST"] = item.server_name
    if item.username:
        env["PGUSER"] = item.username
    if passfile is not None:
        env["PGPASSFILE"] = str(passfile)
    return env


def passfile_line(password: str) -> str:
    """A ``.pgpass`` line matching any host, port, database and user, with ``password``."""
    if "\n" in password or "\r" in password:
        raise DumpFailed("The password contains a line break, which PostgreSQL tools cannot read")
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


def parse_version(output: str) -> tuple[str | None, str | None]:
    """``(server_version, version())`` from the version query's single line."""
    line = output.strip().splitlines()[-1] if output.strip() else ""
    version, _, banner = line.partition("|")
    return (version.strip()[:MAX_VERSION_CHARS] or None, banner.strip()[:MAX_VERSION_CHARS] or None)


@contextmanager
def open_postgres_dump(
    item: DatabaseItem, *, work_dir: Path, environ: Mapping[str, str]
) -> Iterator[Dump]:
    """One file, ``<database>.sql``: the plain dump as ``pg_dump`` writes it."""
    pg_dump = find_tool(["pg_dump"], environ)
    scrub = Scrubber([item.password])
    with scratch_folder(work_dir) as scratch:
        passfile = None
        if item.password is not None:
            passfile = write_secret_file(scratch, "pgpass", passfile_line(item.password))
        env = tool_environment(environ, connection_environment(item, passfile))
        version, edition = _server_version(env, environ, scrub)
        started = datetime.now(UTC)
        run = ToolRun([pg_dump, *PG_DUMP_OPTIONS], env, label="pg_dump", scrub=scrub)
        dump = OpenDump(
            version, edition, [StreamedFile(f"{item.file_stem()}.sql", run.stdout, started)]
        )
        try:
            yield dump
        except BaseException:
            run.stop()
            raise
        run.finish()


def _server_version(
    env: Mapping[str, str], environ: Mapping[str, str], scrub: Scrubber
) -> tuple[str | None, str | None]:
    """Ask the server first: a wrong password or database fails here, before any dump."""
    try:
        psql = find_tool(["psql"], environ)
    except DumpFailed:
        return None, None  # pg_dump alone still dumps; the version stays unknown
    argv = [psql, "--no-psqlrc", "--no-align", "--tuples-only", "--no-password"]
    output = run_query([*argv, "--command", VERSION_QUERY], env, label="psql", scrub=scrub)
    return parse_version(output)
